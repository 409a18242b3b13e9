import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Repository root (two levels above this package). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The read-only shared reference data beside the clone (INVAE_SHARED overrides). */
export const sharedDir = process.env.INVAE_SHARED ? path.resolve(process.env.INVAE_SHARED) : path.resolve(repoRoot, '../shared');

/** Debian python with anndata 0.8 + h5py: the independent judge. */
export const PYTHON = '/usr/bin/python3';

/** Runs a python script from test/python and returns stdout (throws with stderr on failure). */
export function runPython(script: string, args: string[]): string {
  const r = spawnSync(PYTHON, [path.join(path.dirname(fileURLToPath(import.meta.url)), 'python', script), ...args], {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    cwd: os.tmpdir(),
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A fresh temporary folder. */
export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `invae-io-${prefix}-`));
}
