import { InvalidOptionError } from '../errors';

/** Something with a settable learning rate (e.g. {@link Adam}). */
export interface HasLearningRate {
  learningRate: number;
}

/** Options of {@link ReduceLROnPlateau} (torch defaults). */
export interface ReduceLROnPlateauOptions {
  /** Multiply the learning rate by this on a plateau (default 0.1; in (0, 1)). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** Relative improvement needed: better means `metric < best·(1 − threshold)` (default 1e-4). */
  threshold?: number;
  /** Epochs to wait after a reduction before counting bad epochs again (default 0). */
  cooldown?: number;
  /** Lower bound of the learning rate (default 0). */
  minLr?: number;
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/** Saved state of a {@link ReduceLROnPlateau}. */
export interface ReduceLROnPlateauState {
  /** Best metric so far; null before the first improvement (Infinity is not JSON). */
  best: number | null;
  numBadEpochs: number;
  cooldownCounter: number;
  lastEpoch: number;
}

function nonNegInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new InvalidOptionError(name, `${name} must be a non-negative integer, got ${v}.`);
  return v;
}

function nonNegNum(name: string, v: number): number {
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new InvalidOptionError(name, `${name} must be a finite number ≥ 0, got ${v}.`);
  return v;
}

/**
 * Lowers the learning rate when a metric to be minimised stops improving, with the semantics of
 * torch's `ReduceLROnPlateau(mode='min', threshold_mode='rel')`: a NaN metric counts as a bad epoch.
 */
export class ReduceLROnPlateau {
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly cooldown: number;
  readonly minLr: number;
  readonly eps: number;
  private best = Infinity;
  private numBad = 0;
  private cooldownCounter = 0;
  private lastEpoch = 0;

  constructor(
    private readonly target: HasLearningRate,
    options: ReduceLROnPlateauOptions = {},
  ) {
    const factor = options.factor ?? 0.1;
    if (!(factor > 0 && factor < 1)) throw new InvalidOptionError('factor', `factor must be in (0, 1), got ${factor}.`);
    this.factor = factor;
    this.patience = nonNegInt('patience', options.patience ?? 10);
    this.threshold = nonNegNum('threshold', options.threshold ?? 1e-4);
    this.cooldown = nonNegInt('cooldown', options.cooldown ?? 0);
    this.minLr = nonNegNum('minLr', options.minLr ?? 0);
    this.eps = nonNegNum('eps', options.eps ?? 1e-8);
  }

  /** Best metric seen so far (Infinity before the first step). */
  get bestMetric(): number {
    return this.best;
  }

  /** Consecutive epochs without improvement. */
  get badEpochs(): number {
    return this.numBad;
  }

  /**
   * Records one epoch's metric; lowers the target's learning rate when the patience is exhausted.
   * @returns true when the learning rate was reduced at this step.
   */
  step(metric: number): boolean {
    this.lastEpoch += 1;
    if (metric < this.best * (1 - this.threshold)) {
      this.best = metric;
      this.numBad = 0;
    } else {
      this.numBad += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBad = 0;
    }
    if (this.numBad > this.patience) {
      const old = this.target.learningRate;
      const next = Math.max(old * this.factor, this.minLr);
      this.cooldownCounter = this.cooldown;
      this.numBad = 0;
      if (old - next > this.eps) {
        this.target.learningRate = next;
        return true;
      }
    }
    return false;
  }

  /** State to save with a checkpoint. */
  toJSON(): ReduceLROnPlateauState {
    return { best: Number.isFinite(this.best) ? this.best : null, numBadEpochs: this.numBad, cooldownCounter: this.cooldownCounter, lastEpoch: this.lastEpoch };
  }

  /** Restores {@link ReduceLROnPlateau.toJSON} output. */
  loadState(state: ReduceLROnPlateauState): void {
    const best = state?.best === null ? Infinity : state?.best;
    if (typeof best !== 'number' || Number.isNaN(best) || best === -Infinity) throw new InvalidOptionError('state', 'Invalid ReduceLROnPlateau state: best.');
    this.numBad = nonNegInt('numBadEpochs', state.numBadEpochs);
    this.cooldownCounter = nonNegInt('cooldownCounter', state.cooldownCounter);
    this.lastEpoch = nonNegInt('lastEpoch', state.lastEpoch);
    this.best = best;
  }
}
