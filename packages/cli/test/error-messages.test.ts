import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, invae } from './helpers';

// Every error: one `invae: error:` line naming the user's path, one hint, no stack trace, no temporary name.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-errors-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sim = path.join(dir, 'sim.h5ad');
const folder = path.join(dir, 'folder.h5ad');
const failWrites = fileURLToPath(new URL('./fixtures/fail-writes.cjs', import.meta.url));

/** `invae ARGS` with writes of paths matching `pattern` failing with ENOSPC. */
function invaeDiskFull(args: string[], pattern: string) {
  const r = spawnSync(process.execPath, ['-r', failWrites, bin, ...args], { encoding: 'utf8', env: { ...process.env, INVAE_BACKEND: '', INVAE_TEST_FAIL_WRITES: pattern }, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLineError(stderr: string): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^invae: error: /);
  expect(lines[1]).toMatch(/^ {2}hint: /);
  expect(lines).toHaveLength(2);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr).not.toMatch(/\.tmp\b/);
}

beforeAll(() => {
  fs.mkdirSync(folder);
  expect(invae(['simulate', '--out', sim, '--cells', '120', '--genes', '30', '--batches', '2', '--programs', '2']).code).toBe(0);
});

describe('error messages', () => {
  it('a folder given as the input file is one clear line with a hint, for every command taking a file', () => {
    const model = path.join(dir, 'no-model');
    const commands = [
      ['info', folder],
      ['train', folder, '--spur', 'batch', '--out', path.join(dir, 'm')],
      ['train', folder, '--spur', 'batch', '--out', path.join(dir, 'm'), '--backed'],
      ['embed', model, folder, '--out', path.join(dir, 'e.h5ad')],
      ['predict', model, folder, '--out', path.join(dir, 'p.csv')],
      ['map', model, folder, '--out', path.join(dir, 'mapped')],
      ['bench', folder, '--batch', 'batch', '--label', 'cell_type', '--out', path.join(dir, 'b')],
      ['datasets', 'prepare', 'simulated', '--file', folder, '--out', path.join(dir, 'd.h5ad')],
    ];
    for (const args of commands) {
      const r = invae(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toContain(`invae: error: ${folder} is a folder, not an .h5ad file.`);
      expectOneLineError(r.stderr);
    }
    expect(fs.readdirSync(dir).sort()).toEqual(['folder.h5ad', 'sim.h5ad']);
  });

  it('a missing --gene-sets file is named, with a hint, before anything is read', () => {
    const r = invae(['train', sim, '--spur', 'batch', '--gene-sets', path.join(dir, 'programs.gmt'), '--out', path.join(dir, 'm')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`invae: error: --gene-sets ${path.join(dir, 'programs.gmt')}: no such file.`);
    expectOneLineError(r.stderr);
  });

  it('a full disk while bench writes its folder names the output, leaves no partial folder and no temporary file', () => {
    const out = path.join(dir, 'bench-out');
    const r = invaeDiskFull(['bench', sim, '--batch', 'batch', '--label', 'cell_type', '--methods', 'pca', '--no-umap', '--no-lobo', '--quiet', '--out', out], 'report\\.html$');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`invae: error: cannot write ${out}: no space left on the device (ENOSPC); nothing was written.`);
    expectOneLineError(r.stderr);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(dir).filter((n) => n.includes('bench-out'))).toEqual([]);
  }, 180_000);

  it('a full disk while a text output is written names the user file', () => {
    const gmt = path.join(dir, 'programs.gmt');
    const r = invaeDiskFull(['simulate', '--out', path.join(dir, 's2.h5ad'), '--cells', '60', '--genes', '40', '--programs', '2', '--programs-out', gmt], 'programs\\.gmt');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`invae: error: cannot write ${gmt}: no space left on the device (ENOSPC); nothing was written.`);
    expectOneLineError(r.stderr);
    expect(fs.existsSync(gmt)).toBe(false);
    expect(fs.readdirSync(dir).filter((n) => n.includes('programs.gmt') || n.includes('s2.h5ad'))).toEqual([]);
  });

  it('an --out whose folder is a file is refused with the path and a hint before anything runs', () => {
    const r = invae(['simulate', '--out', path.join(sim, 'x.h5ad'), '--cells', '50', '--genes', '10']);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr);
    expect(r.stderr).toContain(sim);
  });
});
