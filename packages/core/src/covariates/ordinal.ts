import { CovariateError } from './errors';
import { type CovariateColumn, type WarnFn, defaultWarn, listSome } from './column';
import { isMissingValue } from './missing';

/** How an ordinal covariate is encoded: the obs column and its levels from lowest to highest. */
export interface OrdinalSpec {
  /** The obs column. */
  key: string;
  /**
   * Levels in increasing order (e.g. `['healthy', 'mild', 'severe']`). May be omitted when every
   * value is a number: the levels are then the distinct training values, sorted numerically.
   */
  order?: readonly (string | number)[];
}

/** Saved state of an {@link OrdinalEncoder}. */
export interface OrdinalEncoderState {
  type: 'ordinal';
  /** The obs column encoded. */
  column: string;
  /** Levels, lowest first (string forms). */
  levels: string[];
}

/**
 * Cumulative ("thermometer") encoding of an ordered covariate: with levels `l0 < l1 < … < l(K-1)`,
 * a value of rank r becomes K − 1 columns whose j-th (1-based) is 1 when r ≥ j. The lowest level is
 * all zeros, and every step up the order switches one more column on, so any function that is
 * monotone in the columns' weights is monotone in the level (a linear prior mean learns one
 * increment per step).
 *
 * Values are matched by their string form. Fitting rejects a value that is not among the given
 * levels (naming the column); at transform time an unknown or missing value gives a row of zeros
 * and one warning per call.
 */
export class OrdinalEncoder {
  /** The obs column encoded. */
  readonly column: string;
  /** Levels, lowest first. */
  readonly levels: readonly string[];
  private readonly rank: Map<string, number>;

  private constructor(column: string, levels: string[]) {
    this.column = column;
    this.levels = Object.freeze(levels.slice());
    this.rank = new Map(levels.map((l, i) => [l, i]));
  }

  /**
   * Checks the levels against the training values.
   * @throws CovariateError naming the column for a missing/duplicate order, fewer than 2 levels, or
   * a training value outside the order.
   */
  static fit(spec: OrdinalSpec, values: CovariateColumn, options: { warn?: WarnFn } = {}): OrdinalEncoder {
    const warn = options.warn ?? defaultWarn;
    const column = spec.key;
    let levels: string[];
    if (spec.order !== undefined) {
      if (!Array.isArray(spec.order) || spec.order.some((l) => typeof l !== 'string' && typeof l !== 'number')) {
        throw new CovariateError(column, `Ordinal covariate '${column}': 'order' must be an array of strings or numbers.`, { code: 'COVARIATE_SPEC_INVALID' });
      }
      levels = spec.order.map(String);
      const dup = levels.find((l, i) => levels.indexOf(l) !== i);
      if (dup !== undefined) throw new CovariateError(column, `Ordinal covariate '${column}': level ${JSON.stringify(dup)} is listed twice in 'order'.`, { code: 'COVARIATE_SPEC_INVALID' });
    } else {
      const seen = new Set<number>();
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (isMissingValue(v)) continue;
        if (typeof v !== 'number') {
          throw new CovariateError(column, `Ordinal covariate '${column}' has non-numeric values (e.g. ${JSON.stringify(v)}), so its order must be given.`, {
            code: 'COVARIATE_SPEC_INVALID',
            hint: `pass { key: '${column}', order: [lowest, …, highest] }`,
          });
        }
        seen.add(v);
      }
      levels = [...seen].sort((a, b) => a - b).map(String);
    }
    if (levels.length < 2) {
      throw new CovariateError(column, `Ordinal covariate '${column}' needs at least 2 levels, got ${levels.length}.`, { code: 'COVARIATE_SPEC_INVALID' });
    }
    const enc = new OrdinalEncoder(column, levels);
    const outside = new Set<string>();
    let missing = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (isMissingValue(v)) missing++;
      else if (!enc.rank.has(String(v))) outside.add(String(v));
    }
    if (outside.size > 0) {
      throw new CovariateError(column, `Ordinal covariate '${column}' has values not in its order: ${listSome([...outside])}.`, {
        code: 'COVARIATE_SPEC_INVALID',
        hint: `add them to the order (${listSome(levels)}) or recode the column`,
      });
    }
    if (missing === values.length) throw new CovariateError(column, `Ordinal covariate '${column}' has no non-missing values.`);
    if (missing > 0) warn(`covariate '${column}': ${missing} missing value(s) while fitting; they are encoded as all-zero rows.`);
    return enc;
  }

  /** Rebuilds an encoder from {@link OrdinalEncoder.toJSON} output. */
  static fromJSON(state: OrdinalEncoderState): OrdinalEncoder {
    const lv = state?.levels;
    if (state?.type !== 'ordinal' || typeof state.column !== 'string' || !Array.isArray(lv) || lv.length < 2 || lv.some((l) => typeof l !== 'string') || new Set(lv).size !== lv.length) {
      throw new CovariateError(String(state?.column), 'Invalid saved ordinal encoder state.', { code: 'COVARIATE_STATE_INVALID' });
    }
    return new OrdinalEncoder(state.column, lv);
  }

  /** Number of output columns (levels − 1). */
  get width(): number {
    return this.levels.length - 1;
  }

  /** Output column names, `column>=level` for every level above the lowest. */
  columnNames(): string[] {
    return this.levels.slice(1).map((l) => `${this.column}>=${l}`);
  }

  /** Rank of a value in the order (undefined when unknown or missing). */
  rankOf(value: unknown): number | undefined {
    return isMissingValue(value) ? undefined : this.rank.get(String(value));
  }

  /** Writes thermometer codes into `out` (rows of `rowStride` floats, from column `offset`). */
  encodeInto(values: CovariateColumn, out: Float32Array, rowStride: number, offset: number, options: { warn?: WarnFn } = {}): void {
    const warn = options.warn ?? defaultWarn;
    const unknown = new Set<string>();
    let nUnknown = 0;
    let missing = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (isMissingValue(v)) {
        missing++;
        continue;
      }
      const r = this.rank.get(String(v));
      if (r === undefined) {
        unknown.add(String(v));
        nUnknown++;
        continue;
      }
      for (let j = 0; j < r; j++) out[i * rowStride + offset + j] = 1;
    }
    if (nUnknown > 0) warn(`covariate '${this.column}': ${nUnknown} cell(s) have levels outside the order (${listSome([...unknown])}); they are encoded as all-zero rows.`);
    if (missing > 0) warn(`covariate '${this.column}': ${missing} missing value(s); they are encoded as all-zero rows.`);
  }

  /** Thermometer matrix (values.length × width, row-major). */
  transform(values: CovariateColumn, options: { warn?: WarnFn } = {}): Float32Array {
    const out = new Float32Array(values.length * this.width);
    this.encodeInto(values, out, this.width, 0, options);
    return out;
  }

  /** JSON-serialisable state. */
  toJSON(): OrdinalEncoderState {
    return { type: 'ordinal', column: this.column, levels: this.levels.slice() };
  }
}
