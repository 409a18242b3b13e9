import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, invae } from './helpers';

// Outputs are never clobbered or raced, and nothing is written before the inputs are validated.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-outputs-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sim = path.join(dir, 'sim.h5ad');
const small = ['--epochs', '2', '--hidden', '8', '--latent-inv', '2', '--latent-spur', '1', '--batch-size', '64'];

/** Runs `invae ARGS` without waiting (so two runs overlap); resolves to its exit code and stderr. */
function invaeAsync(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { env: { ...process.env, INVAE_BACKEND: '' } });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

/** The pid of a process that has exited (a dead pid for stale locks and temporary files). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

beforeAll(() => {
  const r = invae(['simulate', '--out', sim, '--cells', '200', '--genes', '30', '--batches', '2', '--cell-types', '2', '--seed', '1']);
  expect(r.code, r.stderr).toBe(0);
});

describe('outputs are never clobbered or raced', () => {
  it('two concurrent train runs to one --out: exactly one succeeds, the other fails clearly', async () => {
    const out = path.join(dir, 'raced-model');
    const args = ['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--out', out, '--quiet', ...small];
    const [a, b] = await Promise.all([invaeAsync(args), invaeAsync(args)]);
    const codes = [a.code, b.code].sort();
    expect(codes[0], a.stderr + b.stderr).toBe(0);
    expect(codes[1]).toBe(1);
    const loser = a.code === 0 ? b : a;
    expect(loser.stderr).toMatch(/raced-model is being written by another invae run \(pid \d+\)\./);
    expect(loser.stderr).toContain('hint:');
    expect(fs.readdirSync(out).sort()).toEqual(['history.json', 'loss.png', 'loss.svg', 'model.json', 'weights.safetensors']);
    expect(fs.existsSync(`${out}.lock`)).toBe(false);
  }, 240_000);

  it('a live lock refuses the output; a stale lock (dead pid) is reported and taken over', () => {
    const out = path.join(dir, 'locked.h5ad');
    fs.writeFileSync(`${out}.lock`, `${process.pid}\n`);
    const held = invae(['simulate', '--out', out, '--cells', '50', '--genes', '10']);
    expect(held.code).toBe(1);
    expect(held.stderr).toContain(`is being written by another invae run (pid ${process.pid})`);
    expect(fs.existsSync(out)).toBe(false);
    const pid = deadPid();
    fs.writeFileSync(`${out}.lock`, `${pid}\n`);
    const stale = invae(['simulate', '--out', out, '--cells', '50', '--genes', '10']);
    expect(stale.code, stale.stderr).toBe(0);
    expect(stale.stderr).toContain(`taking over the stale lock ${out}.lock of an interrupted run (pid ${pid})`);
    expect(fs.existsSync(out)).toBe(true);
    expect(fs.existsSync(`${out}.lock`)).toBe(false);
  });

  it('simulate --out EXISTING needs --overwrite and leaves the file untouched without it', () => {
    const out = path.join(dir, 'existing.h5ad');
    fs.writeFileSync(out, 'keep me');
    const r = invae(['simulate', '--out', out, '--cells', '50', '--genes', '10']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`invae: error: ${out} already exists.`);
    expect(r.stderr).toContain('hint: choose another --out, or pass --overwrite to replace it');
    expect(fs.readFileSync(out, 'utf8')).toBe('keep me');
    const programs = path.join(dir, 'existing.gmt');
    fs.writeFileSync(programs, 'keep me too');
    const p = invae(['simulate', '--out', path.join(dir, 'new.h5ad'), '--programs', '2', '--programs-out', programs, '--cells', '50', '--genes', '40']);
    expect(p.code).toBe(1);
    expect(p.stderr).toContain(`${programs} already exists.`);
    expect(fs.existsSync(path.join(dir, 'new.h5ad'))).toBe(false);
    const o = invae(['simulate', '--out', out, '--cells', '50', '--genes', '10', '--overwrite']);
    expect(o.code, o.stderr).toBe(0);
    expect(fs.readFileSync(out).subarray(1, 4).toString()).toBe('HDF');
  });

  it('bench --out EXISTING needs --overwrite and fails before reading or training', () => {
    const out = path.join(dir, 'bench-existing');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'mine.txt'), 'keep');
    const r = invae(['bench', sim, '--batch', 'batch', '--label', 'cell_type', '--out', out, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${out} already exists.`);
    expect(r.stderr).toContain('--overwrite');
    expect(fs.readdirSync(out)).toEqual(['mine.txt']);
  });

  it('predict --label MISSING fails before writing its output', () => {
    const model = path.join(dir, 'model');
    const t = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--out', model, '--predict', 'cell_type', '--quiet', ...small]);
    expect(t.code, t.stderr).toBe(0);
    for (const name of ['p.csv', 'p.h5ad']) {
      const out = path.join(dir, name);
      const r = invae(['predict', model, sim, '--out', out, '--label', 'missing']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("obs has no column 'missing'");
      expect(fs.existsSync(out)).toBe(false);
    }
    expect(fs.readdirSync(dir).filter((n) => n.includes('.tmp') || n.endsWith('.lock'))).toEqual([]);
  }, 120_000);

  it('train --predict MISSING fails before training or writing a checkpoint', () => {
    const out = path.join(dir, 'never');
    const r = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--out', out, '--predict', 'missing', '--checkpoint-every', '1', ...small]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("obs has no column 'missing'");
    expect(r.stderr).not.toContain('epoch');
    expect(fs.existsSync(out)).toBe(false);
  });

  it('datasets prepare --out EXISTING needs --overwrite', () => {
    const out = path.join(dir, 'prepared.h5ad');
    fs.writeFileSync(out, 'keep me');
    const r = invae(['datasets', 'prepare', 'simulated', '--out', out, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`already exists.`);
    expect(fs.readFileSync(out, 'utf8')).toBe('keep me');
  });
});
