import { MatrixFormatError } from './errors';
import { denseShape, type CountMatrix, type CsrMatrix, type DenseMatrix } from './matrix';

/**
 * Anything that can hand out rows of a cells × genes matrix as dense float32: an in-memory dense or
 * CSR matrix, or a reader of a file on disk (a backed .h5ad). `readRows` returns a new
 * `indices.length × nCols` row-major array, rows in the order of `indices` (repeats allowed).
 */
export interface RowSource {
  /** Rows (cells). */
  readonly nRows: number;
  /** Columns (genes). */
  readonly nCols: number;
  /**
   * Set by sources stored in blocks of consecutive rows (e.g. on disk), for which reading rows
   * scattered over many blocks is slow: rows per block. Training then shuffles by block (the order
   * of blocks, and rows within a window of a few blocks) instead of over all rows, and readers keep
   * a window of blocks in memory. Unset for in-memory sources.
   */
  readonly blockSize?: number;
  /** The rows `indices`, densified, row-major. */
  readRows(indices: ArrayLike<number>): Float32Array;
  /**
   * Optional: the rows `indices` written into `out` (`indices.length × nCols`, row-major, all zeros on
   * entry: a sparse source writes its stored values only). Training reads each minibatch this way
   * straight into the tensor engine's memory, without an array of its own.
   */
  readRowsInto?(indices: ArrayLike<number>, out: Float32Array): void;
  /**
   * Optional (sparse sources, with {@link readStoredEntries}): the number of stored entries of rows
   * `indices` (a repeated row counted again). Training then reads a minibatch's stored entries only
   * and writes its dense counts and their non-zeros in one pass on the tensor engine.
   */
  storedEntryCount?(indices: ArrayLike<number>): number;
  /**
   * Optional, with {@link storedEntryCount}: the stored entries of rows `indices`, row after row: row
   * i's at positions `starts[i]` … `starts[i + 1] − 1` of `cols` (column indices) and `values`.
   * `starts` holds `indices.length + 1` values, `cols` and `values` at least `storedEntryCount(indices)`.
   */
  readStoredEntries?(indices: ArrayLike<number>, starts: Int32Array, cols: Int32Array, values: Float32Array): void;
  /**
   * Optional, for passes over every row that need only the stored values (count validation): the
   * consecutive rows [start, end) as stored, CSR or dense, without densifying sparse rows (a tenth
   * of the work at 10% density). The caller must not modify the result.
   */
  readRowRange?(start: number, end: number): CountMatrix;
}

/** Throws a {@link MatrixFormatError} unless every index is an integer in [0, nRows). */
export function checkRowIndices(indices: ArrayLike<number>, nRows: number): void {
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]!;
    if (!(r >= 0 && r < nRows) || !Number.isInteger(r)) {
      throw new MatrixFormatError(`Row index ${r} (position ${i}) is outside [0, ${nRows}).`);
    }
  }
}

function checkOutput(out: Float32Array, rows: number, nCols: number): void {
  if (out.length !== rows * nCols) throw new MatrixFormatError(`readRowsInto: the output holds ${out.length} values, expected ${rows} × ${nCols}.`);
}

class DenseRowSource implements RowSource {
  readonly nRows: number;
  readonly nCols: number;
  constructor(private readonly m: DenseMatrix) {
    [this.nRows, this.nCols] = denseShape(m);
  }
  readRows(indices: ArrayLike<number>): Float32Array {
    const out = new Float32Array(indices.length * this.nCols);
    this.readRowsInto(indices, out);
    return out;
  }
  readRowsInto(indices: ArrayLike<number>, out: Float32Array): void {
    checkRowIndices(indices, this.nRows);
    checkOutput(out, indices.length, this.nCols);
    const { nCols } = this;
    const { data } = this.m;
    for (let i = 0; i < indices.length; i++) {
      const start = indices[i]! * nCols;
      if (data instanceof Float32Array) out.set(data.subarray(start, start + nCols), i * nCols);
      else for (let c = 0; c < nCols; c++) out[i * nCols + c] = data[start + c]!;
    }
  }
}

class CsrRowSource implements RowSource {
  readonly nRows: number;
  readonly nCols: number;
  constructor(private readonly m: CsrMatrix) {
    [this.nRows, this.nCols] = m.shape;
  }
  readRows(indices: ArrayLike<number>): Float32Array {
    const out = new Float32Array(indices.length * this.nCols);
    this.readRowsInto(indices, out);
    return out;
  }
  storedEntryCount(indices: ArrayLike<number>): number {
    checkRowIndices(indices, this.nRows);
    const { indptr } = this.m;
    let n = 0;
    for (let i = 0; i < indices.length; i++) n += indptr[indices[i]! + 1]! - indptr[indices[i]!]!;
    return n;
  }
  readStoredEntries(indices: ArrayLike<number>, starts: Int32Array, cols: Int32Array, values: Float32Array): void {
    checkRowIndices(indices, this.nRows);
    const { indptr, indices: stored, data } = this.m;
    if (starts.length < indices.length + 1) throw new MatrixFormatError(`readStoredEntries: ${starts.length} row starts for ${indices.length} rows.`);
    let t = 0;
    for (let i = 0; i < indices.length; i++) {
      const r = indices[i]!;
      const [s, e] = [indptr[r]!, indptr[r + 1]!];
      if (t + e - s > cols.length || t + e - s > values.length) throw new MatrixFormatError(`readStoredEntries: the output holds ${Math.min(cols.length, values.length)} entries, fewer than the rows have.`);
      starts[i] = t;
      // copies of the row's runs (typed-array conversions where the stored types differ)
      cols.set(stored.subarray(s, e), t);
      values.set(data.subarray(s, e), t);
      t += e - s;
    }
    starts[indices.length] = t;
  }
  readRowsInto(indices: ArrayLike<number>, out: Float32Array): void {
    checkRowIndices(indices, this.nRows);
    checkOutput(out, indices.length, this.nCols);
    const { nCols } = this;
    const { indptr, indices: cols, data } = this.m;
    for (let i = 0; i < indices.length; i++) {
      const r = indices[i]!;
      const base = i * nCols;
      for (let k = indptr[r]!; k < indptr[r + 1]!; k++) out[base + cols[k]!] += data[k]!;
    }
  }
}

/**
 * A {@link RowSource} over an in-memory matrix. CSR rows are densified per call only, so memory stays
 * at one batch of dense rows. The matrix is read, never modified.
 */
export function rowSource(matrix: CountMatrix): RowSource {
  return matrix.kind === 'csr' ? new CsrRowSource(matrix) : new DenseRowSource(matrix);
}
