import { MatrixFormatError } from './errors';

/** Numeric typed arrays accepted as matrix values. */
export type NumericArray = Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Uint8Array | Int8Array;

/** Integer typed arrays accepted as CSR index arrays (BigInt64 arrays from HDF5 must be converted first). */
export type IndexArray = Int32Array | Uint32Array | Float64Array | Int16Array | Uint16Array | Uint8Array;

/** A dense row-major matrix. */
export interface DenseMatrix {
  kind: 'dense';
  nRows: number;
  nCols: number;
  /** `nRows × nCols` values, row-major. */
  data: NumericArray;
}

/**
 * A compressed-sparse-row matrix (as anndata/scipy store `X`): row r's non-zeros are
 * `data[indptr[r]..indptr[r+1])` at columns `indices[...]`.
 */
export interface CsrMatrix {
  kind: 'csr';
  nRows: number;
  nCols: number;
  /** Row pointers, length nRows + 1, non-decreasing, from 0 to nnz. */
  indptr: IndexArray;
  /** Column of each stored value, in [0, nCols). */
  indices: IndexArray;
  /** Stored values. */
  data: NumericArray;
}

/** A count matrix held in memory, dense or CSR. */
export type CountMatrix = DenseMatrix | CsrMatrix;

function checkShape(nRows: number, nCols: number): void {
  if (!Number.isSafeInteger(nRows) || nRows < 0 || !Number.isSafeInteger(nCols) || nCols < 0) {
    throw new MatrixFormatError(`Matrix shape must be non-negative integers, got ${nRows} × ${nCols}.`);
  }
}

/** Wraps a row-major array as a {@link DenseMatrix}, checking its length. */
export function denseMatrix(nRows: number, nCols: number, data: NumericArray): DenseMatrix {
  checkShape(nRows, nCols);
  if (data.length !== nRows * nCols) {
    throw new MatrixFormatError(`Dense data has ${data.length} values, expected ${nRows} × ${nCols} = ${nRows * nCols}.`);
  }
  return { kind: 'dense', nRows, nCols, data };
}

/**
 * Wraps CSR arrays as a {@link CsrMatrix} after checking the structure: indptr length and
 * monotonicity, indices within [0, nCols), data/indices lengths. O(nnz). Duplicate column indices
 * within a row are allowed (they are summed when densified, as scipy does).
 */
export function csrMatrix(nRows: number, nCols: number, indptr: IndexArray, indices: IndexArray, data: NumericArray): CsrMatrix {
  checkShape(nRows, nCols);
  if (indptr.length !== nRows + 1) throw new MatrixFormatError(`CSR indptr has length ${indptr.length}, expected nRows + 1 = ${nRows + 1}.`);
  if (indptr[0] !== 0) throw new MatrixFormatError(`CSR indptr must start at 0, got ${indptr[0]}.`);
  const nnz = indptr[nRows]!;
  if (indices.length !== nnz || data.length !== nnz) {
    throw new MatrixFormatError(`CSR indptr ends at ${nnz} but indices has ${indices.length} and data ${data.length} values.`);
  }
  for (let r = 0; r < nRows; r++) {
    const a = indptr[r]!;
    const b = indptr[r + 1]!;
    if (!(b >= a) || !Number.isInteger(b)) throw new MatrixFormatError(`CSR indptr decreases or is not an integer at row ${r} (${a} → ${b}).`);
  }
  for (let k = 0; k < nnz; k++) {
    const c = indices[k]!;
    if (!(c >= 0 && c < nCols) || !Number.isInteger(c)) {
      throw new MatrixFormatError(`CSR column index ${c} at position ${k} is outside [0, ${nCols}).`);
    }
  }
  return { kind: 'csr', nRows, nCols, indptr, indices, data };
}

/** Densifies a CSR matrix into a new Float32Array (row-major). Use only for small matrices. */
export function csrToDense(m: CsrMatrix): DenseMatrix {
  const out = new Float32Array(m.nRows * m.nCols);
  for (let r = 0; r < m.nRows; r++) {
    const base = r * m.nCols;
    for (let k = m.indptr[r]!; k < m.indptr[r + 1]!; k++) out[base + m.indices[k]!] += m.data[k]!;
  }
  return { kind: 'dense', nRows: m.nRows, nCols: m.nCols, data: out };
}

/** Converts a dense matrix to CSR (float32 data, int32 indices), keeping only non-zero values. */
export function denseToCsr(m: DenseMatrix): CsrMatrix {
  let nnz = 0;
  for (let i = 0; i < m.data.length; i++) if (m.data[i] !== 0) nnz++;
  const indptr = new Int32Array(m.nRows + 1);
  const indices = new Int32Array(nnz);
  const data = new Float32Array(nnz);
  let k = 0;
  for (let r = 0; r < m.nRows; r++) {
    const base = r * m.nCols;
    for (let c = 0; c < m.nCols; c++) {
      const v = m.data[base + c]!;
      if (v !== 0) {
        indices[k] = c;
        data[k++] = v;
      }
    }
    indptr[r + 1] = k;
  }
  return { kind: 'csr', nRows: m.nRows, nCols: m.nCols, indptr, indices, data };
}
