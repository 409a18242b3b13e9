import { tf } from '../tf';
import { InvalidOptionError } from '../errors';
import { Adam } from '../optim/adam';
import { Rng } from '../random/rng';
import { shuffleInPlace } from '../random/permutation';
import type { LatentMatrix } from './types';

/** Checks a latent matrix's shape and values. */
export function checkLatent(latent: LatentMatrix, dims: number | null, what = 'latent'): void {
  if (latent.data.length !== latent.nRows * latent.nCols) {
    throw new InvalidOptionError(what, `${what} has ${latent.data.length} values for ${latent.nRows} × ${latent.nCols}.`);
  }
  if (dims !== null && latent.nCols !== dims) {
    throw new InvalidOptionError(what, `${what} has ${latent.nCols} dimensions, the predictor was fitted on ${dims}.`);
  }
  for (let i = 0; i < latent.data.length; i++) {
    if (!Number.isFinite(latent.data[i]!)) throw new InvalidOptionError(what, `${what} has a non-finite value at cell ${Math.floor(i / latent.nCols)}.`);
  }
}

/** Row-wise softmax of logits `[n, k]` read back as a Float32Array. */
export function softmaxRows(logits: tf.Tensor2D): Float32Array {
  return tf.tidy(() => tf.softmax(logits).dataSync() as Float32Array);
}

/** Index of the largest value of each row. */
export function argmaxRows(p: Float32Array, k: number): Int32Array {
  const n = p.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (p[i * k + j]! > p[i * k + best]!) best = j;
    out[i] = best;
  }
  return out;
}

/** Options shared by the gradient-trained predictors. */
export interface FitOptions {
  /** Epochs (passes over the data). */
  epochs?: number;
  /** Adam learning rate. */
  learningRate?: number;
  /** Minibatch size (linear) — the environment classifier uses full environments. */
  batchSize?: number;
  /** Seed of initialisation and shuffling. */
  seed?: number;
}

/**
 * Mean cross-entropy of `logits` against integer targets, written with a one-hot product (the
 * gradient of `gather` is unavailable on the wasm engine).
 */
export function crossEntropy(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), 1))) as tf.Scalar;
}

/**
 * Trains `variables` by minimising `loss(rows)` over shuffled minibatches of `n` rows
 * (`batchSize` ≥ n gives full-batch training).
 */
export function fitMinibatches(
  variables: tf.Variable[],
  n: number,
  loss: (rows: Int32Array) => tf.Scalar,
  o: Required<Pick<FitOptions, 'epochs' | 'learningRate' | 'batchSize' | 'seed'>>,
): number[] {
  const opt = new Adam(variables, { learningRate: o.learningRate });
  const rng = new Rng(o.seed);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const curve: number[] = [];
  try {
    for (let e = 0; e < o.epochs; e++) {
      if (o.batchSize < n) shuffleInPlace(rng, order);
      let sum = 0;
      let batches = 0;
      for (let s = 0; s < n; s += o.batchSize) {
        const rows = order.subarray(s, Math.min(n, s + o.batchSize));
        sum += opt.minimize(() => loss(rows));
        batches++;
      }
      curve.push(sum / batches);
    }
  } finally {
    opt.dispose();
  }
  return curve;
}
