import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { judgePython, needsPython } from '../../../test-support/index';

/** The built CLI entry point. */
export const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/** Debian's Python, with anndata 0.8 and h5py: an independent judge of the files invae writes. */
export const PYTHON = judgePython;

/** Gate for tests that call `python` (anndata and what it needs): skipped, or failing under INVAE_REQUIRE_SHARED=1, without them. */
export const anndataJudge = needsPython('numpy', 'scipy', 'pandas', 'h5py', 'anndata');

export { needsPython, needsShared, sharedFile } from '../../../test-support/index';

/**
 * Python prelude for the judge. Its only accommodation: anndata 0.8 wants the categorical `ordered`
 * attribute as a real bool; h5wasm writes it as int8 (anndata ≥ 0.9 reads that as is).
 */
export const ANNDATA_JUDGE_PRELUDE = `
import json, sys
import numpy as np, scipy.sparse as sp, anndata
from anndata._io.specs import methods as _m
_orig = _m._read_attr
def _read_attr(attrs, name, *a, **k):
    v = _orig(attrs, name, *a, **k)
    return bool(v) if name == "ordered" else v
_m._read_attr = _read_attr
`;

/** Runs `invae ARGS` (engine auto unless `env` says otherwise) and returns its exit code and output. */
export function invae(args: string[], env: Record<string, string> = {}, timeout = 180_000) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, INVAE_BACKEND: '', ...env }, timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a Python script with the judge prelude and `args`; parses the JSON it prints. */
export function python<T = unknown>(script: string, args: string[]): T {
  const r = spawnSync(PYTHON, ['-c', ANNDATA_JUDGE_PRELUDE + script, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`python judge failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
