/**
 * The in-memory matrix types every invae package shares: dense, CSR and CSC, in the layout anndata and
 * scipy use (`shape`, `indptr`, `indices`, `data`, and the on-disk `dtype` where known). Types only:
 * the checked constructors and guards live with the package whose errors they throw (`@invae/core`'s
 * `denseMatrix`/`csrMatrix`, `@invae/io-anndata`'s readers and `isMatrix`).
 */

/** Numeric typed arrays a matrix can hold. int64/uint64 values read from disk are held as Float64Array. */
export type NumericArray = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;

/**
 * Typed arrays accepted as CSR/CSC `indices` and `indptr` (BigInt64 arrays from HDF5 must be converted
 * first; Float64Array lets `indptr` exceed 2^31).
 */
export type IndexArray = Int32Array | Uint32Array | Float64Array | Int16Array | Uint16Array | Uint8Array;

/**
 * A dense row-major array, as anndata holds numpy arrays: entry (i, j) of a 2-D one is
 * `data[i * shape[1] + j]`.
 *
 * Layout choice (one for all invae packages): anndata/scipy's `shape` plus an optional `dtype`, rather
 * than `nRows`/`nCols`, because it is what `.h5ad` files and anndata hold (the readers and writers pass
 * matrices through unchanged), and because one dense type then also covers the n-d arrays of `uns` and
 * `obsm`. It is also the smaller change: io-anndata and core's AnnData bridge already used it, only core's
 * count matrices and bench's copies of them had `nRows`/`nCols`. X, layers and count matrices are 2-D:
 * `shape` is `[nRows, nCols]` (core's `denseMatrix(nRows, nCols, data)`/`csrMatrix(…)` build them checked).
 */
export interface DenseMatrix {
  kind: 'dense';
  /** Shape, row-major: `[nRows, nCols]` for a matrix (X, layers, counts); any rank for `uns`/`obsm` arrays. */
  shape: number[];
  /**
   * numpy-style name of the values' dtype on disk (`float32`, `int64`, `bool`, …) when the matrix was
   * read from or is meant for a file; absent, it is the dtype of `data`'s typed array.
   */
  dtype?: string;
  /** `shape[0] × shape[1] × …` values, row-major. */
  data: NumericArray;
}

/** Fields shared by {@link CsrMatrix} and {@link CscMatrix} (scipy's compressed layout). */
export interface SparseBase {
  /** `[nRows, nCols]`. */
  shape: [number, number];
  /** numpy-style dtype of `data` on disk, when known (absent: the dtype of `data`'s typed array). */
  dtype?: string;
  /** Stored values (duplicates within a row/column are summed, as scipy does). */
  data: NumericArray;
  /** Column (CSR) or row (CSC) of each stored value. */
  indices: IndexArray;
  /** Offsets into `data`/`indices`: length nRows + 1 (CSR) or nCols + 1 (CSC), non-decreasing from 0 to nnz. */
  indptr: IndexArray;
}

/**
 * A compressed-sparse-row matrix (as anndata/scipy store `X`): row r's stored values are
 * `data[indptr[r]..indptr[r+1])` at columns `indices[…]`.
 */
export interface CsrMatrix extends SparseBase {
  kind: 'csr';
}

/**
 * A compressed-sparse-column matrix: column c's stored values are `data[indptr[c]..indptr[c+1])` at rows
 * `indices[…]`.
 */
export interface CscMatrix extends SparseBase {
  kind: 'csc';
}

/** A CSR or CSC matrix; narrow on `kind`. */
export type SparseMatrix = CsrMatrix | CscMatrix;

/** A matrix as anndata stores X, layers, obsp/varp: dense, CSR or CSC; narrow on `kind`. */
export type Matrix = DenseMatrix | SparseMatrix;
