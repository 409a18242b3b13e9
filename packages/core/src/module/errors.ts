import { InvaeError } from '../errors';

/** A safetensors file (or buffer) is malformed: bad header length, bad JSON, unknown dtype, out-of-range offsets. */
export class SafetensorsFormatError extends InvaeError {
  /** File path or `<buffer>` where the problem was found. */
  readonly source: string;

  constructor(source: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('SAFETENSORS_FORMAT', `${source}: ${message}`, options);
    this.source = source;
  }
}

/** A set of named weights does not fit a model: missing, unexpected, wrongly shaped or wrongly typed tensors. */
export class WeightMismatchError extends InvaeError {
  /** Names expected by the model but absent from the source. */
  readonly missing: readonly string[];
  /** Names present in the source that the model does not have. */
  readonly unexpected: readonly string[];
  /** Human-readable shape / dtype conflicts, one per tensor. */
  readonly conflicts: readonly string[];

  constructor(
    source: string,
    detail: { missing?: readonly string[]; unexpected?: readonly string[]; conflicts?: readonly string[] },
    options: { hint?: string } = {},
  ) {
    const missing = detail.missing ?? [];
    const unexpected = detail.unexpected ?? [];
    const conflicts = detail.conflicts ?? [];
    const parts: string[] = [];
    const list = (xs: readonly string[]) => (xs.length > 8 ? `${xs.slice(0, 8).join(', ')}, … (${xs.length} in all)` : xs.join(', '));
    if (missing.length) parts.push(`missing: ${list(missing)}`);
    if (unexpected.length) parts.push(`unexpected: ${list(unexpected)}`);
    if (conflicts.length) parts.push(`conflicts: ${list(conflicts)}`);
    super('WEIGHT_MISMATCH', `weights from ${source} do not fit the model (${parts.join('; ')})`, {
      hint: options.hint ?? 'build the model with the same configuration (latent dims, layers, hidden size, priors, batch norm) as the one that produced the weights',
    });
    this.missing = missing;
    this.unexpected = unexpected;
    this.conflicts = conflicts;
  }
}

/** Input tensors handed to a model have the wrong rank, shape or are missing. */
export class InputShapeError extends InvaeError {
  /** Name of the offending input (e.g. `x`, `invCovar`). */
  readonly input: string;

  constructor(input: string, message: string, options: { hint?: string } = {}) {
    super('INPUT_SHAPE', `${input}: ${message}`, options);
    this.input = input;
  }
}
