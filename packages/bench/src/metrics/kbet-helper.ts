import { WorkerThread } from '@invae/common';
import type { NeighborGraph } from '../neighbors/connectivities';
import { diffusionSource } from '../embedding/diffusion';
import type { Embedding } from '../internal/matrix';

/** One diffusion-map embedding to compute (a kBET label's connectivity subgraph). */
export interface EmbeddingTask {
  readonly id: number;
  readonly graph: NeighborGraph;
  readonly nComps: number;
  /** The uniforms the Lanczos start vectors draw, in order (what `new Rng(seed)` would give). */
  readonly uniforms: Float64Array;
}

/** A finished task: the embedding, or why the helper could not compute it. */
export interface EmbeddingReply {
  readonly id: number;
  readonly embedding?: Embedding;
  readonly error?: string;
}

const STARTED = 0;
const REPLIES = 1;

/**
 * The helper thread's program (run by @invae/common's {@link WorkerThread}): the diffusion-map code by
 * its source text (see `diffusionSource`) and a message loop that embeds each task's graph with the
 * task's uniforms and posts the result back on the synchronous reply port, bumping a shared counter the
 * main thread can wait on.
 */
function helperProgram(): string {
  return `${diffusionSource()}
const ctrl = new Int32Array(workerData.ctrl);
parentPort.on('message', (task) => {
  let reply;
  try {
    let k = 0;
    const pool = task.uniforms;
    const rng = { uniform() { if (k >= pool.length) throw new Error('the start-vector uniforms ran out'); return pool[k++]; } };
    const emb = diffusion.embed(task.graph, task.nComps, rng);
    reply = { id: task.id, embedding: emb };
  } catch (e) {
    reply = { id: task.id, error: String((e && e.message) || e) };
  }
  replyPort.postMessage(reply);
  Atomics.add(ctrl, ${REPLIES}, 1);
  Atomics.notify(ctrl, ${REPLIES});
});
Atomics.store(ctrl, ${STARTED}, 1);
Atomics.notify(ctrl, ${STARTED});
`;
}

/**
 * A worker thread that computes diffusion-map embeddings for kBET while the main thread works on
 * other labels; used synchronously: {@link EmbeddingHelper.submit} a task when idle, then
 * {@link EmbeddingHelper.poll} or {@link EmbeddingHelper.wait} for the reply. The helper runs the same
 * code as the main thread on the same uniforms, so its embeddings are identical.
 */
export class EmbeddingHelper {
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(8));
  private readonly thread: WorkerThread<EmbeddingReply, EmbeddingTask>;
  private pending: number | null = null;
  private seen = 0;

  constructor() {
    // Never keeps the process alive; a failed helper just never becomes idle or never replies (the main thread then embeds itself).
    this.thread = WorkerThread.start({ name: 'kBET embedding helper', source: helperProgram(), workerData: { ctrl: this.ctrl.buffer }, syncReplies: true, unref: true });
  }

  /** Whether the helper is up and has no task. */
  get idle(): boolean {
    return this.pending === null && Atomics.load(this.ctrl, STARTED) === 1 && this.thread.failure === null;
  }

  /** Id of the task the helper is working on, if any. */
  get busyWith(): number | null {
    return this.pending;
  }

  /** Blocks until the helper has started or `ms` milliseconds have passed; returns whether it started. */
  waitForStart(ms: number): boolean {
    const t0 = Date.now();
    while (Atomics.load(this.ctrl, STARTED) !== 1 && Date.now() - t0 < ms) Atomics.wait(this.ctrl, STARTED, 0, 10);
    return Atomics.load(this.ctrl, STARTED) === 1;
  }

  /** Gives the helper a task (only when {@link idle}). */
  submit(task: EmbeddingTask): void {
    if (!this.idle) throw new Error('EmbeddingHelper.submit: the helper is busy or not started.');
    this.pending = task.id;
    this.thread.post(task);
  }

  /** The reply to the pending task if it has arrived, else null (never blocks). */
  poll(): EmbeddingReply | null {
    if (this.pending === null || Atomics.load(this.ctrl, REPLIES) === this.seen) return null;
    const msg = this.thread.receiveSync();
    if (!msg) return null;
    this.seen++;
    this.pending = null;
    return msg;
  }

  /** Blocks until the pending task's reply arrives (or `timeoutMs` passes: then null). */
  wait(timeoutMs: number): EmbeddingReply | null {
    const t0 = Date.now();
    for (;;) {
      const r = this.poll();
      if (r || this.pending === null) return r;
      if (Date.now() - t0 > timeoutMs) return null;
      Atomics.wait(this.ctrl, REPLIES, this.seen, 100);
    }
  }

  /** Stops the helper. */
  dispose(): void {
    this.pending = null;
    void this.thread.terminate();
  }
}
