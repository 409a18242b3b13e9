import { tf } from '../tf';
import { normalLogPdfRows, normalLogPdfRowsApplies } from './normal-fused';

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Log-density of a diagonal Gaussian with mean `mu` and variance `v` (not standard deviation),
 * elementwise −½(ln 2π + ln v + (x − μ)²/v), summed over the last axis unless `reduce` is false.
 * All arguments broadcast.
 */
export function normalLogPdf(x: tf.Tensor, mu: tf.Tensor | number, v: tf.Tensor | number, opts: { reduce?: boolean } = {}): tf.Tensor {
  // same-shaped matrices, summed: one op of two kernels (see normal-fused)
  if (opts.reduce !== false && normalLogPdfRowsApplies(x, mu, v)) return normalLogPdfRows(x as tf.Tensor2D, mu as tf.Tensor2D, v as tf.Tensor2D);
  return tf.tidy(() => {
    const vt = typeof v === 'number' ? tf.scalar(v) : v;
    const lp = tf.mul(-0.5, tf.add(tf.add(LOG_2PI, tf.log(vt)), tf.div(tf.square(tf.sub(x, mu)), vt)));
    return opts.reduce === false ? lp : tf.sum(lp, -1);
  });
}

/**
 * KL divergence KL(N(μq, vq) ‖ N(μp, vp)) per element for diagonal Gaussians given by variances;
 * summed over the last axis unless `reduce` is false.
 */
export function normalKl(
  muQ: tf.Tensor,
  vQ: tf.Tensor,
  muP: tf.Tensor | number,
  vP: tf.Tensor | number,
  opts: { reduce?: boolean } = {},
): tf.Tensor {
  return tf.tidy(() => {
    const vp = typeof vP === 'number' ? tf.scalar(vP) : vP;
    const kl = tf.sub(tf.add(tf.mul(0.5, tf.log(tf.div(vp, vQ))), tf.div(tf.add(vQ, tf.square(tf.sub(muQ, muP))), tf.mul(2, vp))), 0.5);
    return opts.reduce === false ? kl : tf.sum(kl, -1);
  });
}
