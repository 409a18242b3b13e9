import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { EngineUnavailableError, InvalidOptionError } from './errors';
import { installWasmOverrides } from './wasm/engine-overrides';

/** The engines invae can run on, in the order `auto` tries them. */
export type EngineName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/**
 * What a user may ask for: `auto` (first engine that loads), `tensorflow` (native libtensorflow, GPU
 * build first), `wasm` or `cpu`. Also accepted from the `INVAE_BACKEND` environment variable.
 */
export type EngineRequest = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/** Loads a module by specifier; injectable so tests can simulate missing or present packages. */
export type ModuleLoader = (specifier: string) => Promise<unknown>;

/** One engine that was tried and why it was not used. */
export interface EngineAttempt {
  engine: EngineName;
  error: string;
}

/** The engine in use, as reported by `invae --version` and `invae info --engine`. */
export interface EngineInfo {
  /** Which engine was chosen. */
  engine: EngineName;
  /** tfjs backend name (`tensorflow`, `wasm`, `cpu`). */
  backend: string;
  /** npm package that provides it. */
  package: string;
  /** Version of that package. */
  packageVersion: string;
  /** Version of @tensorflow/tfjs-core in use. */
  tfjsVersion: string;
  /** What was asked for. */
  requested: EngineRequest;
  /** Engines tried before this one, with the reason each failed. */
  skipped: EngineAttempt[];
}

/** Options of {@link initEngine}. */
export interface EngineOptions {
  /** Engine to force; default: `INVAE_BACKEND` or `auto`. */
  backend?: EngineRequest | string;
  /** Module loader (tests inject one); default: dynamic `import()`. */
  loader?: ModuleLoader;
  /** Where to report the chosen engine once; default: stderr. Pass `null` for silence. */
  report?: ((line: string) => void) | null;
}

interface Candidate {
  engine: EngineName;
  backend: string;
  package: string;
  /** Make the backend registrable; throws when the package is missing. Returns its version. */
  load: (loader: ModuleLoader) => Promise<string>;
}

const NATIVE_GPU = '@tensorflow/tfjs-node-gpu';
const NATIVE_CPU = '@tensorflow/tfjs-node';
const WASM = '@tensorflow/tfjs-backend-wasm';

const defaultLoader: ModuleLoader = (specifier) => import(/* @vite-ignore */ specifier);

function moduleVersion(mod: unknown, fallback = 'unknown'): string {
  const m = mod as { version?: unknown; default?: { version?: unknown } } | null;
  const v = m?.version ?? m?.default?.version;
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    const first = Object.values(v as Record<string, unknown>)[0];
    if (typeof first === 'string') return first;
  }
  return fallback;
}

function nativeCandidate(engine: EngineName, pkg: string): Candidate {
  return {
    engine,
    backend: 'tensorflow',
    package: pkg,
    load: async (loader) => moduleVersion(await loader(pkg)),
  };
}

const wasmCandidate: Candidate = {
  engine: 'wasm',
  backend: 'wasm',
  package: WASM,
  load: async (loader) => {
    const mod = (await loader(WASM)) as { setWasmPaths?: (prefix: string) => void; version_wasm?: string };
    if (typeof mod.setWasmPaths === 'function') {
      // In Node the .wasm binaries are read from the package's dist folder.
      const require = createRequire(import.meta.url);
      const dir = path.join(path.dirname(require.resolve(`${WASM}/package.json`)), 'dist') + path.sep;
      mod.setWasmPaths(dir);
    }
    installWasmOverrides();
    return typeof mod.version_wasm === 'string' ? mod.version_wasm : moduleVersion(mod);
  },
};

const cpuCandidate: Candidate = {
  engine: 'cpu',
  backend: 'cpu',
  package: '@tensorflow/tfjs-backend-cpu',
  load: async () => tf.version_core,
};

/** The engines `auto` tries, first to last. */
export const ENGINE_ORDER: readonly EngineName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

function candidatesFor(request: EngineRequest): Candidate[] {
  switch (request) {
    case 'auto':
      return [nativeCandidate('tensorflow-gpu', NATIVE_GPU), nativeCandidate('tensorflow', NATIVE_CPU), wasmCandidate, cpuCandidate];
    case 'tensorflow':
      return [nativeCandidate('tensorflow-gpu', NATIVE_GPU), nativeCandidate('tensorflow', NATIVE_CPU)];
    case 'wasm':
      return [wasmCandidate];
    case 'cpu':
      return [cpuCandidate];
  }
}

/** Parses an engine request (from an option or `INVAE_BACKEND`), rejecting unknown names clearly. */
export function parseEngineRequest(value: string | undefined | null, source = 'backend'): EngineRequest {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if (v === 'tensorflow' || v === 'node' || v === 'tfjs-node') return 'tensorflow';
  if (v === 'wasm' || v === 'cpu') return v;
  throw new InvalidOptionError(source, `Unknown tensor engine '${value}' (from ${source}).`, {
    hint: 'Use one of: auto, tensorflow, wasm, cpu.',
  });
}

function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0] ?? msg;
}

let current: EngineInfo | undefined;
let pending: Promise<EngineInfo> | undefined;
let pendingKey: string | undefined;

/**
 * Selects and initialises the tensor engine. With `auto`, tries `@tensorflow/tfjs-node-gpu`,
 * `@tensorflow/tfjs-node`, the wasm backend and the cpu backend, in that order, and uses the first
 * that loads. A forced engine that cannot load raises {@link EngineUnavailableError} naming the
 * package to install. The choice is reported once per process (see `report`).
 */
export async function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  const request = parseEngineRequest(
    options.backend ?? process.env.INVAE_BACKEND,
    options.backend !== undefined ? 'backend option' : 'INVAE_BACKEND',
  );
  const loader = options.loader ?? defaultLoader;
  const key = `${request}|${options.loader ? 'custom' : 'default'}`;
  if (current && current.requested === request && !options.loader && tf.getBackend() === current.backend) return current;
  if (pending && pendingKey === key) return pending;
  pendingKey = key;
  pending = selectEngine(request, loader).then(
    (info) => {
      const first = current === undefined || current.engine !== info.engine;
      current = info;
      pending = undefined;
      const report = options.report === undefined ? (line: string) => process.stderr.write(`${line}\n`) : options.report;
      if (first && report) report(describeEngine(info));
      return info;
    },
    (err: unknown) => {
      pending = undefined;
      throw err;
    },
  );
  return pending;
}

async function selectEngine(request: EngineRequest, loader: ModuleLoader): Promise<EngineInfo> {
  const skipped: EngineAttempt[] = [];
  for (const c of candidatesFor(request)) {
    try {
      const packageVersion = await c.load(loader);
      const ok = await tf.setBackend(c.backend);
      if (!ok) throw new Error(`tfjs could not initialise the '${c.backend}' backend`);
      await tf.ready();
      return {
        engine: c.engine,
        backend: tf.getBackend(),
        package: c.package,
        packageVersion,
        tfjsVersion: tf.version_core,
        requested: request,
        skipped,
      };
    } catch (e) {
      skipped.push({ engine: c.engine, error: errorText(e) });
    }
  }
  const tried = skipped.map((s) => `${s.engine}: ${s.error}`).join('; ');
  if (request === 'tensorflow') {
    throw new EngineUnavailableError(
      'tensorflow',
      [NATIVE_CPU, NATIVE_GPU],
      `The native TensorFlow engine was requested but neither ${NATIVE_GPU} nor ${NATIVE_CPU} could be loaded (${tried}).`,
      { hint: `Install it next to @invae/core: npm install ${NATIVE_CPU}@4.22.0 (or ${NATIVE_GPU} for CUDA), or unset INVAE_BACKEND.` },
    );
  }
  if (request === 'wasm') {
    throw new EngineUnavailableError('wasm', [WASM], `The wasm engine was requested but ${WASM} could not be loaded (${tried}).`, {
      hint: `Install it: npm install ${WASM}@4.22.0, or choose INVAE_BACKEND=cpu.`,
    });
  }
  throw new EngineUnavailableError(request, [WASM], `No tensor engine could be initialised (${tried}).`, {
    hint: `Reinstall @invae/core so that ${WASM} and @tensorflow/tfjs are present.`,
  });
}

/** One line describing an engine, e.g. `engine: wasm (@tensorflow/tfjs-backend-wasm 4.22.0, tfjs 4.22.0)`. */
export function describeEngine(info: EngineInfo): string {
  return `invae engine: ${info.engine} (${info.package} ${info.packageVersion}, tfjs-core ${info.tfjsVersion})`;
}

/** The engine chosen by the last successful {@link initEngine}, if any. */
export function currentEngine(): EngineInfo | undefined {
  return current;
}
