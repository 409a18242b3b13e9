import { tf } from '../tf';
import { InvalidOptionError } from '../errors';
import { logNbPositive } from '../likelihoods/negative-binomial';
import { normalKl, normalLogPdf } from '../likelihoods/normal';
import { detach, SeedStream, type NamedVariable } from '../nn/variables';
import type { ConditionalPrior, GaussianConditionalPrior } from '../prior/types';
import { resolveModelConfig, type InvaeModelConfig, type ResolvedInvaeModelConfig } from './config';
import { InputShapeError, WeightMismatchError } from './errors';
import { Decoder, GaussianEncoder } from './networks';
import { conditionalBatchMmd } from './invariance-penalty';

/** The two priors of an inVAE model. */
export interface InvaePriors {
  /** Prior of the invariant latents given the invariant covariates (Gaussian for FinVAE, energy for NFinVAE). */
  readonly inv: ConditionalPrior;
  /** Gaussian prior of the spurious latents given the spurious covariates; `null` only when covariates are injected into the decoder (then optional). */
  readonly spur: GaussianConditionalPrior | null;
}

/** Options of a forward pass. */
export interface ForwardOptions {
  /** Training mode (BatchNorm batch statistics + running-stat updates, dropout). */
  readonly training: boolean;
  /** Standard-normal noise `[B, latentDim]` for z = mean + eps·√var; drawn with `tf.randomNormal` when absent. */
  readonly eps?: tf.Tensor2D;
}

/** Everything a forward pass computes; the caller owns (and disposes) the tensors. */
export interface ForwardResult {
  /** Encoder mean `[B, D]`. */
  readonly encoderMean: tf.Tensor2D;
  /** Encoder variance `[B, D]` (exp(log-variance) + 1e-4). */
  readonly encoderVar: tf.Tensor2D;
  /** Latent sample `[B, D]`. */
  readonly z: tf.Tensor2D;
  /** Decoder mean `[B, G]` (NB: frequencies × library size). */
  readonly decoderMean: tf.Tensor2D;
  /** NB inverse dispersion per gene `[G]` (NB decoder only). */
  readonly theta?: tf.Tensor1D;
  /** log p(x | z) per cell `[B]`. */
  readonly logPxZ: tf.Tensor1D;
}

/** Options of {@link InvaeModel.loss}. */
export interface LossOptions extends ForwardOptions {
  /** Number of cells in the dataset; required when `tcBeta > 0` (minibatch-weighted sampling). */
  readonly datasetSize?: number;
}

/** The objective and its named parts (means over the batch); the caller owns the tensors. */
export interface LossResult {
  /** Scalar to minimise: −objective. */
  readonly loss: tf.Scalar;
  /** The reference `elbo()` value (to maximise). */
  readonly objective: tf.Scalar;
  /** Named scalar terms: `logPxZ`, `logPz` (prior log-density, both blocks), `logQz`, `kl` (kl_div only), `tc`, `scoreMatching`. */
  readonly terms: Record<string, tf.Scalar>;
  /**
   * The forward pass the loss was computed from (with the fused NB decoder op, see `INVAE_THREADED`,
   * its `decoderMean` is a value through which no gradient flows).
   */
  readonly forward: ForwardResult;
}

/** Which latent block {@link InvaeModel.encode} returns. */
export type LatentPart = 'full' | 'inv' | 'spur';

/**
 * An inVAE model: Gaussian encoder, NB (or normal) decoder, invariant prior and spurious prior,
 * composed as the reference FinVAE / NFinVAE modules. Variable names equal the reference
 * PyTorch `state_dict()` names, so weights move between the two unchanged.
 */
export class InvaeModel {
  /** Resolved configuration. */
  readonly config: ResolvedInvaeModelConfig;
  /** Encoder. */
  readonly encoder: GaussianEncoder;
  /** Decoder. */
  readonly decoder: Decoder;
  /** Priors. */
  readonly priors: InvaePriors;
  private beta: number;
  private tcBeta: number;
  /** Whether the spurious prior reads the query columns (it has the `addQueryCovariates` hook). */
  private readonly spurPriorQuery: boolean;
  /** Query mapping in progress: only `query` variables train, every network runs in eval mode. */
  private referenceFrozen = false;

  constructor(config: InvaeModelConfig, priors: InvaePriors) {
    const c = resolveModelConfig(config);
    this.config = c;
    const inv = priors.inv;
    if (inv.latentDim !== c.latentDimInv) {
      throw new InvalidOptionError('priors.inv', `invariant prior covers ${inv.latentDim} latents but latentDimInv is ${c.latentDimInv}`);
    }
    if (inv.covarDim !== 0 && inv.covarDim !== c.invCovarDim) {
      throw new InvalidOptionError('priors.inv', `invariant prior expects ${inv.covarDim} covariate columns but invCovarDim is ${c.invCovarDim}`);
    }
    if (c.model === 'FinVAE' && inv.family !== 'gaussian') {
      throw new InvalidOptionError('priors.inv', 'FinVAE needs a Gaussian invariant prior', { hint: 'use NFinVAE for an energy (score-matching) prior' });
    }
    if (c.model === 'NFinVAE' && inv.family !== 'energy') {
      throw new InvalidOptionError('priors.inv', 'NFinVAE needs an energy (score-matching) invariant prior', { hint: 'use FinVAE for a Gaussian invariant prior' });
    }
    if (!c.injectCovarInLatent && priors.spur === null) throw new InvalidOptionError('priors.spur', 'a spurious prior is required unless injectCovarInLatent');
    if (c.injectCovarInLatent && priors.spur && c.latentDimSpur === 0) {
      throw new InvalidOptionError('priors.spur', 'injectCovarInLatent with latentDimSpur 0 leaves no block for a spurious prior; pass spur: null');
    }
    if (priors.spur) {
      if (priors.spur.latentDim !== c.latentDimSpur) {
        throw new InvalidOptionError('priors.spur', `spurious prior covers ${priors.spur.latentDim} latents but latentDimSpur is ${c.latentDimSpur}`);
      }
      if (priors.spur.covarDim !== 0 && priors.spur.covarDim !== c.spurCovarDim) {
        throw new InvalidOptionError('priors.spur', `spurious prior expects ${priors.spur.covarDim} covariate columns but spurCovarDim is ${c.spurCovarDim}`);
      }
    }
    this.priors = priors;
    // query mapping: the spurious prior gets the query columns where it can take them
    this.spurPriorQuery = c.spurQueryDim > 0 && !!priors.spur && priors.spur.covarDim > 0 && typeof priors.spur.addQueryCovariates === 'function';
    if (this.spurPriorQuery) priors.spur!.addQueryCovariates!(c.spurQueryDim);
    const seeds = new SeedStream(c.seed);
    this.encoder = new GaussianEncoder(c, seeds);
    this.decoder = new Decoder(c, seeds);
    this.beta = c.klRate;
    this.tcBeta = c.tcBeta;
    const names = new Set<string>();
    for (const v of this.namedVariables()) {
      if (names.has(v.name)) throw new InvalidOptionError('priors', `two variables are named '${v.name}'`, { hint: 'give the priors distinct roles (inv / spur)' });
      names.add(v.name);
    }
  }

  /** Total latent width. */
  get latentDim(): number {
    return this.config.latentDimInv + this.config.latentDimSpur;
  }

  /** Current (warmed-up) weights of the prior term and of the total-correlation term. */
  get hyperparameters(): { beta: number; tcBeta: number } {
    return { beta: this.beta, tcBeta: this.tcBeta };
  }

  /**
   * Linear warm-up as in the reference: β and tc_β are scaled by min(1, iteration / warmUpIters).
   * With `warmUpIters` ≤ 0 nothing changes.
   */
  warmUp(iteration: number, warmUpIters: number): void {
    if (warmUpIters > 0) {
      const f = Math.min(1, iteration / warmUpIters);
      this.beta = f * this.config.klRate;
      this.tcBeta = f * this.config.tcBeta;
    }
  }

  /** All variables (parameters and BatchNorm buffers) under their reference names, encoder first. */
  namedVariables(): NamedVariable[] {
    const out = [...this.encoder.namedVariables(), ...this.decoder.namedVariables(), ...this.priors.inv.namedVariables()];
    if (this.priors.spur) out.push(...this.priors.spur.namedVariables());
    return out;
  }

  /** Variables an optimiser updates (only the query mapping's while the reference is frozen, see {@link freezeReference}). */
  get trainableVariables(): tf.Variable[] {
    return this.namedVariables()
      .filter((v) => v.trainable && (!this.referenceFrozen || v.query))
      .map((v) => v.variable);
  }

  /** Width of the spurious covariates the model reads: `spurCovarDim` plus the query columns. */
  get spurInputDim(): number {
    return this.config.spurCovarDim + this.config.spurQueryDim;
  }

  /**
   * Freezes (or unfreezes) the reference for query mapping: while frozen, {@link trainableVariables}
   * holds only the variables flagged `query` (the input weights of the query columns) and every
   * network runs in eval mode in training too (BatchNorm running statistics, neither used from the
   * minibatch nor updated; no dropout), so that no reference weight or statistic changes.
   * @throws InvalidOptionError when freezing a model without query columns.
   */
  freezeReference(frozen: boolean): void {
    if (frozen && !this.namedVariables().some((v) => v.query)) {
      throw new InvalidOptionError('spurQueryDim', 'the model has no query columns to train', { hint: 'build it with spurQueryDim > 0 (Invae.map does)' });
    }
    this.referenceFrozen = frozen;
  }

  /** Copies of every variable by name (the caller owns them). */
  getWeights(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const v of this.namedVariables()) out.set(v.name, v.variable.clone());
    return out;
  }

  /**
   * Assigns weights by name. With `strict` (default) every model variable must be present and no
   * extra names are allowed; shapes must match exactly. Nothing is assigned when validation fails.
   * @throws WeightMismatchError listing missing / unexpected / mis-shaped tensors.
   */
  setWeights(weights: ReadonlyMap<string, tf.Tensor>, opts: { strict?: boolean; source?: string } = {}): void {
    const strict = opts.strict ?? true;
    const vars = this.namedVariables();
    const byName = new Map(vars.map((v) => [v.name, v]));
    const missing = strict ? vars.filter((v) => !weights.has(v.name)).map((v) => v.name) : [];
    const unexpected = strict ? [...weights.keys()].filter((k) => !byName.has(k)) : [];
    const conflicts: string[] = [];
    for (const [name, t] of weights) {
      const v = byName.get(name);
      if (!v) continue;
      if (t.dtype !== 'float32') conflicts.push(`${name}: dtype ${t.dtype}, expected float32`);
      else if (t.shape.join(',') !== v.variable.shape.join(',')) conflicts.push(`${name}: shape [${t.shape.join(', ')}], expected [${v.variable.shape.join(', ')}]`);
    }
    if (missing.length || unexpected.length || conflicts.length) {
      throw new WeightMismatchError(opts.source ?? 'setWeights', { missing, unexpected, conflicts });
    }
    for (const [name, t] of weights) byName.get(name)?.variable.assign(t);
  }

  private checkInputs(x: tf.Tensor, inv: tf.Tensor | null, spur: tf.Tensor | null, eps?: tf.Tensor): void {
    const c = this.config;
    if (x.rank !== 2 || x.shape[1] !== c.dataDim) throw new InputShapeError('x', `expected [cells, ${c.dataDim}], got [${x.shape.join(', ')}]`);
    const b = x.shape[0];
    const check = (name: string, t: tf.Tensor | null, width: number) => {
      if (width === 0) {
        if (t && !(t.rank === 2 && t.shape[1] === 0 && t.shape[0] === b)) throw new InputShapeError(name, `the model has no ${name} columns; pass null`);
        return;
      }
      if (!t) throw new InputShapeError(name, `expected [${b}, ${width}], got null`);
      if (t.rank !== 2 || t.shape[0] !== b || t.shape[1] !== width) throw new InputShapeError(name, `expected [${b}, ${width}], got [${t.shape.join(', ')}]`);
    };
    check('invCovar', inv, c.invCovarDim);
    check('spurCovar', spur, this.spurInputDim);
    if (eps && (eps.rank !== 2 || eps.shape[0] !== b || eps.shape[1] !== this.latentDim)) {
      throw new InputShapeError('eps', `expected [${b}, ${this.latentDim}], got [${eps.shape.join(', ')}]`);
    }
  }

  private covar(t: tf.Tensor2D | null): tf.Tensor2D | null {
    return t && t.shape[1] > 0 ? t : null;
  }

  /**
   * The spurious covariates split into the reference columns and the query columns (null without
   * query columns). Without query columns the tensor is passed through as it is.
   */
  private splitSpur(spur: tf.Tensor2D | null): { ref: tf.Tensor2D | null; query: tf.Tensor2D | null } {
    const q = this.config.spurQueryDim;
    if (!spur || q === 0) return { ref: spur, query: null };
    const d = this.config.spurCovarDim;
    return { ref: d > 0 ? (tf.slice(spur, [0, 0], [-1, d]) as tf.Tensor2D) : null, query: tf.slice(spur, [0, d], [-1, q]) as tf.Tensor2D };
  }

  /** What the spurious prior reads: every column when it took the query columns, else the reference columns. */
  private spurPriorInput(spur: tf.Tensor2D | null): tf.Tensor2D | null {
    return this.spurPriorQuery ? spur : this.splitSpur(spur).ref;
  }

  /** Posterior mean and variance of q(z | x, u). Tensors are owned by the caller. */
  encodeDistribution(x: tf.Tensor2D, invCovar: tf.Tensor2D | null, spurCovar: tf.Tensor2D | null, opts: { training?: boolean } = {}) {
    this.checkInputs(x, invCovar, spurCovar);
    return tf.tidy(() => {
      const s = this.splitSpur(this.covar(spurCovar));
      const e = this.encoder.apply(x, this.covar(invCovar), s.ref, (opts.training ?? false) && !this.referenceFrozen, s.query);
      return { mean: e.mean, variance: e.variance };
    });
  }

  /** Latent means (eval mode): the full latent, or its invariant / spurious block. */
  encode(x: tf.Tensor2D, invCovar: tf.Tensor2D | null, spurCovar: tf.Tensor2D | null, part: LatentPart = 'full'): tf.Tensor2D {
    this.checkInputs(x, invCovar, spurCovar);
    return tf.tidy(() => {
      const s = this.splitSpur(this.covar(spurCovar));
      const { mean } = this.encoder.apply(x, this.covar(invCovar), s.ref, false, s.query);
      if (part === 'inv') return tf.slice(mean, [0, 0], [-1, this.config.latentDimInv]);
      if (part === 'spur') return tf.slice(mean, [0, this.config.latentDimInv], [-1, this.config.latentDimSpur]);
      return mean;
    });
  }

  /** Encoder → sample → decoder → log p(x | z). Tensors are owned by the caller. */
  forward(x: tf.Tensor2D, invCovar: tf.Tensor2D | null, spurCovar: tf.Tensor2D | null, opts: ForwardOptions): ForwardResult {
    this.checkInputs(x, invCovar, spurCovar, opts.eps);
    return tf.tidy(() => this.forwardUnchecked(x, this.covar(invCovar), this.covar(spurCovar), opts) as unknown as tf.TensorContainer) as unknown as ForwardResult;
  }

  /**
   * Encoder → sample → decoder → log p(x | z). With `lossOnly` (the loss differentiates only log p(x | z))
   * an NB decoder's output layer and likelihood may run as one fused op (see
   * `Decoder.nbLogLikFused`); its `decoderMean` is then a value through which no gradient flows.
   */
  private forwardUnchecked(x: tf.Tensor2D, inv: tf.Tensor2D | null, spurAll: tf.Tensor2D | null, opts: ForwardOptions, lossOnly = false): ForwardResult {
    const { ref: spur, query } = this.splitSpur(spurAll);
    const training = opts.training && !this.referenceFrozen;
    // the fused NB decoder's weight staging on the worker threads while the encoder runs here
    if (lossOnly) this.decoder.prepareNbLogLikFused(x);
    const enc = this.encoder.apply(x, inv, spur, training, query);
    const eps = opts.eps ?? (tf.randomNormal(enc.mean.shape) as tf.Tensor2D);
    const z = tf.add(enc.mean, tf.mul(eps, tf.sqrt(enc.variance))) as tf.Tensor2D;
    const library = this.config.decoderDist === 'nb' ? (enc.library ?? (tf.sum(x, -1, true) as tf.Tensor2D)) : null;
    const fused = lossOnly && library ? this.decoder.nbLogLikFused(z, spur, library, x, training, query) : null;
    if (fused) return { encoderMean: enc.mean, encoderVar: enc.variance, z, decoderMean: fused.mean, logPxZ: fused.logPxZ, theta: fused.theta };
    const dec = this.decoder.apply(z, spur, library, training, query);
    const logPxZ = (
      this.config.decoderDist === 'nb' ? logNbPositive(x, dec.mean, dec.theta!) : normalLogPdf(x, dec.mean, dec.variance!)
    ) as tf.Tensor1D;
    const out: ForwardResult = { encoderMean: enc.mean, encoderVar: enc.variance, z, decoderMean: dec.mean, logPxZ };
    return dec.theta ? { ...out, theta: dec.theta } : out;
  }

  /**
   * The reference ELBO objective and `loss = −objective`. FinVAE ('sample'):
   * mean(log p(x|z) + β(log p(z_inv|u_inv) + log p(z_spur|u_spur) − log q(z|x,u)) − tc_β·TC);
   * 'kl_div': mean(log p(x|z) − β·KL). NFinVAE: the same mean divided by `normalizeConstant`, with
   * the invariant prior's frozen unnormalised log-density, minus β × its score-matching loss.
   * TC (when tc_β > 0) = log q(z) − log q(z_inv) − log q(z_spur) by minibatch-weighted sampling.
   */
  loss(x: tf.Tensor2D, invCovar: tf.Tensor2D | null, spurCovar: tf.Tensor2D | null, opts: LossOptions): LossResult {
    this.checkInputs(x, invCovar, spurCovar, opts.eps);
    const c = this.config;
    // as the reference: the configured tc_beta (not its warmed-up value) decides whether TC is computed
    if (c.tcBeta > 0 && c.elboVersion === 'sample' && !(typeof opts.datasetSize === 'number' && opts.datasetSize > 0)) {
      throw new InvalidOptionError('datasetSize', 'the total-correlation term (tcBeta > 0) needs the dataset size', { hint: 'pass datasetSize: number of cells in the training set' });
    }
    const beta = this.beta;
    const tcBeta = this.tcBeta;
    // query mapping runs every network in eval mode (see freezeReference)
    const training = opts.training && !this.referenceFrozen;
    return tf.tidy(() => {
      const inv = this.covar(invCovar);
      const spur = this.covar(spurCovar);
      const fwd = this.forwardUnchecked(x, inv, spur, opts, true);
      const dInv = c.latentDimInv;
      const dSpur = c.latentDimSpur;
      const zInv = tf.slice(fwd.z, [0, 0], [-1, dInv]) as tf.Tensor2D;
      const zSpur = dSpur > 0 ? (tf.slice(fwd.z, [0, dInv], [-1, dSpur]) as tf.Tensor2D) : null;
      const terms: Record<string, tf.Scalar> = {};
      terms.logPxZ = tf.mean(fwd.logPxZ) as tf.Scalar;
      let perCell: tf.Tensor = fwd.logPxZ;
      let smLoss: tf.Scalar | null = null;

      if (c.elboVersion === 'kl_div') {
        let kl: tf.Tensor = tf.zerosLike(fwd.logPxZ);
        const invPrior = this.priors.inv as GaussianConditionalPrior;
        const p = invPrior.params(inv, { training });
        kl = tf.add(kl, normalKl(tf.slice(fwd.encoderMean, [0, 0], [-1, dInv]), tf.slice(fwd.encoderVar, [0, 0], [-1, dInv]), p.mean, p.variance));
        if (this.priors.spur && dSpur > 0) {
          const ps = this.priors.spur.params(this.spurPriorInput(spur), { training });
          kl = tf.add(kl, normalKl(tf.slice(fwd.encoderMean, [0, dInv], [-1, dSpur]), tf.slice(fwd.encoderVar, [0, dInv], [-1, dSpur]), ps.mean, ps.variance));
        }
        terms.kl = tf.mean(kl) as tf.Scalar;
        perCell = tf.sub(perCell, tf.mul(beta, kl));
      } else {
        const logQz = normalLogPdf(fwd.z, fwd.encoderMean, fwd.encoderVar);
        let logPz: tf.Tensor;
        const invPrior = this.priors.inv;
        if (invPrior.family === 'gaussian') {
          const p = invPrior.params(inv, { training });
          logPz = normalLogPdf(zInv, p.mean, p.variance);
        } else {
          // score-matching loss at a detached copy (trains the prior only), then the frozen density (trains the encoder only)
          smLoss = invPrior.scoreMatchingLoss(detach(zInv) as tf.Tensor2D, inv, { training });
          logPz = invPrior.logDensity(zInv, inv, { training, frozen: true });
        }
        if (this.priors.spur) {
          const ps = this.priors.spur.params(this.spurPriorInput(spur), { training });
          logPz = tf.add(logPz, zSpur ? normalLogPdf(zSpur, ps.mean, ps.variance) : 0);
        }
        terms.logPz = tf.mean(logPz) as tf.Scalar;
        terms.logQz = tf.mean(logQz) as tf.Scalar;
        perCell = tf.add(perCell, tf.mul(beta, tf.sub(logPz, logQz)));
        if (this.config.tcBeta > 0) {
          const tc = this.totalCorrelation(fwd.z, fwd.encoderMean, fwd.encoderVar, opts.datasetSize!);
          terms.tc = tf.mean(tc) as tf.Scalar;
          perCell = tf.sub(perCell, tf.mul(tcBeta, tc));
        }
      }
      let objective = tf.mean(perCell) as tf.Scalar;
      if (c.model === 'NFinVAE') objective = tf.div(objective, c.normalizeConstant) as tf.Scalar;
      if (smLoss) {
        terms.scoreMatching = smLoss;
        objective = tf.sub(objective, tf.mul(beta, smLoss)) as tf.Scalar;
      }
      if (c.invariancePenalty > 0 && spur) {
        const mmd = conditionalBatchMmd(tf.slice(fwd.encoderMean, [0, 0], [-1, dInv]) as tf.Tensor2D, inv, spur);
        terms.invariance = mmd;
        objective = tf.sub(objective, tf.mul(c.invariancePenalty, mmd)) as tf.Scalar;
      }
      const result: LossResult = { loss: tf.neg(objective) as tf.Scalar, objective, terms, forward: fwd };
      return result as unknown as tf.TensorContainer;
    }) as unknown as LossResult;
  }

  /**
   * Per-cell total correlation log q(z) − log q(z_inv) − log q(z_spur), each estimated by
   * minibatch-weighted sampling: logsumexp over the batch of q(z_i | x_j) − log(B·N).
   */
  private totalCorrelation(z: tf.Tensor2D, mean: tf.Tensor2D, variance: tf.Tensor2D, datasetSize: number): tf.Tensor1D {
    const [b, d] = z.shape;
    const dInv = this.config.latentDimInv;
    const logBN = Math.log(b * datasetSize);
    const lq = normalLogPdf(tf.reshape(z, [b, 1, d]), tf.reshape(mean, [1, b, d]), tf.reshape(variance, [1, b, d]), { reduce: false }); // [B, B, D]
    const mws = (block: tf.Tensor3D | null): tf.Tensor =>
      block ? tf.sub(tf.logSumExp(tf.sum(block, 2), 1), logBN) : tf.fill([b], Math.log(b) - logBN);
    const logqz = mws(lq as tf.Tensor3D);
    const logqzInv = mws(tf.slice(lq, [0, 0, 0], [-1, -1, dInv]) as tf.Tensor3D);
    const logqzSpur = mws(d - dInv > 0 ? (tf.slice(lq, [0, 0, dInv], [-1, -1, d - dInv]) as tf.Tensor3D) : null);
    return tf.sub(tf.sub(logqz, logqzInv), logqzSpur) as tf.Tensor1D;
  }

  /** Disposes the model's variables (encoder, decoder and both priors). */
  dispose(): void {
    for (const v of this.namedVariables()) v.variable.dispose();
  }
}
