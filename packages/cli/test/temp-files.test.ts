import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { bin, invae, python } from './helpers';

// Atomic writes leave no temporary file behind: not on SIGINT/SIGTERM, not after a crash.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-temps-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const temps = (d: string) => fs.readdirSync(d).filter((n) => /\.tmp(\.|$)/.test(n));

function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

describe('temporary files', () => {
  it('SIGINT while simulate writes its .h5ad leaves no temporary file: the output is whole or absent', async () => {
    const out = path.join(dir, 'big.h5ad');
    const child = spawn(process.execPath, [bin, 'simulate', '--out', out, '--cells', '12000', '--genes', '400', '--seed', '2'], { env: { ...process.env, INVAE_BACKEND: '' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    // Wait for the write's temporary file to appear, then interrupt.
    let seen = false;
    const deadline = Date.now() + 150_000;
    while (!seen && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 20));
      seen = temps(dir).length > 0;
    }
    expect(seen, 'the temporary file of the write appeared').toBe(true);
    child.kill('SIGINT');
    const { code, signal } = await exited;
    // Not killed mid-write by the signal: h5wasm's write is synchronous, so the signal is handled
    // once it returns. Either the write was renamed into place first (exit 0, whole file), or the
    // handler removed the temporary file (exit 130, no output).
    expect(signal).toBeNull();
    expect([0, 130]).toContain(code);
    if (code === 130) expect(stderr).toContain('invae: interrupted (SIGINT)');
    expect(temps(dir)).toEqual([]);
    expect(fs.existsSync(`${out}.lock`)).toBe(false);
    if (code === 0 || fs.existsSync(out)) expect(python<number[]>('a = anndata.read_h5ad(sys.argv[1]); print(json.dumps(list(a.shape)))', [out])).toEqual([12000, 400]);
  }, 200_000);

  it('SIGTERM during training with checkpoints exits 143, releases the lock and leaves no temporary folder', async () => {
    const sim = path.join(dir, 'train-sim.h5ad');
    expect(invae(['simulate', '--out', sim, '--cells', '200', '--genes', '30', '--batches', '2']).code).toBe(0);
    const model = path.join(dir, 'interrupted-model');
    const child = spawn(process.execPath, [bin, 'train', sim, '--inv', 'cell_type', '--spur', 'batch', '--out', model, '--epochs', '5000', '--checkpoint-every', '1', '--hidden', '8', '--quiet'], {
      env: { ...process.env, INVAE_BACKEND: '' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + 120_000;
    while (!fs.existsSync(model) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    expect(fs.existsSync(model), stderr).toBe(true);
    child.kill('SIGTERM');
    const { code, signal } = await exited;
    expect(signal).toBeNull();
    expect(code).toBe(143);
    expect(stderr).toContain('invae: interrupted (SIGTERM)');
    expect(fs.existsSync(`${model}.lock`)).toBe(false);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('interrupted-model.'))).toEqual([]);
    // The last checkpoint is a whole model directory.
    expect(fs.readdirSync(model).sort()).toEqual(['history.json', 'loss.png', 'loss.svg', 'model.json', 'weights.safetensors']);
  }, 200_000);

  it('Ctrl-C (SIGINT) stops a training without checkpoints at the next epoch: exit 130, lock released', async () => {
    const sim = path.join(dir, 'sigint-sim.h5ad');
    expect(invae(['simulate', '--out', sim, '--cells', '200', '--genes', '30', '--batches', '2']).code).toBe(0);
    const model = path.join(dir, 'sigint-model');
    const child = spawn(process.execPath, [bin, 'train', sim, '--inv', 'cell_type', '--spur', 'batch', '--out', model, '--epochs', '100000', '--hidden', '8'], {
      env: { ...process.env, INVAE_BACKEND: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + 120_000;
    // training has started once the first epoch's progress line is printed (stderr, not a TTY)
    while (!/epoch 1\//.test(stderr) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    expect(stderr, stdout).toMatch(/epoch 1\//);
    const sent = Date.now();
    child.kill('SIGINT');
    const { code } = await exited;
    expect(code, stderr).toBe(130);
    expect(Date.now() - sent).toBeLessThan(30_000);
    expect(stderr).toContain('invae: interrupted (SIGINT)');
    expect(fs.existsSync(`${model}.lock`)).toBe(false);
    expect(fs.existsSync(model)).toBe(false);
  }, 200_000);

  it('stale temporary files of a crashed run (dead pid) are removed and reported; those of live processes are kept', () => {
    const pid = deadPid();
    const staleFile = path.join(dir, `.old.h5ad.${pid}.0123456789ab.tmp`);
    const staleCopy = path.join(dir, `.copy.h5ad.${pid}.a1b2c3d4.tmp.h5ad`);
    const staleDir = path.join(dir, `.bench-out.${pid}.abcdef012345.tmp`);
    const live = path.join(dir, `.other.h5ad.${process.pid}.0123456789ab.tmp`);
    fs.writeFileSync(staleFile, 'partial');
    fs.writeFileSync(staleCopy, 'partial');
    fs.mkdirSync(staleDir);
    fs.writeFileSync(path.join(staleDir, 'results.json'), '{');
    fs.writeFileSync(live, 'being written');
    const r = invae(['simulate', '--out', path.join(dir, 'fresh.h5ad'), '--cells', '50', '--genes', '10']);
    expect(r.code, r.stderr).toBe(0);
    for (const p of [staleFile, staleCopy, staleDir]) {
      expect(fs.existsSync(p)).toBe(false);
      expect(r.stderr).toContain(`invae: removed ${p}, a temporary file of`);
    }
    expect(r.stderr).toContain(`left by an interrupted run (pid ${pid})`);
    expect(fs.existsSync(live)).toBe(true);
    fs.rmSync(live);
  });

  it('stale save folders of an interrupted train are removed when the model directory is claimed', () => {
    const sim = path.join(dir, 'sim.h5ad');
    expect(invae(['simulate', '--out', sim, '--cells', '120', '--genes', '20', '--batches', '2']).code).toBe(0);
    const model = path.join(dir, 'model');
    const pid = deadPid();
    // The save's temporary folder (@invae/common's name pattern) and a moved-aside old model of a run that
    // crashed between its two renames: the first is removed, the second holds the last model and is kept.
    const stale = path.join(dir, `.model.${pid}.0123456789ab.tmp`);
    fs.mkdirSync(stale);
    fs.writeFileSync(path.join(stale, 'weights.safetensors'), 'partial');
    const aside = `${model}.0123456789ab.old`;
    fs.mkdirSync(aside);
    fs.writeFileSync(path.join(aside, 'model.json'), '{}');
    const args = ['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--out', model, '--epochs', '1', '--hidden', '8', '--latent-inv', '2', '--quiet'];
    const r = invae(args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`invae: removed ${stale}, a temporary file of ${model} left by an interrupted run (pid ${pid}).`);
    expect(r.stderr).toContain(`invae: warning: ${aside} holds the model an interrupted run was replacing; rename it to ${model} to keep it.`);
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(aside)).toBe(true);
    // With the model directory there, the moved-aside copy is an older model and goes at the next claim.
    const again = invae([...args, '--overwrite']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`invae: removed ${aside}, a temporary folder of ${model} left by an interrupted run.`);
    expect(fs.existsSync(aside)).toBe(false);
    expect(fs.readdirSync(dir).filter((n) => n.includes('.tmp') || n.endsWith('.old'))).toEqual([]);
  }, 120_000);
});
