import { tf } from '../tf';
import type { Minibatch } from '../data/gather';
import type { InvaeModel } from '../module/invae';
import { minibatchLoss } from '../train/batch-loss';
import { readInto } from './flat';

/** Loss and mean loss terms of one replica's share of a minibatch. */
export interface ReplicaStepResult {
  loss: number;
  terms: Record<string, number>;
}

/**
 * Computes the gradients of the minibatch loss with respect to `vars` and writes them, flattened in
 * the order of `vars`, into `out[0..Σ sizes)` (copied straight from the engine, see `readInto`); the
 * loss and its terms come back in one small read. A variable the loss does not depend on gets a
 * zero gradient.
 */
export function gradientStep(model: InvaeModel, vars: readonly tf.Variable[], batch: Minibatch, seed: number, datasetSize: number, out: Float32Array): ReplicaStepResult {
  const r = flatGradientStep(model, vars, batch, seed, datasetSize);
  try {
    readInto(r.flat, out);
  } finally {
    r.flat.dispose();
  }
  return { loss: r.loss, terms: r.terms };
}

/**
 * {@link gradientStep} that leaves the flattened gradient on the engine: `flat` `[Σ sizes]` belongs
 * to the caller (the main thread averages the replicas' gradients there).
 */
export function flatGradientStep(model: InvaeModel, vars: readonly tf.Variable[], batch: Minibatch, seed: number, datasetSize: number): ReplicaStepResult & { flat: tf.Tensor1D } {
  let terms: Record<string, tf.Scalar> = {};
  const { value, grads } = tf.variableGrads(() => {
    const r = minibatchLoss(model, batch, seed, datasetSize);
    terms = Object.fromEntries(Object.entries(r.terms).map(([k, v]) => [k, tf.keep(v)]));
    return r.loss;
  }, vars as tf.Variable[]);
  const names = Object.keys(terms).sort();
  try {
    // gradients straight into `out`; the loss and its terms (a few scalars) in one small read
    const flat = tf.tidy(() => tf.concat(vars.map((v) => (grads[v.name] ? tf.reshape(grads[v.name]!, [-1]) : tf.zeros([v.size]))))) as tf.Tensor1D;
    const scalars = tf.tidy(() => tf.stack([value, ...names.map((k) => terms[k]!)]));
    let head: Float32Array;
    try {
      head = scalars.dataSync() as Float32Array;
    } catch (e) {
      flat.dispose();
      throw e;
    } finally {
      scalars.dispose();
    }
    return { loss: head[0]!, terms: Object.fromEntries(names.map((k, i) => [k, head[1 + i]!])), flat };
  } finally {
    value.dispose();
    tf.dispose(grads);
    tf.dispose(Object.values(terms));
  }
}
