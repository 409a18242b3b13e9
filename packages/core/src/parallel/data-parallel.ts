import { tf } from '../tf';
import { deriveSeed } from '../random/rng';
import { gatherBatch, gatherRows, disposeBatch, type RowMatrix } from '../data/gather';
import type { RowSource } from '../data/row-source';
import type { Adam } from '../optim/adam';
import type { InvaeModel } from '../module/invae';
import { flatGradientStep, type ReplicaStepResult } from './gradient-step';
import { readInto, readVariables, sizesOf, splitLike, writeVariables } from './flat';
import { ReplicaWorker } from './pool';
import type { ReplicaRecipe } from './recipe';

/** Options of {@link DataParallelTrainer.start}. */
export interface DataParallelOptions {
  /** Replicas in all, the main thread's included (≥ 2). */
  replicas: number;
  recipe: ReplicaRecipe;
  /** Engine request the workers initialise (the main thread's engine). */
  engine: string;
  /** Largest minibatch the trainer will hand to {@link DataParallelTrainer.step}. */
  batchSize: number;
  /** Cells in the training set. */
  datasetSize: number;
  learningRate: number;
  weightDecay: number;
}

/** The data a step reads: counts and encoded covariates. */
export interface ParallelData {
  x: RowSource;
  inv: RowMatrix | null;
  spur: RowMatrix | null;
}

/**
 * The noise seed of replica `rank` in a step: replica 0 (the main thread) keeps the step's seed, so
 * the random streams depend only on (seed, number of replicas).
 */
export function replicaSeed(stepSeed: number, rank: number): number {
  return rank === 0 ? stepSeed : deriveSeed(stepSeed, 0x5eed, rank);
}

/**
 * Splits a minibatch of `n` rows into at most `replicas` contiguous parts of near-equal size, each
 * with at least 2 rows (BatchNorm needs two); returns the part sizes (fewer parts for tiny batches).
 */
export function splitSizes(n: number, replicas: number): number[] {
  const k = Math.max(1, Math.min(replicas, Math.floor(n / 2)));
  const base = Math.floor(n / k);
  const extra = n % k;
  return Array.from({ length: k }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * Synchronous data-parallel training (like PyTorch DDP): the main thread is replica 0 and holds the
 * model being trained; every worker thread holds a replica with its own engine. Each step splits the
 * minibatch into contiguous parts, every replica computes the gradient of its part's mean loss with
 * its own noise seed, the gradients are averaged weighted by part size (the gradient of the whole
 * minibatch's mean loss), and every replica applies the same Adam update to the same weights.
 *
 * BatchNorm normalises each part by its own statistics (DDP without SyncBatchNorm); the running
 * statistics are averaged over the replicas at every {@link sync} (an exponential moving average is
 * linear, so this equals averaging them every step), and then every replica takes the main thread's
 * weights, so replicas cannot drift apart.
 */
export class DataParallelTrainer {
  private readonly all: tf.Variable[];
  private readonly trainable: tf.Variable[];
  private readonly buffers: tf.Variable[];
  private readonly gradSize: number;
  /** Host copy of this replica's BatchNorm statistics (see {@link sync}). */
  private readonly statsBuffer: Float32Array;
  private readonly shared: Float32Array;
  private pendingApplied = false;

  private constructor(
    private readonly model: InvaeModel,
    private readonly optimizer: Adam,
    private readonly workers: ReplicaWorker[],
    private readonly inputs: Float32Array[],
    private readonly outputs: Float32Array[],
    shared: Float32Array,
    private readonly opts: DataParallelOptions,
  ) {
    const named = model.namedVariables();
    this.all = named.map((v) => v.variable);
    this.trainable = model.trainableVariables;
    this.buffers = named.filter((v) => !v.trainable).map((v) => v.variable);
    this.gradSize = sizesOf(this.trainable).total;
    this.statsBuffer = new Float32Array(sizesOf(this.buffers).total);
    this.shared = shared;
  }

  /** Replicas in all (main thread included). */
  get replicas(): number {
    return this.workers.length + 1;
  }

  /**
   * Starts `replicas − 1` workers, each building its replica from `recipe` and taking the model's
   * current weights. @throws WorkerError when a worker cannot start (all are stopped again).
   */
  static async start(model: InvaeModel, optimizer: Adam, data: ParallelData, opts: DataParallelOptions): Promise<DataParallelTrainer> {
    const named = model.namedVariables();
    const all = named.map((v) => v.variable);
    const total = sizesOf(all).total;
    const gradSize = sizesOf(model.trainableVariables).total;
    const statSize = sizesOf(named.filter((v) => !v.trainable).map((v) => v.variable)).total;
    const shared = new Float32Array(new SharedArrayBuffer(Math.max(total, 1) * 4));
    readVariables(all, shared);
    const invCols = data.inv?.nCols ?? 0;
    const spurCols = data.spur?.nCols ?? 0;
    const rowCapacity = Math.max(Math.ceil(opts.batchSize / opts.replicas), 3);
    const inputs: Float32Array[] = [];
    const outputs: Float32Array[] = [];
    const workers: ReplicaWorker[] = [];
    try {
      for (let rank = 1; rank < opts.replicas; rank++) {
        const input = new SharedArrayBuffer(Math.max(1, rowCapacity * (data.x.nCols + invCols + spurCols)) * 4);
        const output = new SharedArrayBuffer(Math.max(1, gradSize, statSize) * 4);
        inputs.push(new Float32Array(input));
        outputs.push(new Float32Array(output));
        workers.push(
          new ReplicaWorker({
            rank,
            engine: opts.engine,
            recipe: opts.recipe,
            names: named.map((v) => v.name),
            shapes: named.map((v) => [...v.variable.shape]),
            trainable: named.map((v) => v.trainable),
            learningRate: opts.learningRate,
            weightDecay: opts.weightDecay,
            nCols: data.x.nCols,
            invCols,
            spurCols,
            datasetSize: opts.datasetSize,
            input,
            output,
            shared: shared.buffer as SharedArrayBuffer,
          }),
        );
      }
      await Promise.all(workers.map((w) => w.next('ready')));
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return new DataParallelTrainer(model, optimizer, workers, inputs, outputs, shared, opts);
  }

  private async drainApplied(): Promise<void> {
    if (!this.pendingApplied) return;
    this.pendingApplied = false;
    await Promise.all(this.workers.map((w) => w.next('applied')));
  }

  /**
   * One synchronous step on the minibatch `indices` of `data`; returns the minibatch's mean loss and
   * terms (part means weighted by part size). The caller has already warmed the main model up to
   * `iteration`.
   */
  async step(data: ParallelData, indices: Int32Array, stepSeed: number, iteration: number, warmUpIterations: number): Promise<ReplicaStepResult> {
    const sizes = splitSizes(indices.length, this.replicas);
    const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const part = (r: number) => indices.subarray(starts[r]!, starts[r]! + sizes[r]!);
    await this.drainApplied();
    for (let r = 1; r < sizes.length; r++) {
      const idx = part(r);
      const input = this.inputs[r - 1]!;
      const n = idx.length;
      input.set(data.x.readRows(idx), 0);
      let off = n * data.x.nCols;
      if (data.inv && data.inv.nCols > 0) {
        input.set(gatherRows(data.inv, idx), off);
        off += n * data.inv.nCols;
      }
      if (data.spur && data.spur.nCols > 0) input.set(gatherRows(data.spur, idx), off);
      this.workers[r - 1]!.send({ type: 'step', rows: n, seed: replicaSeed(stepSeed, r), iteration, warmUpIterations });
    }
    const batch = gatherBatch(data.x, part(0), { inv: data.inv, spur: data.spur });
    let mine: ReplicaStepResult & { flat: tf.Tensor1D };
    try {
      mine = flatGradientStep(this.model, this.trainable, batch, replicaSeed(stepSeed, 0), this.opts.datasetSize);
    } finally {
      disposeBatch(batch);
    }
    const results: ReplicaStepResult[] = [mine];
    const n = indices.length;
    const P = this.gradSize;
    let mean: tf.Tensor1D;
    try {
      for (let r = 1; r < sizes.length; r++) results.push(await this.workers[r - 1]!.next('stepped'));
      // weighted mean of the part gradients, on the engine (vectorised), then where every replica reads it
      mean = tf.tidy(() => {
        let acc = tf.mul(mine.flat, sizes[0]! / n);
        for (let r = 1; r < sizes.length; r++) acc = tf.add(acc, tf.mul(tf.tensor1d(this.outputs[r - 1]!.subarray(0, P)), sizes[r]! / n));
        return acc as tf.Tensor1D;
      });
    } finally {
      mine.flat.dispose();
    }
    try {
      readInto(mean, this.shared);
    } finally {
      mean.dispose();
    }
    const shared = this.shared;
    let loss = 0;
    const terms: Record<string, number> = {};
    results.forEach((res, r) => {
      const w = sizes[r]! / n;
      loss += w * res.loss;
      for (const [k, v] of Object.entries(res.terms)) terms[k] = (terms[k] ?? 0) + w * v;
    });
    const learningRate = this.optimizer.learningRate;
    for (const w of this.workers) w.send({ type: 'apply', learningRate });
    this.pendingApplied = true;
    const grads = splitLike(this.trainable, shared);
    try {
      this.optimizer.applyGradients(grads);
    } finally {
      tf.dispose(grads);
    }
    return { loss, terms };
  }

  /**
   * Makes the replicas consistent: the BatchNorm running statistics (every non-trainable variable)
   * become their mean over the replicas, in the main model too, and every worker then takes the main
   * model's weights. Call at epoch ends and before the model is read.
   */
  async sync(): Promise<void> {
    await this.drainApplied();
    const statSize = sizesOf(this.buffers).total;
    if (statSize > 0) {
      for (const w of this.workers) w.send({ type: 'stats' });
      const sum = new Float64Array(statSize);
      readVariables(this.buffers, this.statsBuffer);
      for (let i = 0; i < statSize; i++) sum[i] = this.statsBuffer[i]!;
      for (let r = 0; r < this.workers.length; r++) {
        await this.workers[r]!.next('stats');
        const o = this.outputs[r]!;
        for (let i = 0; i < statSize; i++) sum[i]! += o[i]!;
      }
      const mean = new Float32Array(statSize);
      for (let i = 0; i < statSize; i++) mean[i] = sum[i]! / this.replicas;
      writeVariables(this.buffers, mean);
    }
    readVariables(this.all, this.shared);
    for (const w of this.workers) w.send({ type: 'load' });
    await Promise.all(this.workers.map((w) => w.next('loaded')));
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
