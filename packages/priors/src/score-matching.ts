import { InvalidOptionError, MLP, SeedStream, prefixed, tf, type Activation, type EnergyConditionalPrior, type NamedVariable, type PriorCallOptions } from '@invae/core';

/** Options of {@link ScoreMatchingPrior}. */
export interface ScoreMatchingPriorOptions {
  /** Width d of the (invariant) latent block. */
  latentDim: number;
  /** Width of the covariate encoding u (≥ 1). */
  covarDim: number;
  /** Width K of T_NN(z) and λ_NN(u) (the reference's `output_dim_prior_nn`, default 2 × total latent dim there; here required). */
  outputDim: number;
  /** Hidden width of the three prior networks (default 128). */
  hiddenDim?: number;
  /** Layers of the three prior networks (default 2). */
  nLayers?: number;
  /** Activation: `relu` (default) or `lrelu`. */
  activation?: Activation;
  /** lrelu slope (default 0.1). */
  slope?: number;
  /** BatchNorm in the prior networks (default false). */
  batchNorm?: boolean;
  /** Dropout probability (default 0). */
  dropoutRate?: number;
  /** Weight of the (∂²log p/∂z²)² regulariser in the score-matching loss (default 0). */
  regSm?: number;
  /** Initialisation seed. */
  seed?: number;
}

/** Unnormalised log-density and its first two derivatives w.r.t. z. */
export interface ScoreTerms {
  /** log p̃(z | u) per cell `[B]`. */
  readonly logDensity: tf.Tensor1D;
  /** ∂ log p̃ / ∂z `[B, d]`. */
  readonly grad: tf.Tensor2D;
  /**
   * Σᵢ ∂² log p̃ / ∂zᵢ∂zⱼ `[B, d]`, the quantity the reference obtains by differentiating the sum of
   * the gradient again. For relu / lrelu networks T_NN is piecewise linear, so this equals the
   * Hessian diagonal 2·λ_suff,z²(u).
   */
  readonly secondDerivative: tf.Tensor2D;
}

/**
 * Non-factorised exponential-family prior of NFinVAE:
 * log p̃(z | u) = T_NN(z)·λ_NN(u) + [z, z²]·λ_suff(u), with MLPs `t_nn` (d → K), `params_t_nn`
 * (covariates → K) and `params_t_suff` (covariates → 2d). Trained by score matching:
 * mean over cells of Σⱼ (∂²log p̃/∂zⱼ² + ½(∂log p̃/∂zⱼ)² + reg_sm·(∂²log p̃/∂zⱼ²)²).
 *
 * tfjs cannot take nested gradients through these networks, so ∂log p̃/∂z is built explicitly as a
 * vector–Jacobian product through the recorded layers (activation-derivative masks, BatchNorm
 * factors, weights): it is an ordinary differentiable graph, so the loss's gradient w.r.t. all
 * prior parameters comes from one level of autodiff. In training mode with BatchNorm in the prior,
 * batch statistics are held fixed in these derivatives (per-cell densities), whereas PyTorch would
 * differentiate through them.
 */
export class ScoreMatchingPrior implements EnergyConditionalPrior {
  /** Discriminant of the prior interface. */
  readonly family = 'energy' as const;
  /** Width d of the latent block. */
  readonly latentDim: number;
  /** Width of the covariate encoding. */
  readonly covarDim: number;
  /** Weight of the squared second-derivative regulariser. */
  readonly regSm: number;
  /** T_NN(z). */
  readonly tNn: MLP;
  /** λ_NN(u). */
  readonly paramsTNn: MLP;
  /** λ_suff(u) = [coefficients of z, coefficients of z²]. */
  readonly paramsTSuff: MLP;

  constructor(options: ScoreMatchingPriorOptions) {
    const o = { hiddenDim: 128, nLayers: 2, activation: 'relu' as Activation, slope: 0.1, batchNorm: false, dropoutRate: 0, regSm: 0, ...options };
    if (!Number.isInteger(o.covarDim) || o.covarDim < 1) {
      throw new InvalidOptionError('covarDim', 'the score-matching prior needs covariates (covarDim ≥ 1)', { hint: 'use a Gaussian prior (FinVAE) without invariant covariates' });
    }
    if (!Number.isInteger(o.latentDim) || o.latentDim < 1) throw new InvalidOptionError('latentDim', `latentDim must be an integer ≥ 1, got ${o.latentDim}`);
    if (!Number.isInteger(o.outputDim) || o.outputDim < 1) throw new InvalidOptionError('outputDim', `outputDim must be an integer ≥ 1, got ${o.outputDim}`);
    if (!(o.regSm >= 0)) throw new InvalidOptionError('regSm', `regSm must be ≥ 0, got ${o.regSm}`);
    this.latentDim = o.latentDim;
    this.covarDim = o.covarDim;
    this.regSm = o.regSm;
    const seeds = new SeedStream(o.seed);
    const common = { hiddenDim: o.hiddenDim, nLayers: o.nLayers, activation: o.activation, slope: o.slope, batchNorm: o.batchNorm, dropoutRate: o.dropoutRate };
    this.tNn = new MLP({ inputDim: o.latentDim, outputDim: o.outputDim, ...common }, seeds);
    this.paramsTNn = new MLP({ inputDim: o.covarDim, outputDim: o.outputDim, ...common }, seeds);
    this.paramsTSuff = new MLP({ inputDim: o.covarDim, outputDim: 2 * o.latentDim, ...common }, seeds);
  }

  private requireCovar(u: tf.Tensor2D | null): tf.Tensor2D {
    if (!u) throw new InvalidOptionError('u', 'the score-matching prior needs its covariates');
    return u;
  }

  /** log p̃(z | u) `[B]`; with `frozen`, gradients reach z (and u) only. */
  logDensity(z: tf.Tensor2D, u: tf.Tensor2D | null, opts: PriorCallOptions & { frozen?: boolean }): tf.Tensor1D {
    const uu = this.requireCovar(u);
    return tf.tidy(() => {
      const f = { training: opts.training, frozen: opts.frozen };
      const t = this.tNn.forward(z, f);
      const lam = this.paramsTNn.forward(uu, f);
      const suff = this.paramsTSuff.forward(uu, f);
      return this.combine(z, t, lam, suff);
    });
  }

  private combine(z: tf.Tensor2D, t: tf.Tensor2D, lam: tf.Tensor2D, suff: tf.Tensor2D): tf.Tensor1D {
    const d = this.latentDim;
    const s1 = tf.slice(suff, [0, 0], [-1, d]);
    const s2 = tf.slice(suff, [0, d], [-1, d]);
    return tf.add(tf.sum(tf.mul(t, lam), 1), tf.sum(tf.add(tf.mul(z, s1), tf.mul(tf.square(z), s2)), 1)) as tf.Tensor1D;
  }

  /** log p̃ and its first and second derivatives w.r.t. z (see {@link ScoreTerms}). */
  scoreTerms(z: tf.Tensor2D, u: tf.Tensor2D | null, opts: PriorCallOptions): ScoreTerms {
    const uu = this.requireCovar(u);
    return tf.tidy(() => {
      const d = this.latentDim;
      const trace = this.tNn.trace(z, { training: opts.training });
      const lam = this.paramsTNn.forward(uu, { training: opts.training });
      const suff = this.paramsTSuff.forward(uu, { training: opts.training });
      const s1 = tf.slice(suff, [0, 0], [-1, d]);
      const s2 = tf.slice(suff, [0, d], [-1, d]);
      const logDensity = this.combine(z, trace.out, lam, suff);
      const grad = tf.add(tf.add(this.tNn.inputVjp(trace, lam), s1), tf.mul(tf.mul(z, s2), 2)) as tf.Tensor2D;
      // relu / lrelu: T_NN is piecewise linear, its second derivatives vanish almost everywhere
      const secondDerivative = tf.mul(s2, 2) as tf.Tensor2D;
      return { logDensity, grad, secondDerivative } as unknown as tf.TensorContainer;
    }) as unknown as ScoreTerms;
  }

  /** Mean over cells of Σⱼ (∂²log p̃ + ½(∂log p̃)² + reg_sm·(∂²log p̃)²). */
  scoreMatchingLoss(z: tf.Tensor2D, u: tf.Tensor2D | null, opts: PriorCallOptions): tf.Scalar {
    return tf.tidy(() => {
      const { grad, secondDerivative } = this.scoreTerms(z, u, opts);
      let perDim = tf.add(secondDerivative, tf.mul(tf.square(grad), 0.5));
      if (this.regSm > 0) perDim = tf.add(perDim, tf.mul(tf.square(secondDerivative), this.regSm));
      return tf.mean(tf.sum(perDim, 1)) as tf.Scalar;
    });
  }

  /** `t_nn.*`, `params_t_nn.*`, `params_t_suff.*`. */
  namedVariables(): NamedVariable[] {
    return [...prefixed('t_nn', this.tNn), ...prefixed('params_t_nn', this.paramsTNn), ...prefixed('params_t_suff', this.paramsTSuff)];
  }

  /** Disposes the prior's variables. */
  dispose(): void {
    for (const v of this.namedVariables()) v.variable.dispose();
  }
}
