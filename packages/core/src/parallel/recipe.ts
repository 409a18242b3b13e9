import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { InvalidOptionError } from '../errors';
import { buildModel, type ModelSpec } from '../module/build';
import type { InvaeModel } from '../module/invae';
import { registerPrior, type PriorPlugin } from '../prior/registry';

/**
 * How a training worker builds its replica of the model: it imports `module` and calls its export
 * `export` with `args`; the function returns an {@link InvaeModel} (or a promise of one) with the
 * same variables as the model being trained. The replica's initial values do not matter: every
 * worker receives the trained model's weights before the first step.
 */
export interface ReplicaRecipe {
  /** Module to import: a `file:` URL, or a package name (resolved from @invae/core's location). */
  module: string;
  /** Name of the exported factory function. */
  export: string;
  /** Argument passed to the factory; must survive structured cloning (plain data). */
  args?: unknown;
}

/**
 * A module every training worker imports before it builds its replica, e.g. to register the prior
 * plugins the model uses (worker threads start with an empty prior registry).
 */
export interface WorkerSetup {
  /** Module to import: a `file:` URL, or a package name (resolved from @invae/core's location). */
  module: string;
  /**
   * Exported function to call without arguments (e.g. `registerBuiltinPriors` of `@invae/priors`).
   * Without it, a prior plugin exported as `default` or `plugin` is registered.
   */
  call?: string;
}

const setups: WorkerSetup[] = [];

/**
 * Adds a module that training workers import before building a model from its spec (see
 * {@link WorkerSetup}); registering the same module and call twice is a no-op. The CLI registers
 * `@invae/priors` and every prior plugin file it loads.
 */
export function registerWorkerSetup(setup: WorkerSetup): void {
  if (!setup || typeof setup.module !== 'string' || setup.module.length === 0) {
    throw new InvalidOptionError('setup.module', 'A worker setup needs a module specifier (a file: URL or a package name).');
  }
  if (setup.call !== undefined && (typeof setup.call !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(setup.call))) {
    throw new InvalidOptionError('setup.call', `A worker setup's call must be an export name, got ${JSON.stringify(setup.call)}.`);
  }
  if (!setups.some((s) => s.module === setup.module && s.call === setup.call)) setups.push({ module: setup.module, ...(setup.call ? { call: setup.call } : {}) });
}

/** The registered worker setups, in registration order. */
export function workerSetups(): WorkerSetup[] {
  return setups.map((s) => ({ ...s }));
}

/** Removes every registered worker setup (mainly for tests). */
export function clearWorkerSetups(): void {
  setups.length = 0;
}

const here = import.meta.url;

/**
 * Imports a module from the worker side in the module format @invae/core itself was loaded in
 * (the CommonJS build requires, the ESM build imports), so that plugins register into this copy
 * of the prior registry rather than a second one.
 */
export async function loadWorkerModule(specifier: string): Promise<Record<string, unknown>> {
  if (here.endsWith('.cjs')) {
    const req = createRequire(here);
    return req(specifier.startsWith('file:') ? fileURLToPath(specifier) : specifier) as Record<string, unknown>;
  }
  return (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
}

function isPlugin(x: unknown): x is PriorPlugin<object> {
  return !!x && typeof x === 'object' && typeof (x as PriorPlugin).name === 'string' && typeof (x as PriorPlugin).create === 'function';
}

/** Runs one {@link WorkerSetup} in the current thread. */
export async function runWorkerSetup(setup: WorkerSetup): Promise<void> {
  const mod = await loadWorkerModule(setup.module);
  const def = mod.default as Record<string, unknown> | undefined;
  if (setup.call) {
    const fn = mod[setup.call] ?? def?.[setup.call];
    if (typeof fn !== 'function') throw new InvalidOptionError('setup.call', `Worker setup module ${setup.module} has no exported function '${setup.call}'.`);
    await (fn as () => unknown)();
    return;
  }
  const plugin = [def, mod.plugin, def?.plugin].find(isPlugin);
  if (plugin) registerPrior(plugin);
}

/** Argument of {@link buildReplicaFromSpec}. */
export interface SpecReplicaArgs {
  /** The model spec (as {@link buildModel} takes it; a resolved spec works too). */
  spec: ModelSpec;
  /** Modules to import first (e.g. the ones registering the spec's priors). */
  setup?: WorkerSetup[];
}

/**
 * Replica factory for models built from a spec (the {@link ReplicaRecipe} `Invae.train` uses): runs
 * the setups, then builds the model with {@link buildModel}.
 */
export async function buildReplicaFromSpec(args: SpecReplicaArgs): Promise<InvaeModel> {
  for (const s of args.setup ?? []) await runWorkerSetup(s);
  return buildModel(args.spec).model;
}

/**
 * URL of the module the worker imports to reach this copy of @invae/core: its internal entry
 * (`@invae/core/internal`, which exports the worker body and the replica factory) in the format this
 * copy was loaded in — `internal.js` or `internal.cjs` beside this module in the built package (the
 * entries share their chunks, so the worker's registries are those its imports register into), the
 * source `internal.ts` when running from TypeScript sources (tests).
 */
export function coreEntryUrl(): string {
  if (here.endsWith('.ts')) return new URL('../internal.ts', here).href;
  return new URL(here.endsWith('.cjs') ? './internal.cjs' : './internal.js', here).href;
}

/** A {@link ReplicaRecipe} that rebuilds a model from its spec in a worker. */
export function specReplicaRecipe(spec: ModelSpec, setup: WorkerSetup[] = workerSetups()): ReplicaRecipe {
  return { module: coreEntryUrl(), export: 'buildReplicaFromSpec', args: { spec, setup } satisfies SpecReplicaArgs };
}
