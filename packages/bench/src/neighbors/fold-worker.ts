import os from 'node:os';
import { WorkerThread } from '@invae/common';
import { CandidateBuffers, candidateStorage, tileFoldSource, type CandidateStorage } from './tile-fold';

/** Tile slots between the main thread and the helper (double buffering). */
const SLOTS = 2;
/** Control words: [stop, done, failed, started], then per slot [state, i0, rows, j0, cols, diagonal]. */
const STOP = 0;
const DONE = 1;
const FAILED = 2;
const STARTED = 3;
const HEADER = 4;
const FIELDS = 6;
/** Longest wait for the helper to finish its last tiles before giving up. */
const FINISH_TIMEOUT_MS = 600_000;

/**
 * The helper thread's program (run by @invae/common's {@link WorkerThread}): the tile-fold functions (by their source, see `tileFoldSource`) and a
 * loop that folds the tiles the main thread puts into the shared slots, in slot order, into its own
 * cluster sums and candidate buffers (shared memory the main thread merges at the end).
 */
function workerProgram(): string {
  return `${tileFoldSource()}
const w = workerData;
const ctrl = new Int32Array(w.ctrl);
try {
  Atomics.store(ctrl, ${STARTED}, 1);
  Atomics.notify(ctrl, ${STARTED});
  const sink = {
    cosine: w.cosine,
    codes: w.codes ? new Int32Array(w.codes) : undefined,
    L: w.L,
    sums: w.sums ? new Float64Array(w.sums) : undefined,
    rowAcc: new Float64Array(Math.max(1, w.L)),
    cand: w.cand ? new tileFold.CandidateBuffers(w.n, w.h, w.cand) : undefined,
  };
  const slots = w.slots.map((b) => new Float32Array(b));
  let s = 0;
  for (;;) {
    const b = ${HEADER} + s * ${FIELDS};
    if (Atomics.load(ctrl, b) !== 1) {
      // Tiles are handed over in slot order, so an empty slot after the stop signal means all are done.
      if (Atomics.load(ctrl, ${STOP}) === 1 && Atomics.load(ctrl, b) !== 1) break;
      Atomics.wait(ctrl, b, 0, 50);
      continue;
    }
    const rows = ctrl[b + 2];
    const cols = ctrl[b + 4];
    tileFold.foldTile(slots[s].subarray(0, rows * cols), ctrl[b + 1], rows, ctrl[b + 3], cols, ctrl[b + 5] === 1, sink);
    Atomics.store(ctrl, b, 0);
    Atomics.notify(ctrl, b);
    s = (s + 1) % ${SLOTS};
  }
} catch (e) {
  const msg = new TextEncoder().encode(String((e && e.stack) || e)).subarray(0, w.error.byteLength);
  new Uint8Array(w.error).set(msg);
  Atomics.store(ctrl, ${FAILED}, 1);
}
Atomics.store(ctrl, ${DONE}, 1);
Atomics.notify(ctrl, ${DONE});
`;
}

/** What the helper folds into. */
export interface FoldHelperOptions {
  readonly n: number;
  /** Largest tile (rows × columns). */
  readonly tileEntries: number;
  readonly cosine: boolean;
  readonly codes?: Int32Array;
  readonly L: number;
  /** Candidates kept per cell (0: none). */
  readonly h: number;
}

/** The helper's share of the scan, to merge with the main thread's. */
export interface FoldHelperResult {
  readonly sums?: Float64Array;
  readonly cand?: CandidateBuffers;
}

/** Threads the scan may use: `INVAE_BENCH_THREADS` if set, else the available parallelism, at most 2. */
export function scanThreads(): number {
  const env = Number(process.env.INVAE_BENCH_THREADS);
  if (Number.isInteger(env) && env >= 1) return Math.min(2, env);
  const avail = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(2, avail));
}

/**
 * A second thread that folds part of the tiles of a distance scan: the main thread keeps the engine
 * busy (matrix products) and hands a finished tile to the helper whenever one of its two slots is
 * free, folding it itself otherwise, so the split adapts to the relative speeds. The helper
 * accumulates into its own shared sums and candidate buffers; {@link FoldHelper.finish} waits for
 * its last tiles and returns them for merging. Everything stays synchronous on the main thread.
 */
export class FoldHelper {
  private readonly ctrl: Int32Array;
  private readonly slots: Float32Array[];
  private readonly thread: WorkerThread;
  private readonly sums?: Float64Array;
  private readonly candStorage?: CandidateStorage;
  private readonly errorBytes: Uint8Array;
  private next = 0;
  private closed = false;
  /** Tiles folded by the helper. */
  handedOver = 0;

  constructor(private readonly o: FoldHelperOptions) {
    this.ctrl = new Int32Array(new SharedArrayBuffer((HEADER + SLOTS * FIELDS) * 4));
    const slotBufs = Array.from({ length: SLOTS }, () => new SharedArrayBuffer(o.tileEntries * 4));
    this.slots = slotBufs.map((b) => new Float32Array(b));
    let codesBuf: SharedArrayBuffer | undefined;
    if (o.codes) {
      codesBuf = new SharedArrayBuffer(o.codes.length * 4);
      new Int32Array(codesBuf).set(o.codes);
    }
    let sumsBuf: SharedArrayBuffer | undefined;
    if (o.L > 0) {
      sumsBuf = new SharedArrayBuffer(o.n * o.L * 8);
      this.sums = new Float64Array(sumsBuf);
    }
    if (o.h > 0) this.candStorage = candidateStorage(o.n, o.h, true);
    const errorBuf = new SharedArrayBuffer(4096);
    this.errorBytes = new Uint8Array(errorBuf);
    // Never keeps the process alive; its failures are reported through the shared control words.
    this.thread = WorkerThread.start({
      name: 'distance-scan helper',
      source: workerProgram(),
      workerData: { ctrl: this.ctrl.buffer, slots: slotBufs, codes: codesBuf, sums: sumsBuf, cand: this.candStorage, n: o.n, h: o.h, L: o.L, cosine: o.cosine, error: errorBuf },
      unref: true,
    });
  }

  /** Blocks until the helper has started or `ms` milliseconds have passed; returns whether it started. */
  waitForStart(ms: number): boolean {
    const t0 = Date.now();
    while (Atomics.load(this.ctrl, STARTED) !== 1 && Atomics.load(this.ctrl, DONE) !== 1 && Date.now() - t0 < ms) Atomics.wait(this.ctrl, STARTED, 0, 10);
    return Atomics.load(this.ctrl, STARTED) === 1;
  }

  /**
   * Hands the tile to the helper if it has started and a slot is free (copying the values), and
   * returns whether it did; otherwise the caller folds the tile itself.
   */
  offer(vals: Float32Array, i0: number, rows: number, j0: number, cols: number, diagonal: boolean): boolean {
    if (this.closed || Atomics.load(this.ctrl, STARTED) !== 1 || Atomics.load(this.ctrl, DONE) === 1) return false;
    const b = HEADER + this.next * FIELDS;
    if (Atomics.load(this.ctrl, b) !== 0) return false;
    this.slots[this.next]!.set(vals.subarray(0, rows * cols));
    this.ctrl[b + 1] = i0;
    this.ctrl[b + 2] = rows;
    this.ctrl[b + 3] = j0;
    this.ctrl[b + 4] = cols;
    this.ctrl[b + 5] = diagonal ? 1 : 0;
    Atomics.store(this.ctrl, b, 1);
    Atomics.notify(this.ctrl, b);
    this.next = (this.next + 1) % SLOTS;
    this.handedOver++;
    return true;
  }

  /** Waits for the helper's last tiles and returns its sums and candidates (throws if it failed). */
  finish(): FoldHelperResult {
    this.closed = true;
    Atomics.store(this.ctrl, STOP, 1);
    for (let s = 0; s < SLOTS; s++) Atomics.notify(this.ctrl, HEADER + s * FIELDS);
    if (this.handedOver > 0) {
      const t0 = Date.now();
      while (Atomics.load(this.ctrl, DONE) !== 1) {
        if (Date.now() - t0 > FINISH_TIMEOUT_MS) {
          void this.thread.terminate();
          throw new Error('The distance-scan helper thread did not finish its tiles.');
        }
        Atomics.wait(this.ctrl, DONE, 0, 1000);
      }
    }
    if (Atomics.load(this.ctrl, FAILED) === 1) {
      const end = this.errorBytes.indexOf(0);
      const msg = new TextDecoder().decode(this.errorBytes.slice(0, end < 0 ? undefined : end));
      throw new Error(`The distance-scan helper thread failed: ${msg}`);
    }
    const cand = this.candStorage && this.handedOver > 0 ? new CandidateBuffers(this.o.n, this.o.h, this.candStorage) : undefined;
    return { sums: this.handedOver > 0 ? this.sums : undefined, cand };
  }

  /** Stops the helper (idempotent; also after {@link finish}). */
  dispose(): void {
    this.closed = true;
    Atomics.store(this.ctrl, STOP, 1);
    for (let s = 0; s < SLOTS; s++) Atomics.notify(this.ctrl, HEADER + s * FIELDS);
    void this.thread.terminate();
  }
}
