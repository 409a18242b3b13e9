import { tf } from '../tf';
import { lgamma } from './lgamma';

/**
 * Log-likelihood of counts `x` under a negative binomial with mean `mu` and inverse dispersion
 * `theta` (the reference's `log_nb_positive`, scVI parameterisation):
 * θ(ln(θ+ε) − ln(θ+μ+ε)) + x(ln(μ+ε) − ln(θ+μ+ε)) + lnΓ(x+θ) − lnΓ(θ) − lnΓ(x+1).
 * `theta` broadcasts against `x` (e.g. one value per gene `[G]`). With `reduce` (default) the result
 * is summed over the last axis (one value per cell).
 */
export function logNbPositive(
  x: tf.Tensor,
  mu: tf.Tensor,
  theta: tf.Tensor,
  opts: { eps?: number; reduce?: boolean } = {},
): tf.Tensor {
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
