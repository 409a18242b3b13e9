import { InvalidOptionError } from '../errors';
import type { ReplicaRecipe } from '../parallel/recipe';

/** Learning-rate schedule on the epoch loss (torch's ReduceLROnPlateau, mode min). */
export interface PlateauScheduleOptions {
  /** Epochs without improvement before the rate is reduced (default 50, as the reference). */
  patience?: number;
  /** Factor the rate is multiplied by (default 0.1). */
  factor?: number;
  /** Lower bound of the rate (default 0). */
  minLr?: number;
}

/** Early stopping on the epoch loss (training or validation). */
export interface EarlyStoppingScheduleOptions {
  /** Epochs without improvement before training stops. */
  patience: number;
  /** Improvement smaller than this does not count (default 0). */
  minDelta?: number;
  /**
   * Which epoch loss decides: `'train'` (the mean training loss of the epoch) or `'validation'`
   * (the validation loss, needs {@link TrainOptions.validation}). Default: `'validation'` when a
   * validation split is held out, else `'train'`.
   */
  monitor?: 'train' | 'validation';
  /**
   * When early stopping triggers, put back the weights of the epoch with the best monitored loss
   * (as Keras' `restore_best_weights`). Default: true when monitoring the validation loss, false
   * when monitoring the training loss (the reference inVAE keeps the last weights). Training that
   * runs all its epochs keeps the last weights either way.
   */
  restoreBest?: boolean;
}

/** What {@link TrainOptions.onEpoch} receives after each epoch. */
export interface EpochReport {
  /** 1-based epoch. */
  epoch: number;
  /** Planned number of epochs. */
  epochs: number;
  /** Mean training loss (−objective) over the epoch's minibatches. */
  loss: number;
  /** Mean of each named loss term over the epoch (e.g. logPxZ, logPz, logQz, tc, scoreMatching). */
  terms: Record<string, number>;
  /**
   * Loss of the held-out validation cells after the epoch (eval mode: no dropout, BatchNorm running
   * statistics; the same noise every epoch), with the epoch's β and tc_β; absent without
   * {@link TrainOptions.validation}.
   */
  validationLoss?: number;
  /** The validation loss's named terms (means over the validation cells), as {@link EpochReport.terms}. */
  validationTerms?: Record<string, number>;
  /** Wall-clock seconds of the epoch (the validation pass included). */
  seconds: number;
  /** Training throughput of the epoch: training cells per second of the training steps (the validation pass excluded). */
  cellsPerSecond: number;
  /** Learning rate used in the epoch. */
  learningRate: number;
  /** Current weights of the KL and TC terms (after warm-up). */
  beta: number;
  tcBeta: number;
}

/** What {@link TrainOptions.onStep} receives after each minibatch. */
export interface StepReport {
  /** 1-based epoch. */
  epoch: number;
  /** 1-based step within the epoch. */
  step: number;
  /** Steps per epoch. */
  stepsPerEpoch: number;
  /** Minibatch loss (−objective). */
  loss: number;
  /** Cells in the minibatch. */
  cells: number;
}

/** Options of {@link trainModel}; defaults follow the reference's `train()`. */
export interface TrainOptions {
  /**
   * Epochs (default 500, as the reference). `'auto'`: scvi-tools' rule from the number of training
   * cells, {@link autoEpochs}.
   */
  epochs?: number | 'auto';
  /** Cells per minibatch (default 256). */
  batchSize?: number;
  /** Adam learning rate (default 1e-3). */
  learningRate?: number;
  /** Adam's (coupled, torch-style) weight decay (default 1e-4). */
  weightDecay?: number;
  /** Seed of shuffling and of the reparameterisation noise (default 0). */
  seed?: number;
  /** Epochs over which β and tc_β rise linearly from 0 (default 0 = no warm-up). */
  warmUpEpochs?: number;
  /** Reduce the learning rate on a plateau of the epoch loss (off by default). */
  lrSchedule?: PlateauScheduleOptions | false;
  /** Stop when the epoch loss (training or validation) stops improving (off by default). */
  earlyStopping?: EarlyStoppingScheduleOptions | false;
  /**
   * Fraction of the cells held out as a validation set (default 0 = none, all cells train): a
   * random split seeded by `seed` ({@link trainValidationSplit}); the validation loss is computed
   * after every epoch (an eval-mode forward pass over the held-out cells, about a tenth of an epoch's
   * work at 0.1) and reported in {@link EpochReport.validationLoss}.
   */
  validation?: number;
  /** Called after every epoch (awaited). */
  onEpoch?: (report: EpochReport) => void | Promise<void>;
  /** Called after every minibatch (not awaited; keep it cheap), e.g. for progress within long epochs. */
  onStep?: (report: StepReport) => void;
  /** Called every `checkpointEvery` epochs and at the end, with the model in a consistent state (awaited). */
  onCheckpoint?: (epoch: number) => void | Promise<void>;
  /** Epochs between checkpoints (default 0 = only at the end, if `onCheckpoint` is given). */
  checkpointEvery?: number;
  /** Aborts training between minibatches. */
  signal?: AbortSignal;
  /** Receives warnings (e.g. a minibatch reduced to fit the engine's memory); default console.warn. */
  warn?: (message: string) => void;
  /**
   * Data-parallel training over worker threads, each with its own engine and model replica
   * (replicas in all, the main thread included); default 1. `'auto'` uses min(2, CPU cores) replicas
   * on the wasm engine when a {@link TrainOptions.replica} recipe is known and a minibatch is large
   * enough to pay for the synchronisation, else 1. `1` trains in the main thread only (exactly the
   * single-thread algorithm; the default, since the speed-up of 2 replicas on 2 cores is not yet
   * established). With N > 1, every minibatch is split into N parts, so BatchNorm
   * statistics, the noise and the TC estimate are per part (as PyTorch DDP without SyncBatchNorm):
   * results are reproducible for a given seed and N, but differ from N = 1.
   */
  workers?: number | 'auto';
  /** How worker threads rebuild the model (`Invae.train` supplies one); required for `workers` > 1. */
  replica?: ReplicaRecipe;
  /**
   * For data stored in blocks (`RowSource.blockSize`, e.g. a backed .h5ad): blocks whose rows are
   * shuffled together; every epoch the block order is shuffled too (default 32).
   */
  shuffleWindow?: number;
}

/** Blocks per shuffle window for block-stored data (readers should keep twice as many in memory). */
export const DEFAULT_SHUFFLE_WINDOW = 32;

/** {@link TrainOptions} with defaults applied. */
export interface ResolvedTrainOptions {
  /** Planned epochs, or `'auto'` (resolved by {@link autoEpochs} once the training cells are known). */
  epochs: number | 'auto';
  batchSize: number;
  learningRate: number;
  weightDecay: number;
  seed: number;
  warmUpEpochs: number;
  lrSchedule: Required<PlateauScheduleOptions> | null;
  earlyStopping: Required<EarlyStoppingScheduleOptions> | null;
  validation: number;
  checkpointEvery: number;
  workers: number | 'auto';
  shuffleWindow: number;
}

function int(name: string, v: number, min: number): number {
  if (!Number.isSafeInteger(v) || v < min) throw new InvalidOptionError(name, `${name} must be an integer ≥ ${min}, got ${v}.`);
  return v;
}

function nonNegative(name: string, v: number, positive = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (positive && v === 0)) {
    throw new InvalidOptionError(name, `${name} must be a ${positive ? 'positive' : 'non-negative'} finite number, got ${v}.`);
  }
  return v;
}

/** Python's round(): halves to even (so {@link autoEpochs} equals scvi-tools' value exactly). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Epochs for a dataset of `nCells` training cells, scvi-tools' `get_max_epochs_heuristic`:
 * `max(min(round(20000 / nCells × 400), 400), 1)`, i.e. 400 epochs up to 20 000 cells, then
 * fewer so that the number of cells seen stays at 8 million (e.g. 100 000 cells → 80 epochs).
 * @throws InvalidOptionError unless `nCells` is a positive integer.
 */
export function autoEpochs(nCells: number): number {
  if (!Number.isSafeInteger(nCells) || nCells < 1) throw new InvalidOptionError('nCells', `autoEpochs needs a positive integer number of cells, got ${nCells}.`);
  return Math.max(Math.min(roundHalfEven((20000 / nCells) * 400), 400), 1);
}

function monitorOf(es: EarlyStoppingScheduleOptions, validation: number): 'train' | 'validation' {
  const m = es.monitor ?? (validation > 0 ? 'validation' : 'train');
  if (m !== 'train' && m !== 'validation') {
    throw new InvalidOptionError('earlyStopping.monitor', `earlyStopping.monitor must be 'train' or 'validation', got ${JSON.stringify(m)}.`);
  }
  if (m === 'validation' && !(validation > 0)) {
    throw new InvalidOptionError('earlyStopping.monitor', 'Early stopping on the validation loss needs a validation split.', {
      hint: 'hold cells out with validation: 0.1 (invae train --validation 0.1), or monitor the training loss',
    });
  }
  return m;
}

/** Validates training options and fills in defaults. @throws InvalidOptionError naming the option. */
export function resolveTrainOptions(o: TrainOptions = {}): ResolvedTrainOptions {
  const lr = o.lrSchedule ? o.lrSchedule : null;
  const es = o.earlyStopping ? o.earlyStopping : null;
  const validation = o.validation ?? 0;
  if (typeof validation !== 'number' || !(validation >= 0 && validation < 1)) {
    throw new InvalidOptionError('validation', `validation must be a fraction in [0, 1), got ${validation}.`, { hint: 'use e.g. 0.1 to hold out 10% of the cells' });
  }
  const monitor = es ? monitorOf(es, validation) : 'train';
  return {
    epochs: o.epochs === 'auto' ? 'auto' : int('epochs', o.epochs ?? 500, 1),
    batchSize: int('batchSize', o.batchSize ?? 256, 2),
    learningRate: nonNegative('learningRate', o.learningRate ?? 1e-3, true),
    weightDecay: nonNegative('weightDecay', o.weightDecay ?? 1e-4),
    seed: int('seed', o.seed ?? 0, 0),
    warmUpEpochs: int('warmUpEpochs', o.warmUpEpochs ?? 0, 0),
    lrSchedule: lr
      ? { patience: int('lrSchedule.patience', lr.patience ?? 50, 1), factor: nonNegative('lrSchedule.factor', lr.factor ?? 0.1, true), minLr: nonNegative('lrSchedule.minLr', lr.minLr ?? 0) }
      : null,
    earlyStopping: es
      ? {
          patience: int('earlyStopping.patience', es.patience, 1),
          minDelta: nonNegative('earlyStopping.minDelta', es.minDelta ?? 0),
          monitor,
          restoreBest: es.restoreBest ?? monitor === 'validation',
        }
      : null,
    validation,
    checkpointEvery: int('checkpointEvery', o.checkpointEvery ?? 0, 0),
    workers: o.workers === undefined ? 1 : o.workers === 'auto' ? 'auto' : int('workers', o.workers, 1),
    shuffleWindow: int('shuffleWindow', o.shuffleWindow ?? DEFAULT_SHUFFLE_WINDOW, 1),
  };
}
