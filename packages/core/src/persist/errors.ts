import { InvaeError } from '../errors';

/** A model directory is missing, unreadable, of an unknown format, or inconsistent with its weights. */
export class ModelFormatError extends InvaeError {
  /** The model directory. */
  readonly dir: string;

  constructor(dir: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('MODEL_FORMAT', `${dir}: ${message}`, options);
    this.dir = dir;
  }
}
