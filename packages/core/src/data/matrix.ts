import { MatrixFormatError } from './errors';

// The matrix types are @invae/common's, shared by every invae package (re-exported here, not redeclared).
import type { CsrMatrix, DenseMatrix, IndexArray, NumericArray } from '@invae/common';
export type { NumericArray, IndexArray, DenseMatrix, SparseBase, CsrMatrix, CscMatrix, SparseMatrix, Matrix } from '@invae/common';

/** A count matrix held in memory (cells × genes), dense or CSR; `shape` is `[nRows, nCols]`. */
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
  return { kind: 'dense', shape: [nRows, nCols], data };
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
  return { kind: 'csr', shape: [nRows, nCols], indptr, indices, data };
}

/**
 * `[nRows, nCols]` of a 2-D dense matrix.
 * @throws MatrixFormatError when `shape` is not 2-D or does not match the number of values.
 */
export function denseShape(m: DenseMatrix): [number, number] {
  if (m.shape.length !== 2) throw new MatrixFormatError(`Expected a 2-D dense matrix, got shape [${m.shape.join(', ')}].`);
  const [nRows, nCols] = m.shape as [number, number];
  checkShape(nRows, nCols);
  if (m.data.length !== nRows * nCols) throw new MatrixFormatError(`Dense data has ${m.data.length} values, expected ${nRows} × ${nCols} = ${nRows * nCols}.`);
  return [nRows, nCols];
}

/** `[nRows, nCols]` of a count matrix (dense: checked to be 2-D, see {@link denseShape}). */
export function countShape(m: CountMatrix): [number, number] {
  return m.kind === 'csr' ? m.shape : denseShape(m);
}

/** Densifies a CSR matrix into a new Float32Array (row-major). Use only for small matrices. */
export function csrToDense(m: CsrMatrix): DenseMatrix {
  const [nRows, nCols] = m.shape;
  const out = new Float32Array(nRows * nCols);
  for (let r = 0; r < nRows; r++) {
    const base = r * nCols;
    for (let k = m.indptr[r]!; k < m.indptr[r + 1]!; k++) out[base + m.indices[k]!] += m.data[k]!;
  }
  return { kind: 'dense', shape: [nRows, nCols], data: out };
}

/** Converts a dense matrix to CSR (float32 data, int32 indices), keeping only non-zero values. */
export function denseToCsr(m: DenseMatrix): CsrMatrix {
  const [nRows, nCols] = denseShape(m);
  let nnz = 0;
  for (let i = 0; i < m.data.length; i++) if (m.data[i] !== 0) nnz++;
  const indptr = new Int32Array(nRows + 1);
  const indices = new Int32Array(nnz);
  const data = new Float32Array(nnz);
  let k = 0;
  for (let r = 0; r < nRows; r++) {
    const base = r * nCols;
    for (let c = 0; c < nCols; c++) {
      const v = m.data[base + c]!;
      if (v !== 0) {
        indices[k] = c;
        data[k++] = v;
      }
    }
    indptr[r + 1] = k;
  }
  return { kind: 'csr', shape: [nRows, nCols], indptr, indices, data };
}
