import { CovariateError } from './errors';
import { CategoricalEncoder } from './categorical';
import { type CovariateColumn, type WarnFn, defaultWarn, listSome } from './column';
import { isMissingValue } from './missing';

/** How a dose covariate is encoded. */
export interface DoseSpec {
  /** The obs column of doses (numbers ≥ 0; 0 = untreated). */
  key: string;
  /** Obs column naming the treatment (drug, perturbation) each dose belongs to; omit for a single dose column. */
  treatment?: string;
  /**
   * Treatments, in output column order. Omitted: learned from the training data and sorted as
   * {@link CategoricalEncoder} sorts categories.
   */
  treatments?: readonly (string | number)[];
}

/** Saved state of a {@link DoseEncoder}. */
export interface DoseEncoderState {
  type: 'dose';
  /** The dose column. */
  column: string;
  /** The treatment column, or null for a single dose column. */
  treatment: string | null;
  /** Treatments, in output column order (empty when `treatment` is null). */
  treatments: string[];
}

function doseAt(column: string, values: CovariateColumn, i: number): number {
  const v = values[i];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new CovariateError(column, `Dose covariate '${column}' has ${JSON.stringify(v ?? null)} at row ${i}; doses must be finite numbers ≥ 0.`, {
      row: i,
      code: 'COVARIATE_NOT_FINITE',
      hint: `use 0 for untreated cells and fill missing values of '${column}'`,
    });
  }
  return v;
}

/**
 * Encodes doses on a log scale, `log1p(dose)`, as CPA does before its dose-response curves. With a
 * `treatment` column the output has one column per treatment holding `log1p(dose)` for cells of
 * that treatment and 0 elsewhere, so a downstream model (e.g. the `treatment` prior) can learn a
 * separate dose-response per treatment. The encoding has no fitted scale: it extends to doses never
 * seen in training (interpolation and extrapolation are the model's business).
 *
 * A negative, non-finite or missing dose is an error naming the column and row; a dosed cell with an
 * unseen or missing treatment gives a row of zeros and a warning (untreated cells, dose 0, are zeros
 * whatever their treatment label, e.g. `control`, without a warning).
 */
export class DoseEncoder {
  /** The dose column. */
  readonly column: string;
  /** The treatment column, or null. */
  readonly treatment: string | null;
  /** Treatments in output column order (empty without a treatment column). */
  readonly treatments: readonly string[];
  private readonly lookup: Map<string, number>;

  private constructor(column: string, treatment: string | null, treatments: string[]) {
    this.column = column;
    this.treatment = treatment;
    this.treatments = Object.freeze(treatments.slice());
    this.lookup = new Map(treatments.map((t, i) => [t, i]));
  }

  /**
   * Validates the training doses and learns the treatments (unless given).
   * @throws CovariateError naming the dose or treatment column.
   */
  static fit(spec: DoseSpec, doses: CovariateColumn, treatments?: CovariateColumn, options: { warn?: WarnFn } = {}): DoseEncoder {
    const column = spec.key;
    for (let i = 0; i < doses.length; i++) doseAt(column, doses, i);
    if (spec.treatment === undefined) return new DoseEncoder(column, null, []);
    if (!treatments) throw new CovariateError(spec.treatment, `Treatment column '${spec.treatment}' of dose '${column}' is missing.`, { code: 'COVARIATE_MISSING' });
    if (treatments.length !== doses.length) {
      throw new CovariateError(spec.treatment, `Treatment column '${spec.treatment}' has ${treatments.length} rows, dose '${column}' has ${doses.length}.`, { code: 'COVARIATE_LENGTH' });
    }
    let names: string[];
    if (spec.treatments !== undefined) {
      if (!Array.isArray(spec.treatments) || spec.treatments.length === 0) {
        throw new CovariateError(spec.treatment, `Dose '${column}': 'treatments' must be a non-empty array.`, { code: 'COVARIATE_SPEC_INVALID' });
      }
      names = spec.treatments.map(String);
      const dup = names.find((t, i) => names.indexOf(t) !== i);
      if (dup !== undefined) throw new CovariateError(spec.treatment, `Dose '${column}': treatment ${JSON.stringify(dup)} is listed twice.`, { code: 'COVARIATE_SPEC_INVALID' });
    } else {
      names = [...CategoricalEncoder.fit(spec.treatment, treatments, options).categories];
    }
    return new DoseEncoder(column, spec.treatment, names);
  }

  /** Rebuilds an encoder from {@link DoseEncoder.toJSON} output. */
  static fromJSON(state: DoseEncoderState): DoseEncoder {
    const t = state?.treatments;
    const ok =
      state?.type === 'dose' &&
      typeof state.column === 'string' &&
      (state.treatment === null || typeof state.treatment === 'string') &&
      Array.isArray(t) &&
      t.every((x) => typeof x === 'string') &&
      new Set(t).size === t.length &&
      (state.treatment === null ? t.length === 0 : t.length > 0);
    if (!ok) throw new CovariateError(String(state?.column), 'Invalid saved dose encoder state.', { code: 'COVARIATE_STATE_INVALID' });
    return new DoseEncoder(state.column, state.treatment, t);
  }

  /** Obs columns read: the dose column, then the treatment column if any. */
  get inputs(): string[] {
    return this.treatment === null ? [this.column] : [this.column, this.treatment];
  }

  /** Output width: 1, or the number of treatments. */
  get width(): number {
    return this.treatment === null ? 1 : this.treatments.length;
  }

  /** Output column names: `log1p(dose)` or `log1p(dose)|treatment=t`. */
  columnNames(): string[] {
    const base = `log1p(${this.column})`;
    return this.treatment === null ? [base] : this.treatments.map((t) => `${base}|${this.treatment}=${t}`);
  }

  /** Writes encoded doses into `out` (rows of `rowStride` floats, from column `offset`). */
  encodeInto(doses: CovariateColumn, treatments: CovariateColumn | undefined, out: Float32Array, rowStride: number, offset: number, options: { warn?: WarnFn } = {}): void {
    const warn = options.warn ?? defaultWarn;
    if (this.treatment === null) {
      for (let i = 0; i < doses.length; i++) out[i * rowStride + offset] = Math.log1p(doseAt(this.column, doses, i));
      return;
    }
    if (!treatments) {
      for (let i = 0; i < doses.length; i++) doseAt(this.column, doses, i);
      warn(`treatment column '${this.treatment}' of dose '${this.column}' is missing from the data; its ${this.width} dose column(s) are set to zero.`);
      return;
    }
    if (treatments.length !== doses.length) {
      throw new CovariateError(this.treatment, `Treatment column '${this.treatment}' has ${treatments.length} rows, dose '${this.column}' has ${doses.length}.`, { code: 'COVARIATE_LENGTH' });
    }
    const unseen = new Set<string>();
    let zero = 0;
    for (let i = 0; i < doses.length; i++) {
      const d = doseAt(this.column, doses, i);
      const t = treatments[i];
      const k = isMissingValue(t) ? undefined : this.lookup.get(String(t));
      if (k === undefined) {
        // an untreated cell (dose 0) encodes as zeros whatever its treatment label: nothing to warn about
        if (d > 0) {
          zero++;
          if (!isMissingValue(t)) unseen.add(String(t));
        }
        continue;
      }
      out[i * rowStride + offset + k] = Math.log1p(d);
    }
    if (zero > 0) {
      warn(
        `dose '${this.column}': ${zero} dosed cell(s) have a missing or unseen treatment` +
          (unseen.size ? ` (${listSome([...unseen])})` : '') +
          `; their dose columns are set to zero.`,
      );
    }
  }

  /** Encoded matrix (doses.length × width, row-major). */
  transform(doses: CovariateColumn, treatments?: CovariateColumn, options: { warn?: WarnFn } = {}): Float32Array {
    const out = new Float32Array(doses.length * this.width);
    this.encodeInto(doses, treatments, out, this.width, 0, options);
    return out;
  }

  /** JSON-serialisable state. */
  toJSON(): DoseEncoderState {
    return { type: 'dose', column: this.column, treatment: this.treatment, treatments: this.treatments.slice() };
  }
}
