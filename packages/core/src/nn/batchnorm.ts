import { tf } from '../tf';
import { detach, type NamedVariable } from './variables';

/** Output of {@link BatchNorm1d.apply}: the normalised values and the per-unit factor applied to the input. */
export interface BatchNormResult {
  /** Normalised, scaled and shifted values `[B, C]`. */
  readonly out: tf.Tensor2D;
  /** `γ / √(σ² + ε)` per unit `[C]`: the derivative of `out` w.r.t. the input when statistics are held fixed. */
  readonly scale: tf.Tensor1D;
}

/**
 * 1-D batch normalisation like PyTorch's `nn.BatchNorm1d(momentum, eps)`: in training mode it
 * normalises by the batch mean and biased batch variance and updates the running statistics with
 * the unbiased variance (`running ← (1-momentum)·running + momentum·batch`); in eval mode it uses
 * the running statistics.
 */
export class BatchNorm1d {
  /** Scale γ `[C]`. */
  readonly weight: tf.Variable;
  /** Shift β `[C]`. */
  readonly bias: tf.Variable;
  /** Running mean `[C]` (not trainable). */
  readonly runningMean: tf.Variable;
  /** Running variance `[C]` (not trainable). */
  readonly runningVar: tf.Variable;

  constructor(
    readonly channels: number,
    readonly momentum = 0.01,
    readonly eps = 1e-3,
  ) {
    this.weight = tf.variable(tf.ones([channels]), true);
    this.bias = tf.variable(tf.zeros([channels]), true);
    this.runningMean = tf.variable(tf.zeros([channels]), false);
    this.runningVar = tf.variable(tf.ones([channels]), false);
  }

  /**
   * Normalises `x` `[B, C]`. In training mode (and with `updateStats`, the default) the running
   * statistics are updated in place. With `frozen` no gradient reaches γ and β.
   */
  apply(x: tf.Tensor2D, opts: { training: boolean; frozen?: boolean; updateStats?: boolean }): BatchNormResult {
    const gamma = (opts.frozen ? detach(this.weight) : this.weight) as tf.Tensor1D;
    const beta = (opts.frozen ? detach(this.bias) : this.bias) as tf.Tensor1D;
    let mean: tf.Tensor;
    let variance: tf.Tensor;
    if (opts.training) {
      const n = x.shape[0];
      const moments = tf.moments(x, 0);
      mean = moments.mean;
      variance = moments.variance;
      if (opts.updateStats !== false) {
        const m = this.momentum;
        const unbiased = n > 1 ? tf.mul(variance, n / (n - 1)) : variance;
        const newMean = tf.tidy(() => tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(detach(mean), m)));
        const newVar = tf.tidy(() => tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(detach(unbiased), m)));
        this.runningMean.assign(newMean);
        this.runningVar.assign(newVar);
        newMean.dispose();
        newVar.dispose();
      }
    } else {
      mean = this.runningMean;
      variance = this.runningVar;
    }
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, this.eps))) as tf.Tensor1D;
    const out = tf.add(tf.mul(tf.sub(x, mean), scale), beta) as tf.Tensor2D;
    return { out, scale };
  }

  /** `weight`, `bias`, `running_mean`, `running_var` (PyTorch names). */
  namedVariables(): NamedVariable[] {
    return [
      { name: 'weight', variable: this.weight, trainable: true },
      { name: 'bias', variable: this.bias, trainable: true },
      { name: 'running_mean', variable: this.runningMean, trainable: false },
      { name: 'running_var', variable: this.runningVar, trainable: false },
    ];
  }
}
