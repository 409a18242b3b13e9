import { tf } from '../tf';
import { withDropoutSeed } from '../nn/mlp';
import type { Minibatch } from '../data/gather';
import type { InvaeModel, LossResult } from '../module/invae';

/**
 * The training loss of one minibatch with seeded noise: the reparameterisation noise and every
 * dropout mask derive from `seed`, so the same seed on the same engine gives the same loss. The one
 * place where a {@link Minibatch} meets the model in training (single-thread and data-parallel
 * alike), so a batch representation the model can exploit (e.g. sparse counts) is passed here.
 */
export function minibatchLoss(model: InvaeModel, batch: Minibatch, seed: number, datasetSize: number): LossResult {
  const eps = tf.randomNormal([batch.indices.length, model.latentDim], 0, 1, 'float32', seed) as tf.Tensor2D;
  return withDropoutSeed(seed, () => model.loss(batch.x, batch.inv, batch.spur, { training: true, eps, datasetSize }));
}

/**
 * The loss of one minibatch of held-out cells in eval mode (no dropout, BatchNorm running
 * statistics, no update of them), with reparameterisation noise from `seed`.
 */
export function validationLoss(model: InvaeModel, batch: Minibatch, seed: number, datasetSize: number): LossResult {
  const eps = tf.randomNormal([batch.indices.length, model.latentDim], 0, 1, 'float32', seed) as tf.Tensor2D;
  return model.loss(batch.x, batch.inv, batch.spur, { training: false, eps, datasetSize });
}
