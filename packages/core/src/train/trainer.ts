import { availableParallelism } from 'node:os';
import { tf } from '../tf';
import { deriveSeed } from '../random/rng';
import { MinibatchSampler } from '../data/minibatches';
import { gatherBatch, disposeBatch, type RowMatrix } from '../data/gather';
import type { RowSource } from '../data/row-source';
import { Adam } from '../optim/adam';
import { ReduceLROnPlateau } from '../optim/plateau';
import { EarlyStopping } from '../optim/early-stopping';
import { LinearWarmup } from '../optim/warmup';
import type { InvaeModel } from '../module/invae';
import { InvalidOptionError } from '../errors';
import { DataParallelTrainer } from '../parallel/data-parallel';
import { TrainingDivergedError } from './errors';
import { trainValidationSplit } from '../data/split';
import { minibatchLoss, validationLoss } from './batch-loss';
import { autoEpochs, resolveTrainOptions, type EpochReport, type ResolvedTrainOptions, type TrainOptions } from './options';
import { WeightSnapshot } from './snapshot';

/**
 * Cells × genes per minibatch the wasm engine can train on: its heap (≤ 2 GiB in Node) holds the
 * ~100 batch-sized intermediates of the NB likelihood and their gradients. Measured: 128 × 14 888
 * trains, 256 × 14 888 runs out of memory.
 */
const WASM_BATCH_ELEMENTS = 1_500_000;

/**
 * `workers: 'auto'` trains data-parallel only when a step is large enough to pay for starting the
 * workers and synchronising them every step: at least this many cells per replica, cells × genes
 * per minibatch, and steps in all. Measured (wasm, 2000 genes, hidden 128): every replica pays a
 * fixed ~35–50 ms per step whatever its rows (weight-sized work: matmul weight packing, transposes,
 * Adam) plus ~0.26 ms per row, and a step's synchronisation costs ~5 ms, so splitting a minibatch
 * pays from ~60 rows × 2000 genes (≈ 230 rows × 500 genes) on: about 128k cells × genes.
 */
const AUTO_MIN_PART_ROWS = 32;
const AUTO_MIN_BATCH_ELEMENTS = 128 * 1024;
const AUTO_MIN_STEPS = 64;

/** The data a model is trained on: counts (dense or CSR, streamed by rows) and encoded covariates. */
export interface TrainingData {
  /** Counts, cells × genes. */
  x: RowSource;
  /** Encoded invariant covariates, cells × invCovarDim (null when the model uses none). */
  inv: RowMatrix | null;
  /** Encoded spurious covariates, cells × (spurCovarDim + spurQueryDim) (null when the model uses none). */
  spur: RowMatrix | null;
}

/** What {@link trainModel} returns. */
export interface TrainHistory {
  /** One report per completed epoch. */
  epochs: EpochReport[];
  /** Why training ended. */
  stoppedBy: 'epochs' | 'early-stopping' | 'aborted' | 'diverged';
  /** Where the loss (or the weights) became non-finite, when `stoppedBy` is `diverged`; the model holds the weights of the last epoch in `epochs`. */
  diverged?: { epoch: number; step: number; loss: string };
  /** Cells held out for validation (0 without {@link TrainOptions.validation}); the rest trained. */
  validationCells?: number;
  /**
   * Epoch whose weights early stopping put back (`earlyStopping.restoreBest`: the epoch with the best
   * monitored loss); null when the model holds the weights of its last epoch.
   */
  restoredEpoch?: number | null;
  /** Total wall-clock seconds. */
  seconds: number;
  /** Model replicas that trained (1 = the main thread only; see {@link TrainOptions.workers}). */
  workers: number;
}

/**
 * Trains an inVAE model with Adam on minibatches, as the reference `train()`: per step the KL/TC
 * weights are warmed up, the negative objective is minimised; per epoch the mean loss drives the
 * optional plateau schedule and early stopping (both only after warm-up). Shuffling and the
 * reparameterisation noise come from `seed`, so the same seed on the same engine gives the same loss
 * curve. A non-finite loss (or non-finite weights at the end of an epoch) restores the weights of
 * the last completed epoch and throws {@link TrainingDivergedError}, whose `history` holds the
 * completed epochs (`stoppedBy: 'diverged'`). With `validation`, a seeded random fraction of the
 * cells is held out of training and its loss computed in eval mode after every epoch; early stopping
 * then watches it (by default) and, when it triggers, restores the weights of the best epoch.
 * Otherwise the model is left in the state of the last epoch.
 */
export async function trainModel(model: InvaeModel, data: TrainingData, options: TrainOptions = {}): Promise<TrainHistory> {
  const resolved = resolveTrainOptions(options);
  checkData(model, data);
  // the held-out cells (seeded by the training seed); without a split every cell trains
  const split = resolved.validation > 0 ? trainValidationSplit({ nRows: data.x.nRows, validationFraction: resolved.validation, seed: resolved.seed }) : null;
  const n = split ? split.train.length : data.x.nRows;
  if (n < 2) throw new InvalidOptionError('data', `Training needs at least 2 cells, got ${n}${split ? ` after holding out ${split.validation.length} for validation` : ''}.`);
  if (split && split.validation.length === 0) {
    throw new InvalidOptionError('validation', `validation: ${resolved.validation} of ${data.x.nRows} cells holds out no cell.`, { hint: 'use a larger fraction, or no validation split' });
  }
  const o: PlannedOptions = { ...resolved, epochs: resolved.epochs === 'auto' ? autoEpochs(n) : resolved.epochs };
  const warn = options.warn ?? ((m: string) => console.warn(`invae: warning: ${m}`));
  const maxRows = tf.getBackend() === 'wasm' ? Math.max(8, Math.floor(WASM_BATCH_ELEMENTS / Math.max(1, data.x.nCols))) : Infinity;
  // every replica holds its part of a minibatch: the engine's cap applies per part
  const capped = (replicas: number) => Math.min(o.batchSize, n, maxRows * replicas);
  let replicas = chooseReplicas(o, options, data.x.nCols, Math.min(o.batchSize, n), n);
  const variables = model.trainableVariables;
  const optimizer = new Adam(variables, { learningRate: o.learningRate, weightDecay: o.weightDecay });
  let parallel: DataParallelTrainer | null = null;
  if (replicas > 1) {
    try {
      parallel = await DataParallelTrainer.start(model, optimizer, data, {
        replicas,
        recipe: options.replica!,
        engine: tf.getBackend(),
        batchSize: capped(replicas),
        datasetSize: n,
        learningRate: o.learningRate,
        weightDecay: o.weightDecay,
      });
    } catch (e) {
      if (o.workers !== 'auto') {
        optimizer.dispose();
        throw e;
      }
      warn(`data-parallel training is unavailable (${(e as Error).message}); training in one thread.`);
      replicas = 1;
    }
  }
  try {
    return await trainLoop(model, data, options, o, optimizer, parallel, replicas, capped(replicas), split, warn);
  } finally {
    await parallel?.close();
    optimizer.dispose();
  }
}

/** {@link ResolvedTrainOptions} with the number of epochs known. */
type PlannedOptions = Omit<ResolvedTrainOptions, 'epochs'> & { epochs: number };

/** The epochs of {@link trainModel} once the optimiser (and the workers, if any) are set up. */
async function trainLoop(
  model: InvaeModel,
  data: TrainingData,
  options: TrainOptions,
  o: PlannedOptions,
  optimizer: Adam,
  parallel: DataParallelTrainer | null,
  replicas: number,
  batchSize: number,
  split: { train: Int32Array; validation: Int32Array } | null,
  warn: (m: string) => void,
): Promise<TrainHistory> {
  const n = split ? split.train.length : data.x.nRows;
  if (batchSize < Math.min(o.batchSize, n)) {
    warn(
      `a minibatch of ${Math.min(o.batchSize, n)} cells × ${data.x.nCols} genes does not fit the wasm engine's memory; using ${batchSize} cells per minibatch (select highly variable genes, or use @tensorflow/tfjs-node, for larger batches).`,
    );
  }
  // A last minibatch of one cell breaks BatchNorm's batch statistics: drop it, as scvi-tools does.
  // Block-stored data (a file on disk) is shuffled by block: a minibatch touches few blocks.
  const blocks = data.x.blockSize ? { size: data.x.blockSize, window: o.shuffleWindow } : undefined;
  const sampler = new MinibatchSampler({ rows: split ? split.train : n, batchSize, seed: o.seed, dropLast: n % batchSize === 1, blocks });
  const perEpoch = sampler.batchesPerEpoch;
  const warmup = new LinearWarmup({ epochs: o.warmUpEpochs, iterationsPerEpoch: perEpoch });
  const plateau = o.lrSchedule ? new ReduceLROnPlateau(optimizer, { patience: o.lrSchedule.patience, factor: o.lrSchedule.factor, minLr: o.lrSchedule.minLr }) : null;
  const es = o.earlyStopping;
  const stopper = es ? new EarlyStopping({ patience: es.patience, minDelta: es.minDelta, restoreBest: es.restoreBest }) : null;
  const snapshot = new WeightSnapshot(model);
  // weights of the epoch with the best monitored loss, for restoreBest
  const best = stopper?.restoreBest ? new WeightSnapshot(model) : null;
  const history: TrainHistory = { epochs: [], stoppedBy: 'epochs', seconds: 0, workers: replicas, validationCells: split?.validation.length ?? 0, restoredEpoch: null };
  const t0 = performance.now();
  let iteration = 0;
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const start = performance.now();
      const lr = optimizer.learningRate;
      let lossSum = 0;
      let cells = 0;
      let termSums: Record<string, tf.Scalar> = {};
      const hostTermSums: Record<string, number> = {};
      let step = 0;
      for (const indices of sampler.batches(epoch - 1)) {
        if (options.signal?.aborted) {
          history.stoppedBy = 'aborted';
          break;
        }
        step++;
        iteration++;
        model.warmUp(iteration, warmup.totalIterations);
        const seed = deriveSeed(o.seed, epoch, step);
        let loss: number;
        if (parallel) {
          const r = await parallel.step(data, indices, seed, iteration, warmup.totalIterations);
          loss = r.loss;
          for (const [k, v] of Object.entries(r.terms)) hostTermSums[k] = (hostTermSums[k] ?? 0) + v;
        } else {
          loss = trainStep(model, optimizer, data, indices, n, seed, (terms) => {
            termSums = accumulate(termSums, terms);
          });
        }
        if (!Number.isFinite(loss)) {
          snapshot.restore();
          tf.dispose(Object.values(termSums));
          throw diverged(history, epoch, step, snapshot.epoch, loss, false);
        }
        lossSum += loss * indices.length;
        cells += indices.length;
        options.onStep?.({ epoch, step, stepsPerEpoch: perEpoch, loss, cells: indices.length });
      }
      // replicas agree again (BatchNorm statistics averaged) before anyone reads the model
      if (parallel) await parallel.sync();
      if (history.stoppedBy === 'aborted') {
        tf.dispose(Object.values(termSums));
        break;
      }
      const terms = parallel ? Object.fromEntries(Object.entries(hostTermSums).map(([k, v]) => [k, v / Math.max(1, step)])) : await readTerms(termSums, step);
      const trainSeconds = (performance.now() - start) / 1000;
      const validation = split ? await validate(model, data, split.validation, batchSize, o.seed, n) : null;
      const seconds = (performance.now() - start) / 1000;
      const hp = model.hyperparameters;
      const report: EpochReport = {
        epoch,
        epochs: o.epochs,
        loss: lossSum / cells,
        terms,
        ...(validation ? { validationLoss: validation.loss, validationTerms: validation.terms } : {}),
        seconds,
        cellsPerSecond: cells / trainSeconds,
        learningRate: lr,
        beta: hp.beta,
        tcBeta: hp.tcBeta,
      };
      if (!snapshot.take(epoch)) {
        // the losses were finite but the last steps left non-finite weights
        snapshot.restore();
        throw diverged(history, epoch, step, snapshot.epoch, Number.NaN, true);
      }
      history.epochs.push(report);
      await options.onEpoch?.(report);
      // One turn of the event loop per epoch: signal handlers (Ctrl-C), timers and I/O of the caller run
      // between epochs even when every step's promises resolve at once.
      await yieldToEventLoop();
      const warmedUp = warmup.done(iteration);
      if (plateau && warmedUp) plateau.step(report.loss);
      let stop = false;
      if (stopper && warmedUp) {
        const decision = stopper.step(es!.monitor === 'validation' ? report.validationLoss! : report.loss);
        if (decision.improved) best?.take(epoch);
        stop = decision.stop;
      }
      if (options.onCheckpoint && o.checkpointEvery > 0 && epoch % o.checkpointEvery === 0 && epoch < o.epochs && !stop) {
        await options.onCheckpoint(epoch);
      }
      if (stop) {
        history.stoppedBy = 'early-stopping';
        if (best && best.epoch > 0 && best.epoch !== epoch) {
          best.restore();
          history.restoredEpoch = best.epoch;
        }
        break;
      }
    }
    if (options.onCheckpoint && history.epochs.length > 0) await options.onCheckpoint(history.epochs.length);
  } finally {
    snapshot.dispose();
    best?.dispose();
    history.seconds = (performance.now() - t0) / 1000;
  }
  return history;
}

/** The divergence error, with the history of the completed epochs marked as diverged. */
function diverged(history: TrainHistory, epoch: number, step: number, restoredEpoch: number, loss: number, weights: boolean): TrainingDivergedError {
  history.stoppedBy = 'diverged';
  history.diverged = { epoch, step, loss: weights ? 'finite (the weights became non-finite)' : String(loss) };
  return new TrainingDivergedError(epoch, step, restoredEpoch, loss, { history, weights });
}

/**
 * Loss of the validation rows in eval mode, as the mean over cells of the minibatch losses (batches
 * of the training batch size, in row order). The noise of batch b is the same every epoch, so the
 * curve moves with the weights only.
 */
async function validate(
  model: InvaeModel,
  data: TrainingData,
  rows: Int32Array,
  batchSize: number,
  seed: number,
  datasetSize: number,
): Promise<{ loss: number; terms: Record<string, number> }> {
  let lossSum = 0;
  const termSums: Record<string, number> = {};
  // a last batch of one cell would make the TC estimate degenerate: fold it into the previous one
  const starts: number[] = [];
  for (let s = 0; s < rows.length; s += batchSize) starts.push(s);
  if (starts.length > 1 && rows.length - starts.at(-1)! === 1) starts.pop();
  for (let b = 0; b < starts.length; b++) {
    const idx = rows.subarray(starts[b]!, b + 1 < starts.length ? starts[b + 1]! : rows.length);
    const batch = gatherBatch(data.x, idx, { inv: data.inv, spur: data.spur });
    try {
      let names: string[] = [];
      const packed = tf.tidy(() => {
        const r = validationLoss(model, batch, deriveSeed(seed, 0, b), datasetSize);
        names = Object.keys(r.terms);
        return tf.stack([r.loss, ...names.map((k) => r.terms[k]!)]);
      });
      const values = await packed.data();
      packed.dispose();
      lossSum += values[0]! * idx.length;
      names.forEach((k, i) => (termSums[k] = (termSums[k] ?? 0) + values[i + 1]! * idx.length));
    } finally {
      disposeBatch(batch);
    }
  }
  const terms = Object.fromEntries(Object.entries(termSums).map(([k, v]) => [k, v / rows.length]));
  return { loss: lossSum / rows.length, terms };
}

/** Replicas to train with (see {@link TrainOptions.workers}). */
function chooseReplicas(o: PlannedOptions, options: TrainOptions, nCols: number, batchSize: number, nRows: number): number {
  if (o.workers !== 'auto') {
    if (o.workers > 1 && !options.replica) {
      throw new InvalidOptionError('workers', `workers: ${o.workers} needs a replica recipe (options.replica) from which worker threads rebuild the model.`, {
        hint: 'train through Invae.train (it supplies one), pass replica, or use workers: 1',
      });
    }
    return o.workers;
  }
  if (!options.replica || tf.getBackend() !== 'wasm') return 1;
  const replicas = Math.min(2, availableParallelism());
  if (replicas < 2) return 1;
  const steps = o.epochs * Math.max(1, Math.floor(nRows / batchSize));
  if (batchSize < replicas * AUTO_MIN_PART_ROWS || batchSize * nCols < AUTO_MIN_BATCH_ELEMENTS || steps < AUTO_MIN_STEPS) return 1;
  return replicas;
}

/** One optimisation step; returns the minibatch loss (one device read). */
function trainStep(
  model: InvaeModel,
  optimizer: Adam,
  data: TrainingData,
  indices: Int32Array,
  datasetSize: number,
  noiseSeed: number,
  onTerms: (terms: Record<string, tf.Scalar>) => void,
): number {
  const batch = gatherBatch(data.x, indices, { inv: data.inv, spur: data.spur });
  try {
    let terms: Record<string, tf.Scalar> = {};
    const loss = optimizer.minimize(() => {
      const r = minibatchLoss(model, batch, noiseSeed, datasetSize);
      terms = Object.fromEntries(Object.entries(r.terms).map(([k, v]) => [k, tf.keep(v)]));
      return r.loss;
    });
    onTerms(terms);
    return loss;
  } finally {
    disposeBatch(batch);
  }
}

/** Adds this step's terms to the running sums on the device (no read), disposing the inputs. */
function accumulate(sums: Record<string, tf.Scalar>, terms: Record<string, tf.Scalar>): Record<string, tf.Scalar> {
  const out: Record<string, tf.Scalar> = {};
  for (const [k, v] of Object.entries(terms)) {
    const prev = sums[k];
    out[k] = prev ? (tf.add(prev, v) as tf.Scalar) : v;
    if (prev) {
      prev.dispose();
      v.dispose();
    }
  }
  for (const [k, v] of Object.entries(sums)) if (!(k in out)) v.dispose();
  return out;
}

async function readTerms(sums: Record<string, tf.Scalar>, steps: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(sums)) {
    out[k] = (await v.data())[0]! / Math.max(1, steps);
    v.dispose();
  }
  return out;
}

function checkData(model: InvaeModel, data: TrainingData): void {
  const c = model.config;
  if (data.x.nCols !== c.dataDim) {
    throw new InvalidOptionError('data.x', `The data has ${data.x.nCols} genes but the model was built for ${c.dataDim}.`, {
      hint: 'Select the genes the model was trained on, in the same order.',
    });
  }
  const check = (name: 'inv' | 'spur', m: RowMatrix | null, dim: number) => {
    const cols = m?.nCols ?? 0;
    if (cols !== dim) throw new InvalidOptionError(`data.${name}`, `The ${name} covariates have ${cols} columns but the model expects ${dim}.`);
    if (m && m.nRows !== data.x.nRows) throw new InvalidOptionError(`data.${name}`, `The ${name} covariates have ${m.nRows} rows for ${data.x.nRows} cells.`);
  };
  check('inv', data.inv, c.invCovarDim);
  check('spur', data.spur, model.spurInputDim);
}

/** Resolves on the next turn of the event loop (after pending I/O callbacks and signal handlers). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}
