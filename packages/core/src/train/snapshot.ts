import { tf } from '../tf';
import type { InvaeModel } from '../model/invae';

/** An in-memory copy of a model's weights (incl. BatchNorm statistics) at the end of an epoch. */
export class WeightSnapshot {
  private weights: Map<string, tf.Tensor> | null = null;
  /** Epoch the snapshot was taken at (0 = initial weights). */
  epoch = 0;

  constructor(private readonly model: InvaeModel) {
    this.take(0);
  }

  /** Replaces the snapshot with the model's current weights. */
  take(epoch: number): void {
    const next = this.model.getWeights(); // copies
    this.dispose();
    this.weights = next;
    this.epoch = epoch;
  }

  /** Writes the snapshot back into the model. */
  restore(): void {
    if (this.weights) this.model.setWeights(this.weights);
  }

  /** Frees the copy. */
  dispose(): void {
    if (this.weights) tf.dispose([...this.weights.values()]);
    this.weights = null;
  }
}
