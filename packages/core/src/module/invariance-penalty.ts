import { tf } from '../tf';
import { detach } from '../nn/variables';

/** Bandwidth multipliers of the RBF kernels, relative to the minibatch's mean squared distance. */
const SCALES = [0.125, 0.25, 0.5, 1, 2, 4] as const;

/**
 * Conditional maximum mean discrepancy between the batches of a minibatch, within each biological
 * condition: for every condition y (the cells with the same invariant covariates) and every batch b
 * present in it, the squared RKHS distance between the kernel mean of z over the (y, b) cells and
 * over all y cells, summed over b and averaged over y (weighted by cells). It is zero when, within
 * every condition, the latents of every batch are distributed alike — the invariance inVAE asks of
 * its invariant block (z ⊥ batch | biology) — and it never asks different conditions to mix.
 *
 * With C[i, b] = 1[b_i = b] / n(y_i, b) − 1[n(y_i, b) > 0] / n(y_i) and S[i, j] = 1[y_i = y_j], the
 * value is Σ_b c_bᵀ (K ∘ S) c_b / (number of conditions), with K a sum of RBF kernels whose bandwidths
 * are multiples of the mean squared distance (not differentiated). Conditions are compared by exact
 * equality of their covariate rows; without invariant covariates every cell is one condition.
 *
 * @param z latents `[B, D]` (the invariant block's posterior means).
 * @param inv invariant covariates `[B, Ci]` or null.
 * @param spur batch one-hot (spurious covariates) `[B, Cs]`.
 * @returns a scalar ≥ 0 (up to rounding).
 */
export function conditionalBatchMmd(z: tf.Tensor2D, inv: tf.Tensor2D | null, spur: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const n = z.shape[0];
    const sq = tf.sum(tf.square(z), 1, true);
    const d2 = tf.relu(tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(2, tf.matMul(z, z, false, true)))) as tf.Tensor2D;
    const h = tf.maximum(detach(tf.mean(d2)), 1e-6);
    let k: tf.Tensor = tf.zeros([n, n]);
    for (const s of SCALES) k = tf.add(k, tf.exp(tf.div(tf.neg(d2), tf.mul(h, s))));
    // same-condition mask from exact equality of the covariate rows
    let same: tf.Tensor2D;
    if (inv && inv.shape[1] > 0) {
      const uq = tf.sum(tf.square(inv), 1, true);
      const ud = tf.sub(tf.add(uq, tf.transpose(uq)), tf.mul(2, tf.matMul(inv, inv, false, true)));
      same = tf.cast(tf.less(tf.abs(ud), 1e-6), 'float32') as tf.Tensor2D;
    } else same = tf.ones([n, n]) as tf.Tensor2D;
    const nY = tf.sum(same, 1, true); // [B, 1] cells of my condition
    const nYB = tf.matMul(same, spur); // [B, Cs] cells of my condition in each batch
    const present = tf.cast(tf.greater(nYB, 0.5), 'float32');
    const c = tf.sub(tf.div(spur, tf.maximum(nYB, 1)), tf.div(present, nY)); // [B, Cs]
    const conditions = tf.sum(tf.div(1, nY));
    const value = tf.sum(tf.mul(tf.mul(k, same), tf.matMul(c, c, false, true)));
    return tf.div(value, conditions) as tf.Scalar;
  });
}
