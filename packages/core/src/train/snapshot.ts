import { tf } from '../tf';
import type { InvaeModel } from '../module/invae';

/** An in-memory copy of a model's weights (incl. BatchNorm statistics) at the end of an epoch. */
export class WeightSnapshot {
  private weights: Map<string, tf.Tensor> | null = null;
  /** Epoch the snapshot was taken at (0 = initial weights). */
  epoch = 0;

  constructor(private readonly model: InvaeModel) {
    this.take(0);
  }

  /**
   * Replaces the snapshot with the model's current weights, if they are all finite; otherwise keeps
   * the previous snapshot and returns false (a step can leave NaN weights behind a finite loss).
   */
  take(epoch: number): boolean {
    const next = this.model.getWeights(); // copies
    if (!allFinite([...next.values()])) {
      tf.dispose([...next.values()]);
      return false;
    }
    this.dispose();
    this.weights = next;
    this.epoch = epoch;
    return true;
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

/** Whether every value of `tensors` is finite (one device read: Σ 0·x is NaN iff some x is NaN or ±∞). */
function allFinite(tensors: tf.Tensor[]): boolean {
  if (tensors.length === 0) return true;
  const probe = tf.tidy(() => tf.addN(tensors.map((t) => tf.sum(tf.mul(t, 0)))));
  const v = probe.dataSync()[0]!;
  probe.dispose();
  return Number.isFinite(v);
}
