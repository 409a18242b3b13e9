import type { tf } from '../tf';
import type { HasVariables } from '../nn/variables';

/** Per-call options every prior receives. */
export interface PriorCallOptions {
  /** Training mode (BatchNorm batch statistics and running-stat updates, dropout). */
  readonly training: boolean;
}

/** Mean and variance of a diagonal Gaussian prior; both broadcast against `[B, latentDim]` (e.g. shape `[1]` for a constant). */
export interface GaussianPriorParams {
  /** Prior mean. */
  readonly mean: tf.Tensor;
  /** Prior variance (not standard deviation), positive. */
  readonly variance: tf.Tensor;
}

/**
 * What every conditional prior p(z | u) shares. `u` are the encoded covariates of the prior
 * (`[B, covarDim]`), or `null` when the prior is unconditional (`covarDim` 0).
 * Variable names returned by `namedVariables()` are final (the prior picks its own prefix, e.g.
 * `logl_inv.fc.0.weight`), so that the model's state dict matches the reference's.
 */
export interface ConditionalPriorBase extends HasVariables {
  /** Width of the latent block this prior covers. */
  readonly latentDim: number;
  /** Width of the covariate encoding it is conditioned on (0 = unconditional). */
  readonly covarDim: number;
  /** Releases the prior's variables. */
  dispose(): void;
  /**
   * Optional hook of query mapping (`Invae.map`, scArches-style surgery): adds `k` covariate columns
   * (categories first seen in a query, e.g. new batches) after the `covarDim` ones, each with input
   * weights of its own initialised so that the prior is unchanged until they are trained (e.g.
   * `MLP.addQueryInputs`), flagged `query` in `namedVariables()`. Afterwards `u` has `covarDim + k`
   * columns; rows whose last k columns are zero must give exactly the values they gave before.
   * Called once, right after the prior is built, for models with query columns (also when such a
   * model is loaded, before its weights are assigned). A prior without it is given only the first
   * `covarDim` columns: query cells get the prior of an unseen category.
   */
  addQueryCovariates?(k: number): void;
}

/** A conditional prior that is a diagonal Gaussian with parameters computed from `u`. */
export interface GaussianConditionalPrior extends ConditionalPriorBase {
  /** Discriminant. */
  readonly family: 'gaussian';
  /** Mean and variance for the batch. */
  params(u: tf.Tensor2D | null, opts: PriorCallOptions): GaussianPriorParams;
}

/**
 * A conditional prior known only up to its normaliser, log p̃(z | u), trained by score matching
 * (as the invariant prior of NFinVAE). The model adds `logDensity(z, u, {frozen: true})` to the
 * ELBO (gradients reach z but not the prior's parameters) and subtracts `β · scoreMatchingLoss(z̄, u)`
 * computed at a detached copy z̄ (gradients reach the prior's parameters only).
 */
export interface EnergyConditionalPrior extends ConditionalPriorBase {
  /** Discriminant. */
  readonly family: 'energy';
  /** Unnormalised log-density per cell `[B]`; with `frozen`, no gradient reaches the prior's parameters. */
  logDensity(z: tf.Tensor2D, u: tf.Tensor2D | null, opts: PriorCallOptions & { frozen?: boolean }): tf.Tensor1D;
  /** Scalar score-matching loss (mean over cells) the prior trains by, at latent values `z` (treated as data). */
  scoreMatchingLoss(z: tf.Tensor2D, u: tf.Tensor2D | null, opts: PriorCallOptions): tf.Scalar;
}

/** Any conditional prior a model can use. */
export type ConditionalPrior = GaussianConditionalPrior | EnergyConditionalPrior;
