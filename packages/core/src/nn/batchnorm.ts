import { tf } from '../tf';
import { detach, type NamedVariable } from './variables';
import { fastPaths } from './fast-paths';
import { jsKernelsAvailable } from './js-kernel';
import { BLOCK_ACTIVATION, batchNormBackward, batchNormBlockBackward, batchNormBlockForward, batchNormForward, runningStatsUpdate } from './batchnorm-kernels';

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
   * statistics are updated in place. With `frozen` no gradient reaches γ and β. With `fused` a
   * training-mode call is one taped op with a closed-form gradient (same values and gradients of
   * `out`); its `scale` then carries no gradient through the batch statistics.
   */
  apply(x: tf.Tensor2D, opts: { training: boolean; frozen?: boolean; updateStats?: boolean; fused?: boolean }): BatchNormResult {
    if (opts.fused && opts.training && !opts.frozen && fastPaths.batchNorm) return this.applyTrainingFused(x, opts.updateStats !== false);
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

  /**
   * Training-mode normalisation as one taped operation with the closed-form gradient
   * dx = (γ/σ)(dy − mean(dy) − x̂·mean(dy ⊙ x̂)), dγ = Σ dy ⊙ x̂, dβ = Σ dy (x̂ the normalised input,
   * σ = √(var + eps)): the same values and gradients as the elementwise form in a handful of ops.
   * `scale` (γ/σ) is returned detached from the batch statistics' dependence on x.
   */
  private applyTrainingFused(x: tf.Tensor2D, updateStats: boolean): BatchNormResult {
    const n = x.shape[0];
    let mean: tf.Tensor1D | null = null;
    let variance: tf.Tensor1D | null = null;
    let invStd: tf.Tensor1D | null = null;
    const eps = this.eps;
    // one JavaScript kernel each way (`batchnorm-kernels`) where the engine runs them, else engine ops
    const kernel = fastPaths.batchNormKernel && jsKernelsAvailable() && x.dtype === 'float32';
    const f = tf.customGrad(((xv: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, save: tf.GradSaveFunc) => {
      if (kernel) {
        const [value, xhat, m, v, inv] = batchNormForward(xv, gamma, beta, eps);
        mean = tf.keep(m);
        variance = tf.keep(v);
        invStd = tf.keep(inv);
        save([xhat, inv, gamma]);
        return {
          value,
          gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
            const [xh, iv, g] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
            return batchNormBackward(dy.dtype === 'float32' ? dy : (tf.cast(dy, 'float32') as tf.Tensor2D), xh, iv, g);
          },
        };
      }
      const m = tf.mean(xv, 0) as tf.Tensor1D;
      const centred = tf.sub(xv, m);
      const v = tf.mean(tf.square(centred), 0) as tf.Tensor1D;
      const inv = tf.rsqrt(tf.add(v, eps)) as tf.Tensor1D;
      const xhat = tf.mul(centred, inv) as tf.Tensor2D;
      mean = tf.keep(m);
      variance = tf.keep(v);
      invStd = tf.keep(inv);
      save([xhat, inv, gamma]);
      return {
        value: tf.add(tf.mul(xhat, gamma), beta),
        gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
          const [xh, iv, g] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
          const dBeta = tf.sum(dy, 0);
          const dGamma = tf.sum(tf.mul(dy, xh), 0);
          // dx = γ/σ · (dy − (Σ dy + x̂ Σ dy⊙x̂)/n)
          const dx = tf.mul(tf.sub(dy, tf.div(tf.add(dBeta, tf.mul(xh, dGamma)), n)), tf.mul(g, iv));
          return [dx, dGamma, dBeta];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (xv: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor2D;
    const out = f(x, this.weight as tf.Tensor1D, this.bias as tf.Tensor1D);
    const [m, v, inv] = [mean!, variance!, invStd!] as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    if (updateStats) this.updateRunningStats(n, m, v);
    const scale = tf.mul(this.weight, inv) as tf.Tensor1D;
    tf.dispose([m, v, inv]);
    return { out, scale };
  }

  /**
   * A training-mode block BatchNorm → activation → dropout as one taped op of two JavaScript kernels
   * (`batchnorm-kernels`), with the values and gradients of {@link apply} (`fused`) followed by the
   * engine's activation and a multiply by `mask`; the running statistics are updated as `apply` does.
   * Use where {@link blockApplies}.
   */
  applyTrainingBlock(x: tf.Tensor2D, activation: 'relu' | 'lrelu' | null, slope: number, mask: tf.Tensor2D | null, updateStats = true): tf.Tensor2D {
    let stats: [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D] | null = null;
    const act = activation === 'relu' ? BLOCK_ACTIVATION.relu : activation === 'lrelu' ? BLOCK_ACTIVATION.lrelu : BLOCK_ACTIVATION.none;
    const hasMask = mask ? 1 : 0;
    const f = tf.customGrad(((xv: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, save: tf.GradSaveFunc) => {
      const m = mask ?? xv;
      const [out, y, xhat, mean, variance, inv] = batchNormBlockForward(xv, gamma, beta, m, { eps: this.eps, act, slope, hasMask });
      stats = [tf.keep(mean), tf.keep(variance), tf.keep(inv)];
      save([y, m, xhat, inv, gamma]);
      return {
        value: out,
        gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
          const [ys, ms, xh, iv, g] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
          return batchNormBlockBackward(dy.dtype === 'float32' ? dy : (tf.cast(dy, 'float32') as tf.Tensor2D), ys, ms, xh, iv, g, { act, slope, hasMask });
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (xv: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor2D;
    const out = f(x, this.weight as tf.Tensor1D, this.bias as tf.Tensor1D);
    const [m, v, inv] = stats!;
    if (updateStats) this.updateRunningStats(x.shape[0], m, v);
    tf.dispose([m, v, inv]);
    return out;
  }

  /** Whether {@link applyTrainingBlock} runs here: the fused BatchNorm and its kernels on, a float32 input. */
  static blockApplies(x: tf.Tensor): boolean {
    return fastPaths.batchNorm && fastPaths.batchNormKernel && fastPaths.batchNormBlock && jsKernelsAvailable() && x.dtype === 'float32';
  }

  /** running ← (1 − momentum)·running + momentum·batch, the variance unbiased (n/(n − 1)): one kernel where the fused kernels run, else engine ops (the same float32 values). */
  private updateRunningStats(n: number, m: tf.Tensor1D, v: tf.Tensor1D): void {
    const mo = this.momentum;
    const unbiased = n > 1 ? n / (n - 1) : 1;
    const kernel = fastPaths.batchNormKernel && jsKernelsAvailable() && m.dtype === 'float32' && v.dtype === 'float32';
    const [newMean, newVar] = kernel
      ? runningStatsUpdate(this.runningMean as tf.Tensor1D, this.runningVar as tf.Tensor1D, m, v, mo, unbiased)
      : [tf.tidy(() => tf.add(tf.mul(this.runningMean, 1 - mo), tf.mul(m, mo))), tf.tidy(() => tf.add(tf.mul(this.runningVar, 1 - mo), tf.mul(v, mo * unbiased)))];
    this.runningMean.assign(newMean);
    this.runningVar.assign(newVar);
    newMean.dispose();
    newVar.dispose();
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
