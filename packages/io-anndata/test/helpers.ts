import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { judgePython, needsPython, scratchDirs } from '../../../test-support/index';

/** Repository root (two levels above this package). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The read-only shared reference data beside the clone (INVAE_SHARED overrides) and the gates on it. */
export { sharedDir, needsShared, needsPython } from '../../../test-support/index';

/** Debian python with anndata 0.8 + h5py: the independent judge. */
export const PYTHON = judgePython;

/** The judge of what we write: test/python/dump_h5ad.py (anndata, pandas, scipy). */
export const anndataJudge = needsPython('numpy', 'scipy', 'pandas', 'h5py', 'anndata');
/** The fixture builder test/python/make_fixtures.py and list_h5.py (h5py). */
export const h5pyJudge = needsPython('numpy', 'h5py');

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

// the temporary folders of the test file importing this module, removed after its tests
const scratch = scratchDirs('invae-io');

/** A fresh temporary folder (removed with the others after the test file). */
export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(scratch.root, `${prefix}-`));
}
