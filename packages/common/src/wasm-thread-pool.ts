import { availableParallelism } from 'node:os';
import { WorkerThread } from './worker-thread';

/** The parts of the WebAssembly JS API used here (the project's TypeScript libs do not declare it). */
export interface SharedWasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => SharedWasmMemory;
}
const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * One kernel call split among the threads of a {@link WasmThreadPool}: `args` is the kernel's full
 * argument list, in which the two arguments at `splitAt` are replaced by each thread's slice [lo, hi)
 * of `0 … units`. Slices are contiguous, multiples of `align` (the last one excepted) and in thread
 * order (see {@link sliceOf}).
 */
export interface PoolTask<K extends string = string> {
  readonly kernel: K;
  readonly args: readonly number[];
  readonly splitAt: number;
  readonly units: number;
  readonly align?: number;
}

/** Options of {@link WasmThreadPool}. */
export interface WasmThreadPoolOptions<K extends string> {
  /** Name of the worker threads in error messages. */
  readonly name: string;
  /**
   * The WebAssembly module (binary); it must import its memory as `env.memory` (shared), and may
   * import `env.log` (the host's `Math.log`, the same function on every thread).
   */
  readonly bytes: Uint8Array;
  /** The exported functions tasks may call. */
  readonly kernels: readonly K[];
  /** Threads, the calling one included (≥ 1). */
  readonly threads: number;
}

const PAGE = 65536;
const MAX_PAGES = 65536;
/** Control words: generation, quit, done count, error, task count, workers only (1: thread 0 takes no slice); tasks from TASK_BASE. */
const CTRL = { gen: 0, quit: 1, done: 2, error: 3, tasks: 4, workersOnly: 5 } as const;
const TASK_BASE = 8;
const TASK_WORDS = 24; // kernel, splitAt, units, align, nargs, args[19]
const MAX_TASKS = 16;

/** Thread t's slice of `units` split in `threads` contiguous parts of whole `align` blocks. */
export function sliceOf(units: number, align: number, threads: number, t: number): [number, number] {
  const blocks = Math.ceil(units / align);
  const per = Math.ceil(blocks / threads);
  const lo = Math.min(units, t * per * align);
  const hi = Math.min(units, (t + 1) * per * align);
  return [lo, hi];
}

/**
 * Runs thread `t`'s share of the tasks in the control block. Serialised into the workers' source
 * (it must not reference anything outside itself), and called on the main thread as thread 0.
 */
function runShare(ctrl: Int32Array, fns: readonly ((...a: number[]) => void)[], thread: number, threads: number): void {
  const n = ctrl[4]!;
  // a run started by `start` is split among the workers (threads 1 … threads − 1) only
  const only = ctrl[5]!;
  const t = thread - only;
  const parts = threads - only;
  if (t < 0) return;
  for (let q = 0; q < n; q++) {
    const base = 8 + q * 24;
    const fn = fns[ctrl[base]!]!;
    const splitAt = ctrl[base + 1]!;
    const units = ctrl[base + 2]!;
    const align = ctrl[base + 3]!;
    const nargs = ctrl[base + 4]!;
    const args: number[] = [];
    for (let i = 0; i < nargs; i++) args.push(ctrl[base + 5 + i]!);
    const blocks = Math.ceil(units / align);
    const per = Math.ceil(blocks / parts);
    const lo = Math.min(units, t * per * align);
    const hi = Math.min(units, (t + 1) * per * align);
    if (lo >= hi) continue;
    args[splitAt] = lo;
    args[splitAt + 1] = hi;
    fn(...args);
  }
}

/** The program of worker thread `index` (run by {@link WorkerThread}, `workerData` in scope). */
const WORKER_SOURCE = `
const { module, memory, control, index, threads, names } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory, log: Math.log } }).exports;
const fns = names.map((n) => ex[n]);
const ctrl = new Int32Array(control);
const runShare = ${runShare.toString()};
let gen = 0;
for (;;) {
  Atomics.wait(ctrl, 0, gen);
  gen = Atomics.load(ctrl, 0);
  if (Atomics.load(ctrl, 1)) break;
  try { runShare(ctrl, fns, index, threads); } catch (e) { Atomics.store(ctrl, 3, 1); }
  Atomics.add(ctrl, 2, 1);
  Atomics.notify(ctrl, 2);
}
`;

/** Whether shared-memory WebAssembly threads can run here. */
export function wasmThreadsSupported(): boolean {
  return !!WA && typeof SharedArrayBuffer !== 'undefined';
}

/** min(2, available cores): the default thread count of the pools on the main thread. */
export function defaultPoolThreads(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

/**
 * A fixed set of threads (the calling thread plus `threads − 1` worker threads) sharing one
 * `WebAssembly.Memory({ shared: true })` on which the kernels of one WebAssembly module run.
 * {@link WasmThreadPool.run} splits each task among the threads and returns when all are done (the
 * calling thread blocks in `Atomics.wait`; Node only). Memory is handed out by a bump allocator
 * ({@link WasmThreadPool.alloc}, freed all at once by {@link WasmThreadPool.reset}).
 */
export class WasmThreadPool<K extends string = string> {
  /** The shared memory every thread's kernels run on. */
  readonly memory: SharedWasmMemory;
  /** Threads, the calling one included. */
  readonly threads: number;
  private readonly kernels: readonly K[];
  private readonly fns: ((...a: number[]) => void)[];
  private readonly ctrl: Int32Array;
  private readonly workers: WorkerThread[] = [];
  private f32: Float32Array;
  private top = 0;
  private resetCount = 0;
  private closed = false;
  /** A run started by {@link start} that {@link finish} has not waited for. */
  private pending = false;

  constructor(options: WasmThreadPoolOptions<K>) {
    const { threads } = options;
    if (!WA) throw new Error('WebAssembly is not available');
    if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`threads must be a positive integer, got ${threads}`);
    this.threads = threads;
    this.kernels = [...options.kernels];
    const module = new WA.Module(options.bytes);
    this.memory = new WA.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    const ex = new WA.Instance(module, { env: { memory: this.memory, log: Math.log } }).exports;
    this.fns = this.kernels.map((n) => {
      const f = ex[n];
      if (typeof f !== 'function') throw new Error(`${options.name}: the module exports no function "${n}"`);
      return f as (...a: number[]) => void;
    });
    const control = new SharedArrayBuffer(4 * (TASK_BASE + MAX_TASKS * TASK_WORDS));
    this.ctrl = new Int32Array(control);
    for (let index = 1; index < threads; index++) {
      const w = WorkerThread.start({ name: `${options.name} ${index}`, source: WORKER_SOURCE, workerData: { module, memory: this.memory, control, index, threads, names: [...this.kernels] }, unref: true });
      this.workers.push(w);
    }
    this.f32 = new Float32Array(this.memory.buffer);
  }

  /** Float32 view of the whole shared memory (renewed after the memory grows). */
  get heap(): Float32Array {
    if (this.f32.buffer.byteLength !== this.memory.buffer.byteLength) this.f32 = new Float32Array(this.memory.buffer);
    return this.f32;
  }

  /** Frees every allocation (call at the start of each operation). */
  reset(): void {
    this.top = 0;
    this.resetCount++;
  }

  /** Number of {@link reset} calls: what was allocated and written since one is intact while this is unchanged. */
  get resets(): number {
    return this.resetCount;
  }

  /** Byte offset of `n` 4-byte values (64-byte aligned) in the shared memory, growing it as needed. */
  alloc(n: number): number {
    const at = this.top;
    this.top = at + Math.ceil((4 * n) / 64) * 64;
    const need = Math.ceil(this.top / PAGE);
    if (need > MAX_PAGES) throw new RangeError(`WasmThreadPool: ${this.top} bytes exceed the 4 GiB of a WebAssembly memory`);
    const have = this.memory.buffer.byteLength / PAGE;
    if (need > have) this.memory.grow(need - have);
    return at;
  }

  /** Copies `src` into the shared memory at byte offset `at`. */
  write(at: number, src: Float32Array): void {
    this.heap.set(src, at / 4);
  }

  /** A view of `n` float32 values at byte offset `at` (valid until the memory grows). */
  view(at: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, n);
  }

  /** Calls kernel `kernel` once on the calling thread. */
  call(kernel: K, ...args: number[]): void {
    this.fns[this.kernels.indexOf(kernel)]!(...args);
  }

  /** Writes the tasks into the control block and wakes the workers (thread 0 takes no slice when `workersOnly`). */
  private post(tasks: readonly PoolTask<K>[], workersOnly: boolean): void {
    if (this.closed) throw new Error('WasmThreadPool: already closed');
    if (tasks.length > MAX_TASKS) throw new RangeError(`at most ${MAX_TASKS} tasks per run`);
    const c = this.ctrl;
    tasks.forEach((task, q) => {
      const base = TASK_BASE + q * TASK_WORDS;
      if (task.args.length > TASK_WORDS - 5) throw new RangeError('too many kernel arguments');
      const k = this.kernels.indexOf(task.kernel);
      if (k < 0) throw new RangeError(`unknown kernel "${task.kernel}"`);
      c[base] = k;
      c[base + 1] = task.splitAt;
      c[base + 2] = task.units;
      c[base + 3] = Math.max(1, task.align ?? 1);
      c[base + 4] = task.args.length;
      task.args.forEach((a, i) => (c[base + 5 + i] = a));
    });
    c[CTRL.tasks] = tasks.length;
    c[CTRL.workersOnly] = workersOnly ? 1 : 0;
    c[CTRL.error] = 0;
    Atomics.store(c, CTRL.done, 0);
    if (this.workers.length > 0) {
      Atomics.add(c, CTRL.gen, 1);
      Atomics.notify(c, CTRL.gen);
    }
  }

  /** Blocks until every worker has finished the posted run; throws when a kernel failed in one. */
  private awaitWorkers(): void {
    const c = this.ctrl;
    const nw = this.workers.length;
    for (let d = Atomics.load(c, CTRL.done); d < nw; d = Atomics.load(c, CTRL.done)) Atomics.wait(c, CTRL.done, d);
    if (c[CTRL.error]) throw new Error('WasmThreadPool: a kernel failed in a worker thread');
  }

  /** Runs the tasks, each thread its slices in task order; returns when every thread is done. */
  run(tasks: readonly PoolTask<K>[]): void {
    this.finish();
    this.post(tasks, false);
    let failure: unknown = null;
    try {
      runShare(this.ctrl, this.fns, 0, this.threads);
    } catch (e) {
      failure = e;
    }
    // the workers are waited for even when this thread's slice failed: they still use the memory
    this.awaitWorkers();
    if (failure) throw failure;
  }

  /**
   * Starts the tasks on the worker threads only (split among them as {@link run} splits among all
   * threads) and returns at once: the calling thread goes on with other work while they run.
   * {@link finish} waits for them; every other call of the pool's kernels ({@link run}, another
   * `start`) waits first. The caller must not touch the memory the tasks read or write before
   * `finish`. With no worker thread the tasks run here, before `start` returns.
   */
  start(tasks: readonly PoolTask<K>[]): void {
    if (this.workers.length === 0) {
      this.run(tasks);
      return;
    }
    this.finish();
    this.post(tasks, true);
    this.pending = true;
  }

  /** Waits for the run {@link start} began (nothing to do when none is under way). */
  finish(): void {
    if (!this.pending) return;
    this.pending = false;
    this.awaitWorkers();
  }

  /** Whether a run begun by {@link start} may still be under way ({@link finish} not called since). */
  get busy(): boolean {
    return this.pending;
  }

  /** Stops the worker threads (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, CTRL.quit, 1);
    Atomics.add(this.ctrl, CTRL.gen, 1);
    Atomics.notify(this.ctrl, CTRL.gen);
    for (const w of this.workers) void w.terminate();
  }
}
