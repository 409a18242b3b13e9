import { InvalidOptionError } from '../errors';

/**
 * Linear warm-up of the KL and total-correlation weights, as the reference inVAE: at training
 * iteration `t` (1-based, counted over all epochs) the weight is `min(1, t / (epochs × iterationsPerEpoch)) × target`.
 * With 0 warm-up epochs the factor is always 1.
 */
export class LinearWarmup {
  /** Iterations until the full weight is reached. */
  readonly totalIterations: number;

  constructor(options: { epochs: number; iterationsPerEpoch: number }) {
    const { epochs, iterationsPerEpoch } = options;
    if (!Number.isSafeInteger(epochs) || epochs < 0) throw new InvalidOptionError('warmUpEpochs', `warm-up epochs must be an integer ≥ 0, got ${epochs}.`);
    if (!Number.isSafeInteger(iterationsPerEpoch) || iterationsPerEpoch < 1) {
      throw new InvalidOptionError('iterationsPerEpoch', `iterationsPerEpoch must be an integer ≥ 1, got ${iterationsPerEpoch}.`);
    }
    this.totalIterations = epochs * iterationsPerEpoch;
  }

  /** Multiplier in [0, 1] for 1-based iteration `iteration`. */
  factor(iteration: number): number {
    if (!Number.isSafeInteger(iteration) || iteration < 0) throw new InvalidOptionError('iteration', `iteration must be an integer ≥ 0, got ${iteration}.`);
    if (this.totalIterations === 0) return 1;
    return Math.min(1, iteration / this.totalIterations);
  }

  /** Warm-up finished at `iteration` (the reference starts LR scheduling and early stopping only after this). */
  done(iteration: number): boolean {
    return iteration > this.totalIterations;
  }

  /** The KL weight β and TC weight at `iteration`, given their targets. */
  weights(iteration: number, targets: { kl: number; tc: number }): { kl: number; tc: number } {
    const f = this.factor(iteration);
    return { kl: f * targets.kl, tc: f * targets.tc };
  }
}
