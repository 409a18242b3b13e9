import {
  InvalidOptionError,
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

/** Options of {@link TreatmentPrior}. */
export interface TreatmentPriorOptions {
  /** Which latent block it covers (names its variables). */
  role: 'inv' | 'spur';
  /** Width of the latent block. */
  latentDim: number;
  /** Width of the covariate encoding: context columns followed by `nTreatments` dose columns. */
  covarDim: number;
  /** Number of treatments, i.e. of log1p-dose columns at the END of u (≥ 1). */
  nTreatments: number;
  /** `learned` (default): variance exp(MLP(u)) + 1e-4; `unit`: 1. */
  variance?: 'learned' | 'unit';
  /** Layers of the variance network (default 2). */
  nLayers?: number;
  /** Hidden width of the variance network (default 128). */
  hiddenDim?: number;
  /** Activation of the variance network (default relu). */
  activation?: Activation;
  /** lrelu slope (default 0.1). */
  slope?: number;
  /** Dropout of the variance network (default 0). */
  dropoutRate?: number;
  /** Initialisation seed. */
  seed?: number;
}

/**
 * Gaussian conditional prior of perturbation data with a learned, monotone dose-response per
 * treatment, after CPA's "logsigm" dosers (Lotfollahi et al. 2023):
 *
 *   u = [c, d₁ … d_T]     c: context (e.g. cell type one-hot, time); d_t = log1p(dose) if the
 *                         cell got treatment t, else 0 (the `dose` encoding with a treatment column)
 *   s_t(d) = σ(softplus(ω_t)·d + β_t) − σ(β_t)
 *   mean(u) = A c + a₀ + Σ_t s_t(d_t) · e_t          e_t ∈ ℝ^latentDim: the treatment's embedding
 *   p(z | u) = N(mean(u), diag σ²(u)),  σ²(u) = exp(MLP(u)) + 1e-4 (or 1)
 *
 * `s_t(0) = 0` (untreated cells carry no treatment shift), and s_t increases strictly with the
 * dose because its slope is softplus(ω_t) > 0 — so the prior mean moves monotonically along e_t
 * from the untreated state towards saturation, and an unseen dose between two seen doses gets a
 * prior mean between theirs (interpolation), as a held-out dose should.
 */
export class TreatmentPrior implements GaussianConditionalPrior {
  /** Discriminant of the prior interface. */
  readonly family = 'gaussian' as const;
  /** Width of the latent block. */
  readonly latentDim: number;
  /** Width of the covariate encoding. */
  readonly covarDim: number;
  /** Number of treatments (dose columns at the end of u). */
  readonly nTreatments: number;
  /** Which latent block. */
  readonly role: 'inv' | 'spur';
  /** Treatment embeddings `[T, latentDim]`. */
  readonly embedding: tf.Variable;
  /** Unconstrained dose-response slopes ω `[T]` (slope = softplus(ω)). */
  readonly doseSlope: tf.Variable;
  /** Dose-response biases β `[T]`. */
  readonly doseBias: tf.Variable;
  /** Context weights A `[latentDim, C]` (absent when there is no context). */
  readonly contextWeight?: tf.Variable;
  /** Mean offset a₀ `[latentDim]`. */
  readonly bias: tf.Variable;
  private readonly varNet?: MLP;

  constructor(options: TreatmentPriorOptions) {
    const o = { variance: 'learned' as const, nLayers: 2, hiddenDim: 128, activation: 'relu' as Activation, slope: 0.1, dropoutRate: 0, ...options };
    if (!Number.isInteger(o.latentDim) || o.latentDim < 1) throw new InvalidOptionError('latentDim', `latentDim must be an integer ≥ 1, got ${o.latentDim}`);
    if (!Number.isInteger(o.nTreatments) || o.nTreatments < 1) throw new InvalidOptionError('nTreatments', `nTreatments must be an integer ≥ 1, got ${o.nTreatments}`);
    if (!Number.isInteger(o.covarDim) || o.covarDim < o.nTreatments) {
      throw new InvalidOptionError('covarDim', `the covariates have ${o.covarDim} columns, fewer than the ${o.nTreatments} dose columns of the treatment prior`, {
        hint: "encode the doses with { dose: [{ key, treatment, treatments }] } (dose columns come last)",
      });
    }
    if (o.variance !== 'learned' && o.variance !== 'unit') throw new InvalidOptionError('variance', `variance must be 'learned' or 'unit', got ${JSON.stringify(o.variance)}`);
    this.latentDim = o.latentDim;
    this.covarDim = o.covarDim;
    this.nTreatments = o.nTreatments;
    this.role = o.role;
    const seeds = new SeedStream(o.seed);
    const nCtx = o.covarDim - o.nTreatments;
    const bound = Math.sqrt(6 / (o.nTreatments + o.latentDim));
    this.embedding = tf.variable(tf.randomUniform([o.nTreatments, o.latentDim], -bound, bound, 'float32', seeds.next()), true);
    // ω = 0 (slope log 2 ≈ 0.69) and β = 0: a smooth curve over log1p doses of 0 … ~5 at the start.
    this.doseSlope = tf.variable(tf.zeros([o.nTreatments]), true);
    this.doseBias = tf.variable(tf.zeros([o.nTreatments]), true);
    if (nCtx > 0) {
      const b = Math.sqrt(6 / (nCtx + o.latentDim));
      this.contextWeight = tf.variable(tf.randomUniform([o.latentDim, nCtx], -b, b, 'float32', seeds.next()), true);
    }
    this.bias = tf.variable(tf.zeros([o.latentDim]), true);
    if (o.variance === 'learned') {
      this.varNet = new MLP(
        { inputDim: o.covarDim, outputDim: o.latentDim, hiddenDim: o.hiddenDim, nLayers: o.nLayers, activation: o.activation, slope: o.slope, endWithAct: false, batchNorm: false, dropoutRate: o.dropoutRate },
        seeds,
      );
    }
  }

  /** Scaled doses s_t(d) `[B, T]` for log1p-dose columns `d` `[B, T]`. */
  scaledDose(logDose: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const slope = tf.softplus(this.doseSlope);
      const at = tf.sigmoid(tf.add(tf.mul(logDose, slope), this.doseBias));
      return tf.sub(at, tf.sigmoid(this.doseBias)) as tf.Tensor2D;
    });
  }

  /** Prior mean `[B, latentDim]` (see the class comment). */
  meanOf(u: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const B = u.shape[0];
      const nCtx = this.covarDim - this.nTreatments;
      const d = tf.slice(u, [0, nCtx], [B, this.nTreatments]);
      let mean = tf.add(tf.matMul(this.scaledDose(d), this.embedding as tf.Tensor2D), this.bias) as tf.Tensor2D;
      if (this.contextWeight) mean = tf.add(mean, tf.matMul(tf.slice(u, [0, 0], [B, nCtx]), this.contextWeight as tf.Tensor2D, false, true)) as tf.Tensor2D;
      return mean;
    });
  }

  /** Mean `[B, latentDim]` and variance. */
  params(u: tf.Tensor2D | null, opts: PriorCallOptions): GaussianPriorParams {
    if (!u || u.shape[1] !== this.covarDim) {
      throw new InvalidOptionError('u', `the treatment prior expects covariates of width ${this.covarDim}, got ${u ? u.shape[1] : 'none'}`);
    }
    return tf.tidy(() => ({
      mean: this.meanOf(u),
      variance: this.varNet ? tf.add(tf.exp(this.varNet.forward(u, opts)), 1e-4) : tf.ones([1]),
    })) as unknown as GaussianPriorParams;
  }

  /** `prior_treatment_<role>.{embedding,dose_slope,dose_bias,context_weight,bias}` and `prior_logvar_<role>.*`. */
  namedVariables(): NamedVariable[] {
    const p = `prior_treatment_${this.role}`;
    const out: NamedVariable[] = [
      { name: `${p}.embedding`, variable: this.embedding, trainable: true },
      { name: `${p}.dose_slope`, variable: this.doseSlope, trainable: true },
      { name: `${p}.dose_bias`, variable: this.doseBias, trainable: true },
    ];
    if (this.contextWeight) out.push({ name: `${p}.context_weight`, variable: this.contextWeight, trainable: true });
    out.push({ name: `${p}.bias`, variable: this.bias, trainable: true });
    if (this.varNet) out.push(...prefixed(`prior_logvar_${this.role}`, this.varNet));
    return out;
  }

  /** Disposes the prior's variables. */
  dispose(): void {
    for (const v of this.namedVariables()) v.variable.dispose();
  }
}
