import { InvaeError } from '../errors';

/** Training produced a non-finite loss; the model's weights were restored to the last good epoch. */
export class TrainingDivergedError extends InvaeError {
  /** 1-based epoch in which the loss became non-finite. */
  readonly epoch: number;
  /** 1-based step (minibatch) of that epoch. */
  readonly step: number;
  /** Last completed epoch whose weights were restored (0 = the initial weights). */
  readonly restoredEpoch: number;

  constructor(epoch: number, step: number, restoredEpoch: number, loss: number) {
    super('TRAINING_DIVERGED', `Training diverged: the loss became ${loss} at epoch ${epoch}, step ${step}. The weights of epoch ${restoredEpoch} were restored.`, {
      hint: 'Lower the learning rate, add warm-up epochs, or check the data for extreme values (use raw counts with the NB decoder).',
    });
    this.epoch = epoch;
    this.step = step;
    this.restoredEpoch = restoredEpoch;
  }
}
