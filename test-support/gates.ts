/**
 * Gates for tests that need something from outside the repository: the shared real-data folder
 * (`../shared` beside the clone, or `$INVAE_SHARED`) or a Python judge (python3 with numpy, anndata…).
 *
 * When something is missing a gated test is reported by vitest as skipped, with the reason attached
 * (the summary reporter in ./reporter.ts prints one line per package run). With
 * `INVAE_REQUIRE_SHARED=1` (set by `.ci/run`) nothing is skipped: a gated test fails with a message
 * that says what is missing and how to provide it.
 *
 * Import it by relative path (`../../../test-support/index.ts`); it is no package, so nothing is published.
 */
import { beforeAll, describe, it, type TestFunction } from 'vitest';
import { inputsRequired, judgePython, JUDGE_MODULES, missingPythonModules, REQUIRE_VAR, sharedDir, sharedPath, snakemakeCommand, snakemakeVersion, type JudgeModule } from './env.mjs';

export { snakemakeCommand };
import fs from 'node:fs';
import path from 'node:path';
import { referencePython, referenceUnavailable } from '../scripts/bench-perf-reference.mjs';

declare module 'vitest' {
  interface TaskMeta {
    /** Why a gated test was skipped: what is missing (set by test-support's gates). */
    invaeMissing?: string[];
    /** The skipped test is opt-in (an optional gate): INVAE_REQUIRE_SHARED=1 does not make it fail. */
    invaeOptional?: boolean;
  }
}

/** A gated test ran under INVAE_REQUIRE_SHARED=1 without what it needs. */
export class MissingTestInputError extends Error {
  override name = 'MissingTestInputError';
}

/** What a group of tests needs; `missing` lists what this machine lacks (empty: run them). */
export class Gate {
  /**
   * @param missing what this machine lacks (empty: run the tests)
   * @param optional the tests are opt-in (e.g. they need something the repository never holds, named by
   *   an unset environment variable): skipped even under INVAE_REQUIRE_SHARED=1
   */
  constructor(
    readonly missing: readonly string[],
    readonly optional = false,
  ) {}

  /** Nothing is missing. */
  get ok(): boolean {
    return this.missing.length === 0;
  }

  /** The gated tests are skipped: something is missing and INVAE_REQUIRE_SHARED is not 1. */
  get skip(): boolean {
    return !this.ok && (this.optional || !inputsRequired());
  }

  /** What is missing, in one phrase. */
  get reason(): string {
    return this.missing.join('; ');
  }

  /** A gate that needs what this one and `other` need. */
  and(other: Gate): Gate {
    return new Gate([...this.missing, ...other.missing.filter((m) => !this.missing.includes(m))], this.optional && other.optional);
  }

  /** The error a gated test fails with under INVAE_REQUIRE_SHARED=1. */
  error(): MissingTestInputError {
    return new MissingTestInputError(`${REQUIRE_VAR}=1 makes this test mandatory, but ${this.reason}`);
  }

  /** Throws when something is missing (for helpers that call a judge or open a shared file). */
  assert(): void {
    if (!this.ok) throw this.error();
  }

  /** `it`, gated. */
  it(name: string, fn: TestFunction, timeout?: number): void {
    if (this.ok) it(name, fn, timeout);
    else if (this.skip) it(name, { skip: true, meta: { invaeMissing: [...this.missing], invaeOptional: this.optional } }, fn);
    else {
      const err = this.error();
      it(name, () => {
        throw err;
      });
    }
  }

  /** `describe`, gated: every test inside is skipped; under INVAE_REQUIRE_SHARED=1 one failing test stands for them. */
  describe(name: string, fn: () => void): void {
    if (this.ok) describe(name, fn);
    else if (this.skip) describe(name, { skip: true, meta: { invaeMissing: [...this.missing], invaeOptional: this.optional } }, fn);
    else {
      const err = this.error();
      describe(name, () => {
        it('has what it needs', () => {
          throw err;
        });
      });
    }
  }

  /** `beforeAll`, registered only when nothing is missing (its gated tests do not run otherwise). */
  beforeAll(fn: () => unknown, timeout?: number): void {
    if (this.ok) beforeAll(fn as never, timeout);
  }
}

export { inputsRequired, judgePython, REQUIRE_VAR, sharedDir, sharedPath, type JudgeModule };

/** A shared path: a path relative to the shared folder, optionally overridden by an environment variable. */
export type SharedItem = string | { rel: string; env: string };

/** The absolute path of a shared item. */
export function sharedFile(item: SharedItem): string {
  return typeof item === 'string' ? sharedPath(item) : sharedPath(item.rel, item.env);
}

/** Tests that need files or folders of the shared folder (relative paths, e.g. 'data/cellbench-lung-3cl.h5ad'). */
export function needsShared(...items: SharedItem[]): Gate {
  const missing = new Set<string>();
  for (const item of items) {
    const p = sharedFile(item);
    if (fs.existsSync(p)) continue;
    if (typeof item !== 'string' && process.env[item.env]) missing.add(`${p} not found (from ${item.env})`);
    else if (!fs.existsSync(sharedDir)) missing.add(`../shared not found (${sharedDir}; set INVAE_SHARED)`);
    else missing.add(`${p} not found in the shared folder`);
  }
  return new Gate([...missing]);
}

/** Tests that need folders or files named by an environment variable `from` (absolute paths). */
export function needsPaths(from: string, ...paths: string[]): Gate {
  return new Gate(paths.filter((p) => !fs.existsSync(p)).map((p) => `${p} not found (from ${from})`));
}

/** Tests that need the Python judge with `modules` (none: python itself, for standard-library judges). */
export function needsPython(...modules: JudgeModule[]): Gate {
  const r = missingPythonModules(modules);
  if (!r.python) return new Gate([`${judgePython} does not run (install python3 or set INVAE_JUDGE_PYTHON)`]);
  if (r.modules.length === 0) return new Gate([]);
  const pkgs = r.modules.map((m) => JUDGE_MODULES[m]).join(' ');
  return new Gate([`${judgePython} lacks ${r.modules.join(', ')} (apt-get install ${pkgs})`]);
}

/** Tests that run a Snakemake workflow (workflows/): skipped, or failing under INVAE_REQUIRE_SHARED=1, without snakemake. */
export function needsSnakemake(): Gate {
  return new Gate(snakemakeVersion() ? [] : [`${snakemakeCommand} does not run (apt-get install snakemake: Debian's 7.21; or set INVAE_SNAKEMAKE)`]);
}

/** The variable naming a local copy of the PyTorch reference (github.com/theislab/inVAE, never committed). */
export const REFERENCE_DIR_VAR = 'INVAE_REFERENCE_DIR';

/**
 * Tests that run the PyTorch reference (scripts/bench-reference.py): they need `$INVAE_REFERENCE_DIR` (a
 * checkout or bare git repository of theislab/inVAE) and a python with torch and anndata
 * ($INVAE_REFERENCE_PYTHON, else /usr/bin/python3, else python3). Opt-in: without INVAE_REFERENCE_DIR
 * they are skipped even under INVAE_REQUIRE_SHARED=1; with it set, a missing folder or torch fails them there.
 */
export function needsReference(env: NodeJS.ProcessEnv = process.env): Gate {
  const dir = env[REFERENCE_DIR_VAR];
  if (!dir) return new Gate([`${REFERENCE_DIR_VAR} is not set (a local checkout of github.com/theislab/inVAE)`], true);
  const why = referenceUnavailable(path.resolve(dir), referencePython(env));
  return new Gate(why ? [why] : []);
}
