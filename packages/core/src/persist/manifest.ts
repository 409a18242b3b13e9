import { ModelFormatError } from './errors';

/**
 * Field-by-field checks of a parsed `model.json`: each failure is a {@link ModelFormatError} naming
 * the model directory and the field, e.g. `model.json: model.config.hiddenDim must be a positive
 * integer, got "abc"`.
 */
export class ManifestChecker {
  constructor(
    /** The model directory (named in every error). */
    readonly dir: string,
    private readonly hint = 'the model directory was modified or damaged; save the model again (invae train)',
  ) {}

  /** Throws a {@link ModelFormatError} about `field`. */
  fail(field: string, message: string, hint?: string): never {
    throw new ModelFormatError(this.dir, `model.json: ${field} ${message}`, { hint: hint ?? this.hint });
  }

  /** `value` as a plain object (not null, not an array). */
  object(field: string, value: unknown): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(field, `must be an object, got ${describe(value)}`);
    return value as Record<string, unknown>;
  }

  /** `value` as a string. */
  string(field: string, value: unknown): string {
    if (typeof value !== 'string') this.fail(field, `must be a string, got ${describe(value)}`);
    return value;
  }

  /** `value` as a boolean. */
  boolean(field: string, value: unknown): boolean {
    if (typeof value !== 'boolean') this.fail(field, `must be true or false, got ${describe(value)}`);
    return value;
  }

  /** `value` as an integer in `[min, max]` ("positive integer" when `min` is 1). */
  integer(field: string, value: unknown, min: number, max: number): number {
    const what = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer ≥ ${min}`;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) this.fail(field, `must be ${what}, got ${describe(value)}`);
    if (value > max) this.fail(field, `is ${value}, larger than the plausible limit ${max}`);
    return value;
  }

  /** `value` as a finite number in `[min, max]`. */
  number(field: string, value: unknown, min = -Infinity, max = Infinity): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(field, `must be a finite number, got ${describe(value)}`);
    if (value < min || value > max) this.fail(field, `must lie in [${min}, ${max}], got ${value}`);
    return value;
  }

  /** `value` as an array (of at most `max` entries). */
  array(field: string, value: unknown, max = Infinity): unknown[] {
    if (!Array.isArray(value)) this.fail(field, `must be an array, got ${describe(value)}`);
    if (value.length > max) this.fail(field, `has ${value.length} entries, more than the plausible limit ${max}`);
    return value;
  }

  /** `value` as an array of finite numbers (of length `length` when given). */
  finiteNumbers(field: string, value: unknown, length?: number): number[] {
    const a = this.array(field, value);
    if (length !== undefined && a.length !== length) this.fail(field, `has ${a.length} values, expected ${length}`);
    for (let i = 0; i < a.length; i++) {
      if (typeof a[i] !== 'number' || !Number.isFinite(a[i])) {
        this.fail(`${field}[${i}]`, `must be a finite number, got ${describe(a[i])}`, 'the saved values are not finite (NaN, Infinity or null): the model diverged or the file was modified; train it again');
      }
    }
    return a as number[];
  }

  /** `value` as an array of strings. */
  strings(field: string, value: unknown): string[] {
    const a = this.array(field, value);
    a.forEach((v, i) => this.string(`${field}[${i}]`, v));
    return a as string[];
  }

  /** `value` as one of `choices`. */
  oneOf<T extends string>(field: string, value: unknown, choices: readonly T[]): T {
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) this.fail(field, `must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}, got ${describe(value)}`);
    return value as T;
  }
}

/** A short JSON rendering of a value for messages (strings quoted, long values cut). */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}
