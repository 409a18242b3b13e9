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

/**
 * The four Gaussian prior variants of the reference:
 * - `fixed-mean` (default): mean 0, variance exp(MLP(u)) + 1e-4 (`logl_<role>`);
 * - `fixed-var`: mean MLP(u) (`prior_mean_<role>`), variance 1;
 * - `learned`: a shared MLP (`prior_nn_<role>`, n_layers − 1 layers ending with the activation) with
 *   two linear heads, mean (`prior_mean_<role>`) and log-variance (`logl_<role>`, variance exp(·) + 1e-4);
 * - `fixed`: N(0, I).
 * Without covariates (covarDim 0) every variant is N(0, I), as in the reference.
 */
export type GaussianPriorVariant = 'fixed-mean' | 'fixed-var' | 'learned' | 'fixed';

/** Maps the reference's `fix_mean_prior` / `fix_var_prior` flags to a {@link GaussianPriorVariant}. */
export function gaussianVariant(fixMean: boolean, fixVar: boolean): GaussianPriorVariant {
  if (fixMean && fixVar) return 'fixed';
  if (fixMean) return 'fixed-mean';
  if (fixVar) return 'fixed-var';
  return 'learned';
}

/** Options of {@link GaussianPrior}. */
export interface GaussianPriorOptions {
  /** Which latent block it covers: names its variables (`logl_inv`, `prior_mean_spur`, …). */
  role: 'inv' | 'spur';
  /** Width of the latent block. */
  latentDim: number;
  /** Width of the covariate encoding (0 = unconditional N(0, I)). */
  covarDim: number;
  /** Variant (default `fixed-mean`). */
  variant?: GaussianPriorVariant;
  /** Layers of the prior network (default 2). */
  nLayers?: number;
  /** Hidden width (default 128). */
  hiddenDim?: number;
  /** Activation (default relu). */
  activation?: Activation;
  /** lrelu slope (default 0.1). */
  slope?: number;
  /** BatchNorm in the prior MLP (the reference's `batch_norm_prior`, default false). */
  batchNorm?: boolean;
  /** Dropout probability (default 0). */
  dropoutRate?: number;
  /** Initialisation seed. */
  seed?: number;
}

/**
 * Diagonal Gaussian conditional prior p(z | u) = N(mean(u), var(u)) with the reference's four
 * parameterisations (see {@link GaussianPriorVariant}).
 */
export class GaussianPrior implements GaussianConditionalPrior {
  /** Discriminant of the prior interface. */
  readonly family = 'gaussian' as const;
  /** Width of the latent block. */
  readonly latentDim: number;
  /** Width of the covariate encoding (0 = unconditional). */
  readonly covarDim: number;
  /** Effective variant (`fixed` whenever covarDim is 0). */
  readonly variant: GaussianPriorVariant;
  /** Latent block it covers (names its variables). */
  readonly role: 'inv' | 'spur';
  private readonly meanNet?: MLP;
  private readonly varNet?: MLP;
  private readonly shared?: MLP;
  private readonly meanHead?: Linear;
  private readonly varHead?: Linear;

  constructor(options: GaussianPriorOptions) {
    const o = { variant: 'fixed-mean' as GaussianPriorVariant, nLayers: 2, hiddenDim: 128, activation: 'relu' as Activation, slope: 0.1, batchNorm: false, dropoutRate: 0, ...options };
    if (o.role !== 'inv' && o.role !== 'spur') throw new InvalidOptionError('role', `role must be 'inv' or 'spur', got '${String(o.role)}'`);
    if (!['fixed-mean', 'fixed-var', 'learned', 'fixed'].includes(o.variant)) {
      throw new InvalidOptionError('variant', `unknown Gaussian prior variant '${String(o.variant)}'`, { hint: "use 'fixed-mean', 'fixed-var', 'learned' or 'fixed'" });
    }
    if (!Number.isInteger(o.latentDim) || o.latentDim < 0) throw new InvalidOptionError('latentDim', `latentDim must be an integer ≥ 0, got ${o.latentDim}`);
    if (!Number.isInteger(o.covarDim) || o.covarDim < 0) throw new InvalidOptionError('covarDim', `covarDim must be an integer ≥ 0, got ${o.covarDim}`);
    this.latentDim = o.latentDim;
    this.covarDim = o.covarDim;
    this.role = o.role;
    this.variant = o.covarDim === 0 ? 'fixed' : o.variant;
    const seeds = new SeedStream(o.seed);
    const mlp = (outputDim: number, nLayers: number, endWithAct = false) =>
      new MLP(
        { inputDim: o.covarDim, outputDim, hiddenDim: o.hiddenDim, nLayers, activation: o.activation, slope: o.slope, endWithAct, batchNorm: o.batchNorm, dropoutRate: o.dropoutRate },
        seeds,
      );
    if (this.variant === 'fixed-mean') this.varNet = mlp(o.latentDim, o.nLayers);
    else if (this.variant === 'fixed-var') this.meanNet = mlp(o.latentDim, o.nLayers);
    else if (this.variant === 'learned') {
      if (o.nLayers < 2) {
        throw new InvalidOptionError('nLayers', 'the learned-mean-and-variance prior needs nLayers ≥ 2 (a shared network of nLayers − 1 layers plus the heads)');
      }
      this.shared = mlp(o.hiddenDim, o.nLayers - 1, true);
      this.meanHead = new Linear(o.hiddenDim, o.latentDim, seeds);
      this.varHead = new Linear(o.hiddenDim, o.latentDim, seeds);
    }
  }

  /**
   * Query mapping (`Invae.map`): adds `k` covariate columns after the `covarDim` ones, with input
   * weights of their own in the first layer of every prior network (`…fc.0.query_weight`, zero at
   * first); rows without query columns keep their exact values. The `fixed` variant has no network
   * and ignores them.
   */
  addQueryCovariates(k: number): void {
    for (const net of [this.varNet, this.meanNet, this.shared]) net?.addQueryInputs(k);
  }

  /** Mean and variance for the batch; constants have shape `[1]`. */
  params(u: tf.Tensor2D | null, opts: PriorCallOptions): GaussianPriorParams {
    return tf.tidy(() => {
      const zero = tf.zeros([1]);
      const one = tf.ones([1]);
      if (this.variant === 'fixed' || !u || u.shape[1] === 0) return { mean: zero, variance: one };
      const pos = (t: tf.Tensor) => tf.add(tf.exp(t), 1e-4);
      if (this.variant === 'fixed-mean') return { mean: zero, variance: pos(this.varNet!.forward(u, opts)) };
      if (this.variant === 'fixed-var') return { mean: this.meanNet!.forward(u, opts), variance: one };
      const h = this.shared!.forward(u, opts);
      return { mean: this.meanHead!.apply(h), variance: pos(this.varHead!.apply(h)) };
    }) as unknown as GaussianPriorParams;
  }

  /** Reference names: `logl_<role>.*`, `prior_mean_<role>.*`, `prior_nn_<role>.*`. */
  namedVariables(): NamedVariable[] {
    const r = this.role;
    const out: NamedVariable[] = [];
    if (this.varNet) out.push(...prefixed(`logl_${r}`, this.varNet));
    if (this.meanNet) out.push(...prefixed(`prior_mean_${r}`, this.meanNet));
    if (this.shared) {
      out.push(...prefixed(`prior_nn_${r}`, this.shared), ...prefixed(`prior_mean_${r}`, this.meanHead!), ...prefixed(`logl_${r}`, this.varHead!));
    }
    return out;
  }

  /** Disposes the prior's variables. */
  dispose(): void {
    for (const v of this.namedVariables()) v.variable.dispose();
  }
}
