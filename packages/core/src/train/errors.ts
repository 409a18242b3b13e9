import { InvaeError } from '../errors';
import type { TrainHistory } from './trainer';

/** Training produced a non-finite loss or weights; the model's weights were restored to the last good epoch. */
export class TrainingDivergedError extends InvaeError {
  /** 1-based epoch in which the loss (or the weights) became non-finite. */
  readonly epoch: number;
  /** 1-based step (minibatch) of that epoch. */
  readonly step: number;
  /** Last completed epoch whose weights were restored (0 = the initial weights). */
  readonly restoredEpoch: number;
  /** The non-finite loss (NaN when the weights, not the loss, became non-finite). */
  readonly loss: number;
  /** The epochs completed before the divergence (`stoppedBy: 'diverged'`), when training reported them. */
  readonly history?: TrainHistory;
  /** Model directory the restored weights were saved to, if any (see {@link savedTo}). */
  readonly savedDir?: string;

  constructor(epoch: number, step: number, restoredEpoch: number, loss: number, options: { history?: TrainHistory; weights?: boolean; savedDir?: string } = {}) {
    const what = options.weights ? 'the weights became non-finite' : `the loss became ${loss}`;
    const saved = options.savedDir
      ? ` The last good model (epoch ${restoredEpoch}) was saved to ${options.savedDir}, with the divergence in its training record.`
      : '';
    super('TRAINING_DIVERGED', `Training diverged: ${what} at epoch ${epoch}, step ${step}. The weights of epoch ${restoredEpoch} were restored.${saved}`, {
      hint: 'Lower the learning rate, add warm-up epochs, or check the data for extreme values (use raw counts with the NB decoder).',
    });
    this.epoch = epoch;
    this.step = step;
    this.restoredEpoch = restoredEpoch;
    this.loss = loss;
    if (options.history) this.history = options.history;
    if (options.savedDir) this.savedDir = options.savedDir;
  }

  /** The same error, saying that the restored weights were saved to `dir`. */
  savedTo(dir: string): TrainingDivergedError {
    return new TrainingDivergedError(this.epoch, this.step, this.restoredEpoch, this.loss, { history: this.history, weights: !this.message.includes('the loss became'), savedDir: dir });
  }
}
