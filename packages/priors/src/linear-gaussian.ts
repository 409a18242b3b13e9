import {
  InvalidOptionError,
  Linear,
  MLP,
  SeedStream,
  prefixed,
  tf,
  type Activation,
  type GaussianConditionalPrior,
  type GaussianPriorParams,
  type NamedVariable,
  type PriorCallOptions,
} from '@invae/core';

/** How a {@link LinearGaussianPrior} computes its variance. */
export type LinearGaussianVariance = 'learned' | 'unit';

/** Options of {@link LinearGaussianPrior}. */
export interface LinearGaussianPriorOptions {
  /** Which latent block it covers (names its variables). */
  role: 'inv' | 'spur';
  /** Width of the latent block. */
  latentDim: number;
  /** Width of the covariate encoding (≥ 1). */
  covarDim: number;
  /** `learned` (default): variance exp(MLP(u)) + 1e-4, as the reference's `logl` network; `unit`: 1. */
  variance?: LinearGaussianVariance;
  /** Layers of the variance network (default 2). */
  nLayers?: number;
  /** Hidden width of the variance network (default 128). */
  hiddenDim?: number;
  /** Activation of the variance network (default relu). */
  activation?: Activation;
  /** lrelu slope (default 0.1). */
  slope?: number;
  /** BatchNorm in the variance network (default false). */
  batchNorm?: boolean;
  /** Dropout probability of the variance network (default 0). */
  dropoutRate?: number;
  /** Initialisation seed. */
  seed?: number;
  /** Prefix of the variable names (default `prior`): variables are `<prefix>_mean_<role>.*` and `<prefix>_logvar_<role>.*`. */
  prefix?: string;
}

/**
 * Diagonal Gaussian conditional prior whose MEAN IS LINEAR in the encoded covariates:
 *
 *   p(z | u) = N(W u + b, diag σ²(u)),   σ²(u) = exp(MLP(u)) + 1e-4  (or 1).
 *
 * With one-hot, thermometer and interaction encodings (see `CovariateSpec`) the mean is additive
 * in the covariates' effects — a cell-type effect plus a disease (or per-severity-step) effect plus
 * a cell-type × disease shift — and each column of W is the latent shift of one encoded level, which
 * is what the `disease` and `gene-program` priors document as their model.
 */
export class LinearGaussianPrior implements GaussianConditionalPrior {
  /** Discriminant of the prior interface. */
  readonly family = 'gaussian' as const;
  /** Width of the latent block. */
  readonly latentDim: number;
  /** Width of the covariate encoding. */
  readonly covarDim: number;
  /** Which latent block. */
  readonly role: 'inv' | 'spur';
  /** The linear mean map u ↦ W u + b. */
  readonly mean: Linear;
  private readonly varNet?: MLP;
  private readonly prefix: string;
  /** Mean weights `[latentDim, k]` of the query mapping's covariate columns (see {@link addQueryCovariates}). */
  private queryMean: tf.Variable | null = null;

  constructor(options: LinearGaussianPriorOptions) {
    const o = { variance: 'learned' as LinearGaussianVariance, nLayers: 2, hiddenDim: 128, activation: 'relu' as Activation, slope: 0.1, batchNorm: false, dropoutRate: 0, prefix: 'prior', ...options };
    if (!Number.isInteger(o.latentDim) || o.latentDim < 1) throw new InvalidOptionError('latentDim', `latentDim must be an integer ≥ 1, got ${o.latentDim}`);
    if (!Number.isInteger(o.covarDim) || o.covarDim < 1) {
      throw new InvalidOptionError('covarDim', `a linear Gaussian prior needs covariates (covarDim ≥ 1), got ${o.covarDim}`, { hint: 'name the covariates of this block' });
    }
    if (o.variance !== 'learned' && o.variance !== 'unit') throw new InvalidOptionError('variance', `variance must be 'learned' or 'unit', got ${JSON.stringify(o.variance)}`);
    this.latentDim = o.latentDim;
    this.covarDim = o.covarDim;
    this.role = o.role;
    this.prefix = o.prefix;
    const seeds = new SeedStream(o.seed);
    this.mean = new Linear(o.covarDim, o.latentDim, seeds);
    if (o.variance === 'learned') {
      this.varNet = new MLP(
        { inputDim: o.covarDim, outputDim: o.latentDim, hiddenDim: o.hiddenDim, nLayers: o.nLayers, activation: o.activation, slope: o.slope, endWithAct: false, batchNorm: o.batchNorm, dropoutRate: o.dropoutRate },
        seeds,
      );
    }
  }

  /**
   * Query mapping (`Invae.map`): adds `k` covariate columns after the `covarDim` ones, with mean
   * weights of their own (`<prefix>_mean_<role>.query_weight`, zero at first) and input weights in
   * the variance network's first layer; rows without query columns keep their exact values.
   */
  addQueryCovariates(k: number): void {
    if (this.queryMean) throw new InvalidOptionError('queryInputs', 'the prior already has query covariate columns');
    this.queryMean = tf.variable(tf.zeros([this.latentDim, k]), true);
    this.varNet?.addQueryInputs(k);
  }

  /** The mean map: W u + b, plus the query columns' weights when the prior has them. */
  private meanOf(u: tf.Tensor2D): tf.Tensor2D {
    const q = this.queryMean;
    if (!q || u.shape[1] !== this.covarDim + q.shape[1]!) return this.mean.apply(u);
    const ref = tf.slice(u, [0, 0], [-1, this.covarDim]) as tf.Tensor2D;
    const extra = tf.slice(u, [0, this.covarDim], [-1, q.shape[1]!]) as tf.Tensor2D;
    return tf.add(this.mean.apply(ref), tf.matMul(extra, q as tf.Tensor2D, false, true)) as tf.Tensor2D;
  }

  /** Mean `[B, latentDim]` and variance (`[B, latentDim]`, or `[1]` when unit). */
  params(u: tf.Tensor2D | null, opts: PriorCallOptions): GaussianPriorParams {
    if (!u) throw new InvalidOptionError('u', 'this prior is conditioned on covariates, but none were given');
    return tf.tidy(() => ({
      mean: this.meanOf(u),
      variance: this.varNet ? tf.add(tf.exp(this.varNet.forward(u, opts)), 1e-4) : tf.ones([1]),
    })) as unknown as GaussianPriorParams;
  }

  /** `<prefix>_mean_<role>.{weight,bias}` and, when learned, `<prefix>_logvar_<role>.*`. */
  namedVariables(): NamedVariable[] {
    const out = prefixed(`${this.prefix}_mean_${this.role}`, this.mean);
    if (this.queryMean) out.push({ name: `${this.prefix}_mean_${this.role}.query_weight`, variable: this.queryMean, trainable: true, query: true });
    if (this.varNet) out.push(...prefixed(`${this.prefix}_logvar_${this.role}`, this.varNet));
    return out;
  }

  /** Disposes the prior's variables. */
  dispose(): void {
    for (const v of this.namedVariables()) v.variable.dispose();
  }
}
