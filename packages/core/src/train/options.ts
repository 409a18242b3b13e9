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

/** Early stopping on the epoch loss. */
export interface EarlyStoppingScheduleOptions {
  /** Epochs without improvement before training stops. */
  patience: number;
  /** Improvement smaller than this does not count (default 0). */
  minDelta?: number;
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
  /** Wall-clock seconds of the epoch. */
  seconds: number;
  /** Training throughput of the epoch. */
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
  /** Epochs (default 500, as the reference). */
  epochs?: number;
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
  /** Stop when the epoch loss stops improving (off by default). */
  earlyStopping?: EarlyStoppingScheduleOptions | false;
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
  epochs: number;
  batchSize: number;
  learningRate: number;
  weightDecay: number;
  seed: number;
  warmUpEpochs: number;
  lrSchedule: Required<PlateauScheduleOptions> | null;
  earlyStopping: Required<EarlyStoppingScheduleOptions> | null;
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

/** Validates training options and fills in defaults. @throws InvalidOptionError naming the option. */
export function resolveTrainOptions(o: TrainOptions = {}): ResolvedTrainOptions {
  const lr = o.lrSchedule ? o.lrSchedule : null;
  const es = o.earlyStopping ? o.earlyStopping : null;
  return {
    epochs: int('epochs', o.epochs ?? 500, 1),
    batchSize: int('batchSize', o.batchSize ?? 256, 2),
    learningRate: nonNegative('learningRate', o.learningRate ?? 1e-3, true),
    weightDecay: nonNegative('weightDecay', o.weightDecay ?? 1e-4),
    seed: int('seed', o.seed ?? 0, 0),
    warmUpEpochs: int('warmUpEpochs', o.warmUpEpochs ?? 0, 0),
    lrSchedule: lr
      ? { patience: int('lrSchedule.patience', lr.patience ?? 50, 1), factor: nonNegative('lrSchedule.factor', lr.factor ?? 0.1, true), minLr: nonNegative('lrSchedule.minLr', lr.minLr ?? 0) }
      : null,
    earlyStopping: es ? { patience: int('earlyStopping.patience', es.patience, 1), minDelta: nonNegative('earlyStopping.minDelta', es.minDelta ?? 0) } : null,
    checkpointEvery: int('checkpointEvery', o.checkpointEvery ?? 0, 0),
    workers: o.workers === undefined ? 1 : o.workers === 'auto' ? 'auto' : int('workers', o.workers, 1),
    shuffleWindow: int('shuffleWindow', o.shuffleWindow ?? DEFAULT_SHUFFLE_WINDOW, 1),
  };
}
