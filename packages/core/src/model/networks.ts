import { tf } from '../tf';
import { Linear } from '../nn/linear';
import { MLP } from '../nn/mlp';
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
    const c = config;
    const fin = c.model === 'FinVAE';
    this.names = fin ? ['shared_encoder', 'g', 'logv'] : ['x_y_e_encoder', 'latent_mean', 'latent_log_var'];
    const latent = c.latentDimInv + c.latentDimSpur;
    this.body = new MLP(
      {
        inputDim: c.dataDim + c.invCovarDim + c.spurCovarDim,
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
      seeds,
    );
    this.meanHead = new Linear(c.hiddenDim, latent, seeds);
    this.logVarHead = new Linear(c.hiddenDim, latent, seeds);
  }

  /** Encodes `[log1p(x) (nb) or x (normal), u_inv, u_spur]`. */
  apply(x: tf.Tensor2D, inv: tf.Tensor2D | null, spur: tf.Tensor2D | null, training: boolean): EncoderOutput {
    const parts: tf.Tensor2D[] = [this.config.decoderDist === 'nb' ? (tf.log1p(x) as tf.Tensor2D) : x];
    if (inv && inv.shape[1] > 0) parts.push(inv);
    if (spur && spur.shape[1] > 0) parts.push(spur);
    const input = parts.length === 1 ? parts[0]! : (tf.concat(parts, 1) as tf.Tensor2D);
    const h = this.body.forward(input, { training });
    const mean = this.meanHead.apply(h);
    const variance = tf.add(tf.exp(this.logVarHead.apply(h)), 1e-4) as tf.Tensor2D;
    return { mean, variance };
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
 */
export class Decoder {
  /** NB: hidden network before the frequency layer; normal: the whole mean network. */
  readonly rawMean: MLP;
  /** NB: linear layer before the softmax (`decoder_freq.0`). */
  readonly freq?: Linear;
  /** NB: log θ per gene (`decoder_raw_theta`). */
  readonly rawTheta?: tf.Variable;
  private readonly mlpName: string;

  constructor(private readonly config: ResolvedInvaeModelConfig, seeds: SeedStream) {
    const c = config;
    const latent = c.latentDimInv + c.latentDimSpur;
    const inputDim = latent + (c.injectCovarInLatent ? c.spurCovarDim : 0);
    const nb = c.decoderDist === 'nb';
    this.mlpName = nb ? 'decoder_raw_mean' : c.model === 'FinVAE' ? 'f' : 'decoder_mean';
    this.rawMean = new MLP(
      {
        inputDim,
        outputDim: nb ? c.hiddenDim : c.dataDim,
        hiddenDim: c.hiddenDim,
        nLayers: c.nLayers,
        activation: c.activation,
        // as the reference: only FinVAE's normal decoder `f` receives `slope`; the others keep 0.1
        slope: !nb && c.model === 'FinVAE' ? c.slope : REFERENCE_DEFAULT_SLOPE,
        batchNorm: c.batchNorm,
        dropoutRate: c.dropoutRate,
      },
      seeds,
    );
    if (nb) {
      this.freq = new Linear(c.hiddenDim, c.dataDim, seeds);
      this.rawTheta = tf.variable(tf.randomNormal([c.dataDim], 0, 1, 'float32', seeds.next()), true);
    }
  }

  /** Decodes `z` (concatenated with `u_spur` when covariates are injected); `library` is Σx per cell `[B, 1]` (NB only). */
  apply(z: tf.Tensor2D, spur: tf.Tensor2D | null, library: tf.Tensor2D | null, training: boolean): DecoderOutput {
    const input = this.config.injectCovarInLatent && spur && spur.shape[1] > 0 ? (tf.concat([z, spur], 1) as tf.Tensor2D) : z;
    const h = this.rawMean.forward(input, { training });
    if (this.config.decoderDist === 'nb') {
      const freq = tf.softmax(this.freq!.apply(h)) as tf.Tensor2D;
      return { mean: tf.mul(freq, library!) as tf.Tensor2D, theta: tf.exp(this.rawTheta!) as tf.Tensor1D };
    }
    return { mean: h, variance: 0.01 };
  }

  /** Variables under the reference names. */
  namedVariables(): NamedVariable[] {
    const out = prefixed(this.mlpName, this.rawMean);
    if (this.freq) out.push(...prefixed('decoder_freq.0', this.freq));
    if (this.rawTheta) out.push({ name: 'decoder_raw_theta', variable: this.rawTheta, trainable: true });
    return out;
  }
}
