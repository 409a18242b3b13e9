// What the tests may need from outside the repository, found in one place: the shared real-data folder
// beside the clone (../shared, or $INVAE_SHARED) and the Python judges (python3 with numpy, scipy, anndata…).
// Plain JavaScript so both the vitest gates (./gates.ts) and scripts/test-env-hash.mjs (Nx's `runtime`
// input for the test target) use the same answers.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const workspaceRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The variable that turns every gated test mandatory (`.ci/run` sets it to 1). */
export const REQUIRE_VAR = 'INVAE_REQUIRE_SHARED';

/** True when missing shared data or Python judges must fail the tests instead of skipping them. */
export function inputsRequired(env = process.env) {
  return env[REQUIRE_VAR] === '1';
}

/** The read-only shared folder: $INVAE_SHARED, else `shared` beside the repository. */
export const sharedDir = process.env.INVAE_SHARED ? path.resolve(process.env.INVAE_SHARED) : path.resolve(workspaceRoot, '../shared');

/**
 * A path inside the shared folder; `envVar`, when set in the environment, overrides it (resolved
 * against the repository root, as INVAE_PARITY_DIR and INVAE_H5AD_FIXTURES always were).
 */
export function sharedPath(rel, envVar) {
  const v = envVar ? process.env[envVar] : undefined;
  return v ? path.resolve(workspaceRoot, v) : path.join(sharedDir, rel);
}

/** The judge: $INVAE_JUDGE_PYTHON, else Debian's /usr/bin/python3, else python3 on the PATH. */
export const judgePython = process.env.INVAE_JUDGE_PYTHON || (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

/** Every module some judge imports, with the Debian package that provides it. */
export const JUDGE_MODULES = {
  numpy: 'python3-numpy',
  scipy: 'python3-scipy',
  pandas: 'python3-pandas',
  sklearn: 'python3-sklearn',
  h5py: 'python3-h5py',
  hdf5plugin: 'python3-hdf5plugin',
  anndata: 'python3-anndata',
  PIL: 'python3-pil',
};

let probed; // module -> installed?; null when the interpreter does not run

/** Which of `modules` the judge python lacks (all of them, with `python: false`, when it does not run). */
export function missingPythonModules(modules) {
  if (probed === undefined) {
    const names = Object.keys(JUDGE_MODULES);
    const r = spawnSync(
      judgePython,
      ['-c', 'import sys, importlib.util as u\nprint(" ".join("1" if u.find_spec(m) else "0" for m in sys.argv[1:]))', ...names],
      { encoding: 'utf8', timeout: 30_000 },
    );
    const flags = r.status === 0 ? r.stdout.trim().split(' ') : null;
    probed = flags && flags.length === names.length ? new Map(names.map((m, i) => [m, flags[i] === '1'])) : null;
  }
  if (probed === null) return { python: false, modules: [...modules] };
  for (const m of modules) if (!probed.has(m)) throw new Error(`test-support: add Python module '${m}' to JUDGE_MODULES in test-support/env.mjs`);
  return { python: true, modules: modules.filter((m) => !probed.get(m)) };
}

/** The snakemake command of the workflow tests: $INVAE_SNAKEMAKE, else `snakemake` on the PATH. */
export const snakemakeCommand = process.env.INVAE_SNAKEMAKE || 'snakemake';

let snakemakeProbe; // version string, or null when snakemake does not run

/** The version of {@link snakemakeCommand}, or null when it does not run. */
export function snakemakeVersion() {
  if (snakemakeProbe === undefined) {
    const r = spawnSync(snakemakeCommand, ['--version'], { encoding: 'utf8', timeout: 60_000 });
    snakemakeProbe = r.status === 0 ? r.stdout.trim() : null;
  }
  return snakemakeProbe;
}

/**
 * One line describing what this machine offers the tests: whether the shared folder and its parts exist
 * and which judge modules python has. Nx hashes it (scripts/test-env-hash.mjs) so results of a clone
 * with ../shared are never replayed for one without.
 */
export function testEnvironment() {
  const parts = ['data', 'anndata-fixtures', 'parity'].map((p) => `${p}=${fs.existsSync(path.join(sharedDir, p)) ? 1 : 0}`);
  const py = missingPythonModules(Object.keys(JUDGE_MODULES));
  const have = py.python ? Object.keys(JUDGE_MODULES).filter((m) => !py.modules.includes(m)) : [];
  return `shared=${fs.existsSync(sharedDir) ? 1 : 0} ${parts.join(' ')} snakemake=${snakemakeVersion() ?? 0} python=${py.python ? 1 : 0} modules=${have.join(',')}`;
}
