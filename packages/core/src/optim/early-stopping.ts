import { InvalidOptionError } from '../errors';

/** Options of {@link EarlyStopping}. */
export interface EarlyStoppingOptions {
  /** Stop after this many epochs whose loss exceeds best + minDelta (≥ 1). */
  patience: number;
  /** Tolerance above the best loss before an epoch counts as bad (default 0). */
  minDelta?: number;
  /**
   * Whether the trainer should restore the weights of the best epoch when stopping (default false).
   * Recorded as data only: the trainer keeps a copy of the weights whenever `step` reports `improved`.
   */
  restoreBest?: boolean;
}

/** What {@link EarlyStopping.step} decided for one epoch. */
export interface EarlyStoppingDecision {
  /** This epoch's loss is the best so far. */
  improved: boolean;
  /** Training should stop now. */
  stop: boolean;
}

/** Saved state of an {@link EarlyStopping}. */
export interface EarlyStoppingState {
  bestLoss: number | null;
  bestEpoch: number;
  counter: number;
  epoch: number;
  stopped: boolean;
}

/**
 * Early stopping with the reference inVAE rule (`EarlyStopper`): a loss below the best so far resets
 * the counter; a loss above best + minDelta increments it; a loss in between changes nothing; stop
 * when the counter reaches `patience`. A NaN loss counts as bad.
 */
export class EarlyStopping {
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBest: boolean;
  private best = Infinity;
  private bestAt = -1;
  private counter = 0;
  private epoch = 0;
  private stopped = false;

  constructor(options: EarlyStoppingOptions) {
    if (!Number.isSafeInteger(options?.patience) || options.patience < 1) {
      throw new InvalidOptionError('patience', `Early stopping patience must be an integer ≥ 1, got ${options?.patience}.`);
    }
    const minDelta = options.minDelta ?? 0;
    if (!(minDelta >= 0) || !Number.isFinite(minDelta)) throw new InvalidOptionError('minDelta', `minDelta must be a finite number ≥ 0, got ${minDelta}.`);
    this.patience = options.patience;
    this.minDelta = minDelta;
    this.restoreBest = options.restoreBest ?? false;
  }

  /** Best loss so far (Infinity before any finite loss). */
  get bestLoss(): number {
    return this.best;
  }

  /** 0-based epoch of the best loss (−1 before any). */
  get bestEpoch(): number {
    return this.bestAt;
  }

  /** Whether a stop has been signalled. */
  get shouldStop(): boolean {
    return this.stopped;
  }

  /** Records the loss of the next epoch and says whether it improved and whether to stop. */
  step(loss: number): EarlyStoppingDecision {
    const epoch = this.epoch++;
    let improved = false;
    if (loss < this.best) {
      this.best = loss;
      this.bestAt = epoch;
      this.counter = 0;
      improved = true;
    } else if (!(loss <= this.best + this.minDelta)) {
      this.counter += 1;
      if (this.counter >= this.patience) this.stopped = true;
    }
    return { improved, stop: this.stopped };
  }

  /** State to save with a checkpoint. */
  toJSON(): EarlyStoppingState {
    return {
      bestLoss: Number.isFinite(this.best) ? this.best : null,
      bestEpoch: this.bestAt,
      counter: this.counter,
      epoch: this.epoch,
      stopped: this.stopped,
    };
  }

  /** Restores {@link EarlyStopping.toJSON} output. */
  loadState(state: EarlyStoppingState): void {
    const best = state?.bestLoss === null ? Infinity : state?.bestLoss;
    if (typeof best !== 'number' || Number.isNaN(best) || !Number.isSafeInteger(state.counter) || !Number.isSafeInteger(state.epoch) || !Number.isSafeInteger(state.bestEpoch)) {
      throw new InvalidOptionError('state', 'Invalid EarlyStopping state.');
    }
    this.best = best;
    this.bestAt = state.bestEpoch;
    this.counter = state.counter;
    this.epoch = state.epoch;
    this.stopped = Boolean(state.stopped);
  }
}
