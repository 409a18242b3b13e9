import { CovariateError } from './errors';
import { type CovariateColumn, type WarnFn, defaultWarn, listSome } from './column';

/** Saved state of a {@link CategoricalEncoder}. */
export interface CategoricalEncoderState {
  type: 'categorical';
  /** The obs column encoded. */
  column: string;
  /** Categories, in one-hot column order. */
  categories: string[];
}

function isMissing(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));
}

/** Code-point order (as numpy sorts unicode strings), not UTF-16 unit order. */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/**
 * One-hot encoder of a categorical covariate, as the reference inVAE builds its prior covariates
 * (scikit-learn `OneHotEncoder(handle_unknown='ignore')`).
 *
 * Category order: SORTED, like scikit-learn — numerically when every fitted value is a number,
 * otherwise by Unicode code point of the string form. Values are matched by their string form
 * (`1` and `"1"` are the same category).
 *
 * At transform time an unseen category, or a missing value (null/undefined/NaN), gives a row of
 * zeros and one warning per call (as the reference does for unknown categories).
 */
export class CategoricalEncoder {
  /** The obs column encoded. */
  readonly column: string;
  /** Categories, in one-hot column order. */
  readonly categories: readonly string[];
  private readonly lookup: Map<string, number>;

  private constructor(column: string, categories: string[]) {
    this.column = column;
    this.categories = Object.freeze(categories.slice());
    this.lookup = new Map(categories.map((c, i) => [c, i]));
  }

  /**
   * Learns the categories of `values` (missing values are ignored, with a warning).
   * @throws CovariateError when no non-missing value is present.
   */
  static fit(column: string, values: CovariateColumn, options: { warn?: WarnFn } = {}): CategoricalEncoder {
    const warn = options.warn ?? defaultWarn;
    const seen = new Set<string>();
    let allNumbers = true;
    let missing = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (isMissing(v)) {
        missing++;
        continue;
      }
      if (typeof v !== 'number') allNumbers = false;
      seen.add(String(v));
    }
    if (seen.size === 0) {
      throw new CovariateError(column, `Covariate '${column}' has no non-missing values to learn categories from.`, {
        hint: 'Check the column name and that the training data has values in it.',
      });
    }
    if (missing > 0) warn(`covariate '${column}': ${missing} missing value(s) while fitting; they are encoded as all-zero rows.`);
    const cats = [...seen];
    if (allNumbers) cats.sort((a, b) => Number(a) - Number(b));
    else cats.sort(compareCodePoints);
    return new CategoricalEncoder(column, cats);
  }

  /** Rebuilds an encoder from {@link CategoricalEncoder.toJSON} output. */
  static fromJSON(state: CategoricalEncoderState): CategoricalEncoder {
    const cats = state?.categories;
    if (state?.type !== 'categorical' || typeof state.column !== 'string' || !Array.isArray(cats) || cats.some((c) => typeof c !== 'string')) {
      throw new CovariateError(String(state?.column), 'Invalid saved categorical encoder state.', { code: 'COVARIATE_STATE_INVALID' });
    }
    if (new Set(cats).size !== cats.length) {
      throw new CovariateError(state.column, `Saved categories of '${state.column}' contain duplicates.`, { code: 'COVARIATE_STATE_INVALID' });
    }
    return new CategoricalEncoder(state.column, cats);
  }

  /** Number of output columns (= number of categories). */
  get width(): number {
    return this.categories.length;
  }

  /** Output column names, `column=category`. */
  columnNames(): string[] {
    return this.categories.map((c) => `${this.column}=${c}`);
  }

  /**
   * Encodes `values` into `out` (row-major, `rowStride` floats per row, starting at `offset`).
   * Returns the number of rows that became all-zero (unseen or missing). `options.mapped`: unseen
   * categories encoded elsewhere (query-mapped categories, see `Invae.map`): all-zero rows here
   * without a warning.
   */
  encodeInto(values: CovariateColumn, out: Float32Array, rowStride: number, offset: number, options: { warn?: WarnFn; mapped?: ReadonlySet<string> } = {}): number {
    const warn = options.warn ?? defaultWarn;
    const mapped = options.mapped;
    const unseen = new Set<string>();
    let missing = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (isMissing(v)) {
        missing++;
        continue;
      }
      const k = this.lookup.get(String(v));
      if (k === undefined) {
        if (!mapped?.has(String(v))) unseen.add(String(v));
        continue;
      }
      out[i * rowStride + offset + k] = 1;
    }
    let zeroRows = missing;
    if (unseen.size > 0) {
      let n = 0;
      for (let i = 0; i < values.length; i++) if (!isMissing(values[i]) && !this.lookup.has(String(values[i])) && !mapped?.has(String(values[i]))) n++;
      zeroRows += n;
      warn(
        `covariate '${this.column}': ${n} cell(s) have categories not seen in training (${listSome([...unseen])}); ` +
          'they are encoded as all-zero rows.',
      );
    }
    if (missing > 0) warn(`covariate '${this.column}': ${missing} missing value(s); they are encoded as all-zero rows.`);
    return zeroRows;
  }

  /** One-hot matrix (values.length × width, row-major). */
  transform(values: CovariateColumn, options: { warn?: WarnFn } = {}): Float32Array {
    const out = new Float32Array(values.length * this.width);
    this.encodeInto(values, out, this.width, 0, options);
    return out;
  }

  /** JSON-serialisable state. */
  toJSON(): CategoricalEncoderState {
    return { type: 'categorical', column: this.column, categories: this.categories.slice() };
  }
}
