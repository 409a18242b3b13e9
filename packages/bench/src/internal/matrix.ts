import type { CsrMatrix } from '@invae/core';
import { BenchInputError } from '../errors';

/**
 * Points to measure: `nRows` observations (cells) × `nCols` features (embedding or latent dimensions, or
 * dense expression values), row-major: entry (i, j) is `data[i * nCols + j]`. Metrics never modify it.
 * (Count matrices are `@invae/common`'s `DenseMatrix`/`CsrMatrix`; this is the plain point set the
 * metrics, neighbours and PCA work on.)
 */
export interface Embedding {
  readonly data: Float32Array | Float64Array;
  readonly nRows: number;
  readonly nCols: number;
}

/** Builds a {@link Embedding} (float64) from an array of equally long rows. */
export function matrixFromRows(rows: readonly (readonly number[])[], where = 'rows'): Embedding {
  const nRows = rows.length;
  const nCols = nRows === 0 ? 0 : rows[0]!.length;
  const data = new Float64Array(nRows * nCols);
  for (let i = 0; i < nRows; i++) {
    const r = rows[i]!;
    if (r.length !== nCols) {
      throw new BenchInputError(where, `Row ${i} of ${where} has ${r.length} values, row 0 has ${nCols}.`, {
        hint: 'Every row of a matrix must have the same length.',
      });
    }
    for (let j = 0; j < nCols; j++) data[i * nCols + j] = r[j]!;
  }
  return { data, nRows, nCols };
}

/** Row `i` of `m` as a subarray view (no copy). */
export function row(m: Embedding, i: number): Float32Array | Float64Array {
  return m.data.subarray(i * m.nCols, (i + 1) * m.nCols);
}

/** Copies the rows `idx` of `m` into a new float64 matrix. */
export function takeRows(m: Embedding, idx: ArrayLike<number>): Embedding {
  const d = m.nCols;
  const out = new Float64Array(idx.length * d);
  for (let r = 0; r < idx.length; r++) {
    const off = idx[r]! * d;
    for (let j = 0; j < d; j++) out[r * d + j] = m.data[off + j]!;
  }
  return { data: out, nRows: idx.length, nCols: d };
}

/**
 * Checks that `m` is a well-formed matrix of finite numbers with `expectedRows` rows (if given) and
 * at least one column; throws {@link BenchInputError} naming `where` otherwise.
 */
export function checkMatrix(m: Embedding, where: string, expectedRows?: number): void {
  if (m === null || typeof m !== 'object' || !(m.data instanceof Float32Array || m.data instanceof Float64Array)) {
    throw new BenchInputError(where, `${where} must be a matrix { data: Float32Array | Float64Array, nRows, nCols }.`, {
      hint: 'Build one with matrixFromRows(rows) or wrap a row-major typed array.',
    });
  }
  if (!Number.isInteger(m.nRows) || !Number.isInteger(m.nCols) || m.nRows < 0 || m.nCols < 1) {
    throw new BenchInputError(where, `${where} has invalid shape ${m.nRows} × ${m.nCols}.`, {
      hint: 'nRows must be a non-negative integer and nCols a positive integer.',
    });
  }
  if (m.data.length !== m.nRows * m.nCols) {
    throw new BenchInputError(where, `${where} has ${m.data.length} values but shape ${m.nRows} × ${m.nCols} needs ${m.nRows * m.nCols}.`);
  }
  if (expectedRows !== undefined && m.nRows !== expectedRows) {
    throw new BenchInputError(where, `${where} has ${m.nRows} rows but ${expectedRows} cells were expected.`, {
      hint: 'Embeddings, labels and batches must describe the same cells in the same order.',
    });
  }
  const d = m.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) {
      const r = Math.floor(i / m.nCols);
      throw new BenchInputError(where, `${where} has a non-finite value (${d[i]}) at row ${r}, column ${i - r * m.nCols}.`, {
        hint: 'Remove or impute NaN/Infinity values before benchmarking.',
      });
    }
  }
}

/** Whether `x` is a CSR count matrix (`@invae/common`'s {@link CsrMatrix}) rather than an {@link Embedding}. */
export function isCsr<T extends object>(x: T | CsrMatrix): x is CsrMatrix {
  return (x as CsrMatrix).kind === 'csr' && (x as CsrMatrix).indptr !== undefined;
}

/** `[nRows, nCols]` of an embedding or a CSR matrix. */
export function dimsOf(x: Embedding | CsrMatrix): [number, number] {
  return isCsr(x) ? x.shape : [x.nRows, x.nCols];
}
