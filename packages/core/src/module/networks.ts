import { tf } from '../tf';
import { Linear, linearWeightShapes } from '../nn/linear';
import { linearProduct } from '../nn/linear-product';
import { MLP, mlpWeightShapes, type MLPOptions } from '../nn/mlp';
import { log1pInput } from '../nn/log1p-input';
import { fastPaths } from '../nn/fast-paths';
import { decoderNbApplies, decoderNbLogLik, decoderNbPrepare } from '../fused/decoder-nb';
import { prefixed, type NamedVariable, type SeedStream } from '../nn/variables';
import type { ResolvedInvaeModelConfig } from './config';

/** Leaky-ReLU slope of reference networks that are built without passing `slope` (the MLP default). */
export const REFERENCE_DEFAULT_SLOPE = 0.1;

/** Encoder output: mean and variance (`exp(log-variance) + 1e-4`) of q(z | x, u), both `[B, latentDim]`. */
export interface EncoderOutput {
  /** Posterior mean. */
  readonly mean: tf.Tensor2D;
  /** Posterior variance. */
  readonly variance: tf.Tensor2D;
  /** Library size Σx per cell `[B, 1]`, computed with the NB encoder's input (absent for a normal decoder). */
  readonly library?: tf.Tensor2D;
}

/** Width of the covariates the encoder reads (see `encoderCovariates`). */
export function encoderCovariateWidth(c: ResolvedInvaeModelConfig): number {
  if (c.encoderCovariates === 'none') return 0;
  return c.spurCovarDim + (c.encoderCovariates === 'all' ? c.invCovarDim : 0);
}

/** Query columns of the encoder's first layer: the spurious query columns when the encoder reads the spurious covariates. */
function encoderQueryInputs(c: ResolvedInvaeModelConfig): number {
  return c.encoderCovariates === 'none' ? 0 : c.spurQueryDim;
}

/** Query columns of the decoder's first layer: the spurious query columns when the covariates are injected into it. */
function decoderQueryInputs(c: ResolvedInvaeModelConfig): number {
  return c.injectCovarInLatent ? c.spurQueryDim : 0;
}

/** Names and sizes of the encoder's parts (one place for the constructor and {@link networkWeightShapes}). */
function encoderPlan(c: ResolvedInvaeModelConfig): { names: readonly [string, string, string]; body: MLPOptions; latent: number } {
  const fin = c.model === 'FinVAE';
  return {
    names: fin ? ['shared_encoder', 'g', 'logv'] : ['x_y_e_encoder', 'latent_mean', 'latent_log_var'],
    body: {
      inputDim: c.dataDim + encoderCovariateWidth(c),
      outputDim: c.hiddenDim,
      hiddenDim: c.hiddenDim,
      nLayers: fin ? c.nLayers - 1 : c.nLayers,
      activation: c.activation,
      // the reference passes `slope` to FinVAE's encoder only; NFinVAE's encoder keeps the MLP default 0.1
      slope: fin ? c.slope : REFERENCE_DEFAULT_SLOPE,
      endWithAct: true,
      batchNorm: c.batchNorm,
      dropoutRate: c.dropoutRate,
    },
    latent: c.latentDimInv + c.latentDimSpur,
  };
}

/** Names and sizes of the decoder's parts (one place for the constructor and {@link networkWeightShapes}). */
function decoderPlan(c: ResolvedInvaeModelConfig): { mlpName: string; rawMean: MLPOptions; nb: boolean; paths: number } {
  const dedicated = c.decoderPaths ? c.decoderPaths.genes.length : 0;
  const latent = c.latentDimInv + c.latentDimSpur - dedicated;
  const nb = c.decoderDist === 'nb';
  return {
    mlpName: nb ? 'decoder_raw_mean' : c.model === 'FinVAE' ? 'f' : 'decoder_mean',
    rawMean: {
      inputDim: latent + (c.injectCovarInLatent ? c.spurCovarDim : 0),
      outputDim: nb ? c.hiddenDim : c.dataDim,
      hiddenDim: c.hiddenDim,
      nLayers: c.nLayers,
      activation: c.activation,
      // as the reference: only FinVAE's normal decoder `f` receives `slope`; the others keep 0.1
      slope: !nb && c.model === 'FinVAE' ? c.slope : REFERENCE_DEFAULT_SLOPE,
      batchNorm: c.batchNorm,
      dropoutRate: c.dropoutRate,
    },
    nb,
    paths: dedicated,
  };
}

/**
 * Names and shapes of the encoder's and decoder's variables (as the model's `namedVariables`; the
 * priors' are their plugins' own) that a configuration implies, computed without allocating them:
 * a saved model's options are checked against its weights' shapes before the model is built.
 */
export function networkWeightShapes(c: ResolvedInvaeModelConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const add = (prefix: string, list: [string, number[]][]) => {
    for (const [n, s] of list) out.set(`${prefix}.${n}`, s);
  };
  const enc = encoderPlan(c);
  add(enc.names[0], mlpWeightShapes(enc.body));
  if (encoderQueryInputs(c)) out.set(`${enc.names[0]}.fc.0.query_weight`, [enc.body.nLayers > 1 ? c.hiddenDim : enc.body.outputDim, c.spurQueryDim]);
  add(enc.names[1], linearWeightShapes(c.hiddenDim, enc.latent));
  add(enc.names[2], linearWeightShapes(c.hiddenDim, enc.latent));
  const dec = decoderPlan(c);
  add(dec.mlpName, mlpWeightShapes(dec.rawMean));
  if (decoderQueryInputs(c)) out.set(`${dec.mlpName}.fc.0.query_weight`, [dec.rawMean.nLayers > 1 ? c.hiddenDim : dec.rawMean.outputDim, c.spurQueryDim]);
  if (dec.nb) {
    add('decoder_freq.0', linearWeightShapes(c.hiddenDim, c.dataDim));
    out.set('decoder_raw_theta', [c.dataDim]);
  }
  if (dec.paths) {
    out.set('decoder_paths.weight', [c.dataDim, dec.paths]);
    out.set('decoder_paths.mask', [c.dataDim, dec.paths]);
  }
  return out;
}

/**
 * Encoder q(z | x, u_inv, u_spur): a shared MLP ending with an activation, then two linear heads.
 * FinVAE names it `shared_encoder` (n_layers − 1 layers) with heads `g` / `logv`; NFinVAE names it
 * `x_y_e_encoder` (n_layers layers) with heads `latent_mean` / `latent_log_var`.
 */
export class GaussianEncoder {
  /** Shared network (ends with the activation). */
  readonly body: MLP;
  /** Linear head for the mean. */
  readonly meanHead: Linear;
  /** Linear head for the log-variance. */
  readonly logVarHead: Linear;
  private readonly names: readonly [string, string, string];

  constructor(private readonly config: ResolvedInvaeModelConfig, seeds: SeedStream) {
    const plan = encoderPlan(config);
    this.names = plan.names;
    this.body = new MLP(plan.body, seeds);
    const query = encoderQueryInputs(config);
    if (query) this.body.addQueryInputs(query);
    this.meanHead = new Linear(config.hiddenDim, plan.latent, seeds);
    this.logVarHead = new Linear(config.hiddenDim, plan.latent, seeds);
  }

  /**
   * Encodes `[log1p(x) (nb) or x (normal), u_inv, u_spur]` (the covariates `encoderCovariates` names);
   * `spurQuery`: the spurious query columns (`spurQueryDim` > 0), read by the first layer's query weight.
   */
  apply(x: tf.Tensor2D, inv: tf.Tensor2D | null, spur: tf.Tensor2D | null, training: boolean, spurQuery: tf.Tensor2D | null = null): EncoderOutput {
    const which = this.config.encoderCovariates;
    const covs = [which === 'all' ? inv : null, which === 'none' ? null : spur].filter((t): t is tf.Tensor2D => !!t && t.shape[1] > 0);
    const u = covs.length === 0 ? null : covs.length === 1 ? covs[0]! : (tf.concat(covs, 1) as tf.Tensor2D);
    let input: tf.Tensor2D;
    let library: tf.Tensor2D | undefined;
    if (this.config.decoderDist === 'nb') ({ input, library } = log1pInput(x, u, { fused: fastPaths.encoderInput }));
    else input = u ? (tf.concat([x, u], 1) as tf.Tensor2D) : x;
    // the input is data: the first layer computes no gradient for it
    const h = this.body.forward(input, { training, dataInput: true, queryInput: which === 'none' ? null : spurQuery });
    const mean = this.meanHead.apply(h);
    const variance = tf.add(tf.exp(this.logVarHead.apply(h)), 1e-4) as tf.Tensor2D;
    return library ? { mean, variance, library } : { mean, variance };
  }

  /** Variables under the reference names. */
  namedVariables(): NamedVariable[] {
    return [...prefixed(this.names[0], this.body), ...prefixed(this.names[1], this.meanHead), ...prefixed(this.names[2], this.logVarHead)];
  }
}

/** Decoder output: the mean of p(x | z) and its dispersion (NB θ per gene) or variance (normal). */
export interface DecoderOutput {
  /** NB: softmax frequencies × library size; normal: the MLP output. `[B, G]`. */
  readonly mean: tf.Tensor2D;
  /** NB: θ = exp(decoder_raw_theta) `[G]`. */
  readonly theta?: tf.Tensor1D;
  /** Normal: the fixed variance 0.01. */
  readonly variance?: number;
}

/**
 * Decoder p(x | z[, u_spur]). NB: `decoder_raw_mean` MLP (n_layers, no final activation) →
 * `decoder_freq.0` linear → softmax, times the library size Σx; θ = exp(`decoder_raw_theta`)
 * (initialised standard normal). Normal: an MLP named `f` (FinVAE) or `decoder_mean` (NFinVAE)
 * with fixed variance 0.01.
 *
 * With `decoderPaths` (not in the reference) the last K invariant dimensions are withheld from the
 * MLP and feed only the masked linear layer `decoder_paths` (weight `[G, K]` times its fixed 0/1
 * mask, kept as the buffer `decoder_paths.mask`), whose output is added to the logits before the
 * softmax (NB) or to the mean (normal).
 */
export class Decoder {
  /** NB: hidden network before the frequency layer; normal: the whole mean network. */
  readonly rawMean: MLP;
  /** NB: linear layer before the softmax (`decoder_freq.0`). */
  readonly freq?: Linear;
  /** NB: log θ per gene (`decoder_raw_theta`). */
  readonly rawTheta?: tf.Variable;
  /** Masked decoder paths (only with `decoderPaths`): weight `[G, K]` and its 0/1 mask `[G, K]`. */
  readonly paths?: { readonly weight: tf.Variable; readonly mask: tf.Variable };
  private readonly mlpName: string;

  constructor(private readonly config: ResolvedInvaeModelConfig, seeds: SeedStream) {
    const c = config;
    const plan = decoderPlan(c);
    this.mlpName = plan.mlpName;
    this.rawMean = new MLP(plan.rawMean, seeds);
    const query = decoderQueryInputs(c);
    if (query) this.rawMean.addQueryInputs(query);
    if (plan.nb) {
      this.freq = new Linear(c.hiddenDim, c.dataDim, seeds);
      this.rawTheta = tf.variable(tf.randomNormal([c.dataDim], 0, 1, 'float32', seeds.next()), true);
    }
    if (c.decoderPaths) this.paths = maskedPaths(c.decoderPaths.genes, c.dataDim, seeds);
  }

  /**
   * Decodes `z` (concatenated with `u_spur` when covariates are injected); `library` is Σx per cell
   * `[B, 1]` (NB only); `spurQuery`: the spurious query columns, read by the first layer's query weight
   * when covariates are injected.
   */
  apply(z: tf.Tensor2D, spur: tf.Tensor2D | null, library: tf.Tensor2D | null, training: boolean, spurQuery: tf.Tensor2D | null = null): DecoderOutput {
    const { main, dedicated } = this.splitLatent(z);
    const input = this.config.injectCovarInLatent && spur && spur.shape[1] > 0 ? (tf.concat([main, spur], 1) as tf.Tensor2D) : main;
    let h = this.rawMean.forward(input, { training, queryInput: this.config.injectCovarInLatent ? spurQuery : null });
    // masked paths: dedicated dims → their genes only, added before the softmax (NB) or to the mean (normal)
    const pathLogits = dedicated ? linearProduct(dedicated, tf.mul(this.paths!.weight, this.paths!.mask) as tf.Tensor2D) : null;
    if (this.config.decoderDist === 'nb') {
      let logits = this.freq!.apply(h);
      if (pathLogits) logits = tf.add(logits, pathLogits) as tf.Tensor2D;
      const freq = tf.softmax(logits) as tf.Tensor2D;
      return { mean: tf.mul(freq, library!) as tf.Tensor2D, theta: tf.exp(this.rawTheta!) as tf.Tensor1D };
    }
    if (pathLogits) h = tf.add(h, pathLogits) as tf.Tensor2D;
    return { mean: h, variance: 0.01 };
  }

  /**
   * NB only: log p(x | z) per cell `[B]`, the mean (a value: no gradient flows through it) and θ by the fused output-layer + likelihood op
   * (`fused/decoder-nb`, the same quantities as {@link apply} then `logNbPositive`) where it applies
   * (no masked paths, the fast paths on, a wasm or cpu engine with the fused threads); else null.
   */
  nbLogLikFused(z: tf.Tensor2D, spur: tf.Tensor2D | null, library: tf.Tensor2D, x: tf.Tensor2D, training: boolean, spurQuery: tf.Tensor2D | null = null): { logPxZ: tf.Tensor1D; mean: tf.Tensor2D; theta: tf.Tensor1D } | null {
    const freq = this.fusedNbLayer();
    if (!freq || !decoderNbApplies(z.shape[0], freq.weight, library, x)) return null;
    const { main } = this.splitLatent(z);
    const input = this.config.injectCovarInLatent && spur && spur.shape[1] > 0 ? (tf.concat([main, spur], 1) as tf.Tensor2D) : main;
    const h = this.rawMean.forward(input, { training, queryInput: this.config.injectCovarInLatent ? spurQuery : null });
    const theta = tf.exp(this.rawTheta!) as tf.Tensor1D;
    const { logLik, mean } = decoderNbLogLik(h, freq.weight as tf.Tensor2D, freq.bias as tf.Tensor1D, theta, library, x);
    return { logPxZ: logLik, mean, theta };
  }

  /**
   * NB only: starts the part of {@link nbLogLikFused} of this optimiser step that depends on the
   * weights only (`fused/decoder-nb`'s `decoderNbPrepare`) for counts `x`, to run while the encoder
   * does; nothing where the fused op would not run.
   */
  prepareNbLogLikFused(x: tf.Tensor2D): void {
    const freq = this.fusedNbLayer();
    if (!freq || !fastPaths.decoderPrepare) return;
    tf.tidy(() => decoderNbPrepare(freq.weight as tf.Tensor2D, freq.bias as tf.Tensor1D, tf.exp(this.rawTheta!) as tf.Tensor1D, x));
  }

  /** The output layer, where the fused output-layer + likelihood op may run for this decoder (NB, no masked paths, its fast paths on); else null. */
  private fusedNbLayer(): Linear | null {
    return this.config.decoderDist === 'nb' && !this.config.decoderPaths && this.freq && fastPaths.fusedDecoderNb && fastPaths.nbKernel ? this.freq : null;
  }

  /** The latents the main network reads and (with masked paths) the dedicated ones, the last K invariant dimensions. */
  private splitLatent(z: tf.Tensor2D): { main: tf.Tensor2D; dedicated: tf.Tensor2D | null } {
    const paths = this.config.decoderPaths;
    if (!paths) return { main: z, dedicated: null };
    const k = paths.genes.length;
    const li = this.config.latentDimInv;
    const ls = this.config.latentDimSpur;
    const parts: tf.Tensor2D[] = [];
    if (li > k) parts.push(tf.slice(z, [0, 0], [-1, li - k]));
    if (ls > 0) parts.push(tf.slice(z, [0, li], [-1, ls]));
    const main = parts.length === 1 ? parts[0]! : parts.length ? (tf.concat(parts, 1) as tf.Tensor2D) : (tf.zeros([z.shape[0], 0]) as tf.Tensor2D);
    return { main, dedicated: tf.slice(z, [0, li - k], [-1, k]) };
  }

  /** Variables under the reference names (plus `decoder_paths.weight` / `decoder_paths.mask` with masked paths). */
  namedVariables(): NamedVariable[] {
    const out = prefixed(this.mlpName, this.rawMean);
    if (this.freq) out.push(...prefixed('decoder_freq.0', this.freq));
    if (this.rawTheta) out.push({ name: 'decoder_raw_theta', variable: this.rawTheta, trainable: true });
    if (this.paths) {
      out.push({ name: 'decoder_paths.weight', variable: this.paths.weight, trainable: true });
      out.push({ name: 'decoder_paths.mask', variable: this.paths.mask, trainable: false });
    }
    return out;
  }
}

/**
 * Weight and mask of the masked paths, both `[G, K]` (PyTorch's `[out, in]`). The weight is drawn
 * uniform in ±1/√K (PyTorch's default bound for a layer with K inputs) and zeroed outside the mask;
 * the mask multiplies it in every forward pass, so entries outside it get no gradient and stay 0.
 */
function maskedPaths(genes: readonly (readonly number[])[], dataDim: number, seeds: SeedStream): { weight: tf.Variable; mask: tf.Variable } {
  const k = genes.length;
  const m = new Float32Array(dataDim * k);
  genes.forEach((list, j) => {
    for (const g of list) m[g * k + j] = 1;
  });
  return tf.tidy(() => {
    const mask = tf.tensor2d(m, [dataDim, k]);
    const bound = 1 / Math.sqrt(k);
    const weight = tf.variable(tf.mul(tf.randomUniform([dataDim, k], -bound, bound, 'float32', seeds.next()), mask), true);
    return { weight, mask: tf.variable(mask, false) };
  });
}
