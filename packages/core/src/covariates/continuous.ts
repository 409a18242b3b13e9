import { CovariateError } from './errors';
import type { CovariateColumn } from './column';

/** Saved state of a {@link ContinuousEncoder}. */
export interface ContinuousEncoderState {
  type: 'continuous';
  column: string;
  /** Whether values are standardised; when false mean = 0 and scale = 1. */
  standardize: boolean;
  mean: number;
  /** Divisor: the population standard deviation (ddof 0), or 1 when it is 0. */
  scale: number;
}

function toFinite(column: string, values: CovariateColumn, i: number): number {
  const v = values[i];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new CovariateError(column, `Continuous covariate '${column}' has a non-numeric or non-finite value ${JSON.stringify(v ?? null)} at row ${i}.`, {
      row: i,
      code: 'COVARIATE_NOT_FINITE',
      hint: `Fill or drop the missing/NaN values of '${column}', or encode it as categorical.`,
    });
  }
  return v;
}

/**
 * Encodes a continuous covariate as one column, standardised by default with the training mean and
 * population standard deviation (a zero deviation divides by 1, as scikit-learn's StandardScaler).
 * The reference inVAE passes continuous covariates through unchanged: use `standardize: false` for that.
 * NaN, ±Infinity, null or non-numbers raise a {@link CovariateError} naming the column and row.
 */
export class ContinuousEncoder {
  readonly column: string;
  readonly standardize: boolean;
  readonly mean: number;
  readonly scale: number;

  private constructor(column: string, standardize: boolean, mean: number, scale: number) {
    this.column = column;
    this.standardize = standardize;
    this.mean = mean;
    this.scale = scale;
  }

  /** Learns mean and scale from training values (float64 accumulation). */
  static fit(column: string, values: CovariateColumn, options: { standardize?: boolean } = {}): ContinuousEncoder {
    const standardize = options.standardize ?? true;
    const n = values.length;
    if (n === 0) throw new CovariateError(column, `Continuous covariate '${column}' is empty.`);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += toFinite(column, values, i);
    if (!standardize) return new ContinuousEncoder(column, false, 0, 1);
    const mean = sum / n;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const d = (values[i] as number) - mean;
      ss += d * d;
    }
    const sd = Math.sqrt(ss / n);
    return new ContinuousEncoder(column, true, mean, sd > 0 && Number.isFinite(sd) ? sd : 1);
  }

  /** Rebuilds an encoder from {@link ContinuousEncoder.toJSON} output. */
  static fromJSON(state: ContinuousEncoderState): ContinuousEncoder {
    if (
      state?.type !== 'continuous' ||
      typeof state.column !== 'string' ||
      typeof state.standardize !== 'boolean' ||
      !Number.isFinite(state.mean) ||
      !(state.scale > 0) ||
      !Number.isFinite(state.scale)
    ) {
      throw new CovariateError(String(state?.column), 'Invalid saved continuous encoder state.', { code: 'COVARIATE_STATE_INVALID' });
    }
    return new ContinuousEncoder(state.column, state.standardize, state.mean, state.scale);
  }

  /** Always 1 column. */
  get width(): number {
    return 1;
  }

  /** Output column name (the covariate name). */
  columnNames(): string[] {
    return [this.column];
  }

  /** Writes encoded values into `out` at column `offset` of rows of `rowStride` floats. */
  encodeInto(values: CovariateColumn, out: Float32Array, rowStride: number, offset: number): void {
    for (let i = 0; i < values.length; i++) out[i * rowStride + offset] = (toFinite(this.column, values, i) - this.mean) / this.scale;
  }

  /** Encoded column (length values.length). */
  transform(values: CovariateColumn): Float32Array {
    const out = new Float32Array(values.length);
    this.encodeInto(values, out, 1, 0);
    return out;
  }

  /** JSON-serialisable state. */
  toJSON(): ContinuousEncoderState {
    return { type: 'continuous', column: this.column, standardize: this.standardize, mean: this.mean, scale: this.scale };
  }
}
