import { WasmThreadPool, onMainThread, sliceOf, wasmThreadsSupported, type PoolTask } from '@invae/common';
import { availableParallelism } from 'node:os';
import { GEMM_RELAXED_WASM_BASE64, GEMM_WASM_BASE64 } from './gemm-binary';
import { relaxedSimd } from '../wasm/relaxed-simd';

/** The kernels of `gemm.wat` (every pointer a byte offset into the pool's shared memory). */
export const KERNELS = ['gemm', 'packPanels', 'colSums', 'nbForwardChunks', 'nbBackwardChunks', 'logF32', 'buildCsr', 'sparseAffineCsrChunks', 'sparseAffineGradCsrCols', 'transpose', 'transposeRows', 'softmaxLibRows', 'softmaxLibBackRows', 'nbForwardExceptions', 'nbBackwardExceptions', 'lgammaRatioTable'] as const;
/** A kernel of `gemm.wat`. */
export type KernelName = (typeof KERNELS)[number];

/**
 * One kernel call split among the threads (see @invae/common's `PoolTask`). The kernels compute
 * every output element in one call in a fixed order, so the slices chosen never change a result.
 */
export type SplitTask = PoolTask<KernelName>;

export { sliceOf };

/**
 * Runs each task over its whole range on the calling thread, with `kernels`: functions of the same
 * names and arguments (e.g. the SIMD kernels on the wasm engine's memory) — the single-thread
 * counterpart of {@link FusedThreads.run}, with the same results.
 */
export function runWhole(kernels: Partial<Record<KernelName, (...args: number[]) => void>>, tasks: readonly SplitTask[]): void {
  for (const t of tasks) {
    const fn = kernels[t.kernel];
    if (!fn) throw new Error(`runWhole: no kernel "${t.kernel}"`);
    const args = [...t.args];
    args[t.splitAt] = 0;
    args[t.splitAt + 1] = t.units;
    fn(...args);
  }
}

/**
 * A fixed set of threads (the calling thread plus `threads − 1` worker threads) sharing one
 * `WebAssembly.Memory({ shared: true })` on which `gemm.wat`'s kernels run: @invae/common's
 * {@link WasmThreadPool} with this module. {@link FusedThreads.run} splits each task's output among
 * the threads and returns when all are done. Results do not depend on the number of threads.
 */
export class FusedThreads extends WasmThreadPool<KernelName> {
  constructor(threads: number) {
    super({ name: 'fused kernels', bytes: Buffer.from(relaxedSimd() ? GEMM_RELAXED_WASM_BASE64 : GEMM_WASM_BASE64, 'base64'), kernels: KERNELS, threads });
  }
}

/**
 * A size limit of the threaded paths: `n`, or 0 with `INVAE_THREADED=all` (every layer and
 * likelihood on the fused threads: checks such as the parity fixtures, whose sizes are below the limits).
 */
export function threadedLimit(n: number): number {
  return typeof process !== 'undefined' && process.env?.INVAE_THREADED === 'all' ? 0 : n;
}

let shared: FusedThreads | null = null;
let unavailable = false;

/** Whether the fused kernels' pool can run here (WebAssembly with shared memory and threads); false once creating it failed. */
export function threadsAvailable(): boolean {
  if (unavailable || !wasmThreadsSupported()) return false;
  if (shared) return true;
  try {
    fusedThreads();
    return true;
  } catch {
    unavailable = true;
    return false;
  }
}

/**
 * Number of threads the fused kernels use by default: `INVAE_THREADS` when set, else min(2, cores)
 * on the main thread and 1 in a worker thread (a data-parallel replica: the replicas already share
 * the cores).
 */
export function defaultThreadCount(): number {
  const env = typeof process !== 'undefined' ? process.env?.INVAE_THREADS : undefined;
  const n = env ? Number(env) : NaN;
  if (Number.isInteger(n) && n >= 1) return n;
  return onMainThread() ? Math.max(1, Math.min(2, availableParallelism())) : 1;
}

/**
 * The process-wide pool of the fused kernels (created on first use with {@link defaultThreadCount}
 * threads, or `threads` when given; a different count replaces the pool).
 */
export function fusedThreads(threads = shared?.threads ?? defaultThreadCount()): FusedThreads {
  if (shared && shared.threads !== threads) {
    shared.close();
    shared = null;
  }
  if (!shared) shared = new FusedThreads(threads);
  return shared;
}
