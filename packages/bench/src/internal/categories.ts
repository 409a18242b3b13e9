import { BenchInputError } from '../errors';

/** Per-cell categorical values (cell-type labels or batches): strings or numbers. */
export type Categorical = ArrayLike<string | number>;

/** Integer codes of a categorical vector, as `pandas.Categorical(values).codes`. */
export interface Encoded {
  /** Code of each cell, in 0 … categories.length − 1. */
  readonly codes: Int32Array;
  /** The distinct values, sorted (numbers numerically, then strings lexicographically). */
  readonly categories: readonly (string | number)[];
  /** Number of cells per category. */
  readonly counts: Int32Array;
}

/**
 * Encodes `values` to integer codes over their sorted distinct values (like pandas' Categorical).
 * Throws {@link BenchInputError} for a length other than `expectedLength`, or a missing value
 * (null, undefined, NaN, empty string).
 */
export function encodeCategorical(values: Categorical, where: string, expectedLength?: number): Encoded {
  if (values === null || values === undefined || typeof values.length !== 'number') {
    throw new BenchInputError(where, `${where} must be an array of strings or numbers.`);
  }
  const n = values.length;
  if (expectedLength !== undefined && n !== expectedLength) {
    throw new BenchInputError(where, `${where} has ${n} entries but ${expectedLength} cells were expected.`, {
      hint: 'Embeddings, labels and batches must describe the same cells in the same order.',
    });
  }
  const seen = new Map<string | number, number>();
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v === 'number' ? Number.isNaN(v) : typeof v !== 'string' || v === '') {
      throw new BenchInputError(where, `${where}[${i}] is missing (${String(v)}).`, {
        hint: 'Every cell needs a label and a batch; drop cells with missing values first.',
      });
    }
    if (!seen.has(v!)) seen.set(v!, 0);
  }
  const cats = [...seen.keys()].sort((a, b) => {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    if (typeof a === 'number') return -1;
    if (typeof b === 'number') return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  cats.forEach((c, k) => seen.set(c, k));
  const codes = new Int32Array(n);
  const counts = new Int32Array(cats.length);
  for (let i = 0; i < n; i++) {
    const k = seen.get(values[i]!)!;
    codes[i] = k;
    counts[k]!++;
  }
  return { codes, categories: cats, counts };
}

/** Indices of the cells whose code equals `code`. */
export function indicesOf(codes: Int32Array, code: number): Int32Array {
  let m = 0;
  for (let i = 0; i < codes.length; i++) if (codes[i] === code) m++;
  const out = new Int32Array(m);
  m = 0;
  for (let i = 0; i < codes.length; i++) if (codes[i] === code) out[m++] = i;
  return out;
}
