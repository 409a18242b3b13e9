import { tf } from '../tf';
import type { Minibatch } from '../data/gather';
import type { InvaeModel } from '../model/invae';
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
  let terms: Record<string, tf.Scalar> = {};
  const { value, grads } = tf.variableGrads(() => {
    const r = minibatchLoss(model, batch, seed, datasetSize);
    terms = Object.fromEntries(Object.entries(r.terms).map(([k, v]) => [k, tf.keep(v)]));
    return r.loss;
  }, vars as tf.Variable[]);
  const names = Object.keys(terms).sort();
  try {
    // gradients straight into `out`; the loss and its terms (a few scalars) in one small read
    const flat = tf.tidy(() => tf.concat(vars.map((v) => (grads[v.name] ? tf.reshape(grads[v.name]!, [-1]) : tf.zeros([v.size])))));
    const scalars = tf.tidy(() => tf.stack([value, ...names.map((k) => terms[k]!)]));
    let head: Float32Array;
    try {
      readInto(flat, out);
      head = scalars.dataSync() as Float32Array;
    } finally {
      flat.dispose();
      scalars.dispose();
    }
    return { loss: head[0]!, terms: Object.fromEntries(names.map((k, i) => [k, head[1 + i]!])) };
  } finally {
    value.dispose();
    tf.dispose(grads);
    tf.dispose(Object.values(terms));
  }
}
