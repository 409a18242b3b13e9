import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
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
 * The helper thread's program: the diffusion-map code by its source text (see `diffusionSource`) and
 * a message loop that embeds each task's graph with the task's uniforms and posts the result back on
 * the reply port, bumping a shared counter the main thread can wait on.
 */
function helperProgram(): string {
  return `'use strict';
const { workerData } = require('node:worker_threads');
${diffusionSource()}
const ctrl = new Int32Array(workerData.ctrl);
const port = workerData.port;
port.on('message', (task) => {
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
  port.postMessage(reply);
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
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private pending: number | null = null;
  private seen = 0;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.port.unref();
    this.worker = new Worker(helperProgram(), { eval: true, workerData: { ctrl: this.ctrl.buffer, port: port2 }, transferList: [port2] });
    this.worker.unref();
    this.worker.on('error', () => undefined);
  }

  /** Whether the helper is up and has no task. */
  get idle(): boolean {
    return this.pending === null && Atomics.load(this.ctrl, STARTED) === 1;
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
    this.port.postMessage(task);
  }

  /** The reply to the pending task if it has arrived, else null (never blocks). */
  poll(): EmbeddingReply | null {
    if (this.pending === null || Atomics.load(this.ctrl, REPLIES) === this.seen) return null;
    const msg = receiveMessageOnPort(this.port);
    if (!msg) return null;
    this.seen++;
    this.pending = null;
    return msg.message as EmbeddingReply;
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
    this.port.close();
    void this.worker.terminate();
  }
}
