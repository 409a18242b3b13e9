import { tf } from '../tf';
import { lgamma } from './lgamma';
import { logNbFused, nbFusedApplies } from './nb-fused';
import { fastPaths } from '../nn/fast-paths';

/** Options of {@link logNbPositive}. */
export interface LogNbOptions {
  /** Added inside the logarithms (default 1e-8, as the reference). */
  eps?: number;
  /** Sum over the last axis, one value per cell (default true). */
  reduce?: boolean;
}

/**
 * Log-likelihood of counts `x` under a negative binomial with mean `mu` and inverse dispersion
 * `theta` (the reference's `log_nb_positive`, scVI parameterisation):
 * θ(ln(θ+ε) − ln(θ+μ+ε)) + x(ln(μ+ε) − ln(θ+μ+ε)) + lnΓ(x+θ) − lnΓ(θ) − lnΓ(x+1).
 * `theta` broadcasts against `x` (e.g. one value per gene `[G]`). With `reduce` (default) the result
 * is summed over the last axis (one value per cell).
 *
 * For the common case — reduced, `x` and `mu` `[cells, genes]`, `theta` `[genes]`, on the wasm or
 * cpu engine — the value and its gradients (w.r.t. `mu` and `theta`; counts get none) come from
 * fused kernels that work in double precision and evaluate the x·ln and lnΓ terms on the non-zero
 * counts only; otherwise from the elementwise formula (the module's `logNbPositiveDense`).
 */
export function logNbPositive(x: tf.Tensor, mu: tf.Tensor, theta: tf.Tensor, opts: LogNbOptions = {}): tf.Tensor {
  const eps = opts.eps ?? 1e-8;
  if (fastPaths.nbKernel && opts.reduce !== false && nbFusedApplies(x, mu, theta)) {
    return logNbFused(x as tf.Tensor2D, mu as tf.Tensor2D, theta as tf.Tensor1D, eps);
  }
  return logNbPositiveDense(x, mu, theta, opts);
}

/**
 * {@link logNbPositive} by the elementwise formula on every element, in float32 tensor ops (any
 * shapes that broadcast; gradients by autodiff, for all three arguments).
 */
export function logNbPositiveDense(x: tf.Tensor, mu: tf.Tensor, theta: tf.Tensor, opts: LogNbOptions = {}): tf.Tensor {
  const eps = opts.eps ?? 1e-8;
  return tf.tidy(() => {
    const logThetaMuEps = tf.log(tf.add(tf.add(theta, mu), eps));
    const res = tf.add(
      tf.add(
        tf.mul(theta, tf.sub(tf.log(tf.add(theta, eps)), logThetaMuEps)),
        tf.mul(x, tf.sub(tf.log(tf.add(mu, eps)), logThetaMuEps)),
      ),
      tf.sub(tf.sub(lgamma(tf.add(x, theta)), lgamma(theta)), lgamma(tf.add(x, 1))),
    );
    return opts.reduce === false ? res : tf.sum(res, -1);
  });
}
