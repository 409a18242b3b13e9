/**
 * The shape of an AnnData that core reads and annotates, declared structurally so that core needs no
 * file-format package: `@invae/io-anndata`'s `AnnData` and `BackedAnnData` satisfy these types as they
 * are (a compile-time check in the CLI's tests keeps them in step). Also the conversions of AnnData
 * matrices and frames into core's count matrices and plain obs columns.
 */
import { InvalidOptionError } from '../errors';
import { MatrixFormatError } from './errors';
import { csrMatrix, denseMatrix, type CountMatrix, type CscMatrix, type CsrMatrix, type Matrix, type NumericArray } from './matrix';

/**
 * X or a layer of an AnnData: dense, CSR or CSC — `@invae/common`'s {@link Matrix}, the one matrix type
 * of every invae package (so `@invae/io-anndata`'s matrices are core's as they are).
 */
export type AnnDataMatrix = Matrix;

/**
 * The table of an obs/var frame (an arquero `ColumnTable` in `@invae/io-anndata`): its columns by name,
 * its row count, and a copy with columns added or replaced.
 */
export interface AnnDataTable {
  /** The values of column `name` (categoricals decoded, missing values null). */
  array(name: string): ArrayLike<unknown>;
  /** Number of rows. */
  numRows(): number;
  /** A new table with these columns added (or replaced, keeping their position), each `numRows()` long. */
  assign(columns: Record<string, unknown[] | NumericArray>): AnnDataTable;
}

/** Metadata of one obs/var column (kind, on-disk dtype, categories), as the .h5ad writer reads it. */
export interface AnnDataColumnInfo {
  /** `numeric`, `categorical`, `string`, … */
  kind: string;
  /** On-disk dtype of the values (or of a categorical's codes). */
  dtype?: string;
  /** Categories of a categorical column. */
  categories?: readonly (string | number)[];
  /** Whether a categorical column is ordered. */
  ordered?: boolean;
}

/** An obs or var frame: a table whose column `indexName` holds the row names, plus per-column metadata. */
export interface AnnDataFrame {
  /** The table (replaced, not modified, when columns are added). */
  table: AnnDataTable;
  /** Name of the index column in `table`. */
  readonly indexName: string;
  /** Metadata of each data column (not the index), in column order. */
  columns: Record<string, AnnDataColumnInfo>;
}

/**
 * An in-memory AnnData (cells × genes) as core reads it: X and/or layers, the var index (gene names),
 * the obs columns, and obsm (which {@link writeResults} adds latent spaces to). `@invae/io-anndata`'s
 * `readH5ad` returns one.
 */
export interface AnnDataLike {
  /** The main matrix (absent when the file has none or it was not read). */
  readonly X?: AnnDataMatrix | undefined;
  /** Further matrices of the same shape, by name (e.g. raw `counts`). */
  readonly layers?: Readonly<Record<string, AnnDataMatrix>>;
  /** Cell annotations. */
  readonly obs: AnnDataFrame;
  /** Gene annotations; its index holds the gene names. */
  readonly var: AnnDataFrame;
  /** Per-cell arrays (e.g. embeddings), by key. */
  readonly obsm: Record<string, unknown>;
}

/** Storage kind and shape of a matrix of a backed AnnData, read from metadata only. */
export interface AnnDataMatrixInfo {
  /** Storage kind. */
  kind: 'dense' | 'csr' | 'csc';
  /** Shape (`[nObs, nVars]`). */
  shape: readonly number[];
}

/**
 * An AnnData opened without loading its matrices (`@invae/io-anndata`'s `openH5ad`): obs and var in
 * memory, X or a layer read in blocks of consecutive rows. Training from one keeps memory bounded by
 * a few row blocks, whatever the file size.
 */
export interface BackedAnnDataLike {
  /** The file it reads (named in errors). */
  readonly file: string;
  /** Cell annotations. */
  readonly obs: AnnDataFrame;
  /** Gene annotations; its index holds the gene names. */
  readonly var: AnnDataFrame;
  /** Whether the file has an X matrix. */
  hasX(): boolean;
  /** Names of the layers. */
  layerNames(): string[];
  /** Kind and shape of `X` or a layer. */
  matrixInfo(name: string): AnnDataMatrixInfo;
  /** Rows [start, end) of `X` or a layer: dense or CSR, as stored. */
  readRowRange(start: number, end: number, name: string): { matrix: AnnDataMatrix };
}

/** Whether `v` is an {@link AnnDataLike} (an obs frame with a table and a var frame, no row-block reader). */
export function isAnnDataLike(v: unknown): v is AnnDataLike {
  if (typeof v !== 'object' || v === null || isBackedAnnDataLike(v)) return false;
  const a = v as Partial<AnnDataLike>;
  return typeof a.obs?.table?.array === 'function' && typeof a.var?.table?.array === 'function';
}

/** Whether `v` is a {@link BackedAnnDataLike} (it reads row ranges). */
export function isBackedAnnDataLike(v: unknown): v is BackedAnnDataLike {
  return typeof v === 'object' && v !== null && typeof (v as Partial<BackedAnnDataLike>).readRowRange === 'function' && typeof (v as Partial<BackedAnnDataLike>).matrixInfo === 'function';
}

/**
 * Converts a CSC matrix (scipy layout) to CSR with float32 values, in O(nnz + nRows + nCols); the
 * input is only read. Row indices are checked against the shape.
 * @throws MatrixFormatError when the CSC structure does not fit its shape.
 */
export function cscToCsr(m: CscMatrix): CsrMatrix {
  const [nRows, nCols] = m.shape;
  if (m.indptr.length !== nCols + 1) throw new MatrixFormatError(`CSC indptr has length ${m.indptr.length}, expected nCols + 1 = ${nCols + 1}.`);
  const nnz = m.indices.length;
  if (m.data.length !== nnz) throw new MatrixFormatError(`CSC indices has ${nnz} values but data ${m.data.length}.`);
  const counts = new Float64Array(nRows + 1);
  for (let i = 0; i < nnz; i++) {
    const r = m.indices[i]!;
    if (!(r >= 0 && r < nRows) || !Number.isInteger(r)) throw new MatrixFormatError(`CSC row index ${r} at position ${i} is outside [0, ${nRows}).`);
    counts[r + 1]!++;
  }
  for (let r = 0; r < nRows; r++) counts[r + 1]! += counts[r]!;
  const indptr = Float64Array.from(counts);
  const next = Float64Array.from(counts);
  const indices = new Int32Array(nnz);
  const data = new Float32Array(nnz);
  for (let c = 0; c < nCols; c++) {
    for (let p = m.indptr[c]!; p < m.indptr[c + 1]!; p++) {
      const r = m.indices[p]!;
      const q = next[r]!++;
      indices[q] = c;
      data[q] = m.data[p]!;
    }
  }
  return csrMatrix(nRows, nCols, indptr, indices, data);
}

/**
 * The values of an AnnData matrix as a core count matrix: dense and CSR wrapped as they are (checked,
 * not copied), CSC converted to CSR ({@link cscToCsr}).
 * @param name what the matrix is (`X`, a layer name), for errors.
 * @throws InvalidOptionError for a matrix that is not 2-D; MatrixFormatError for a malformed one.
 */
export function annDataCounts(m: AnnDataMatrix, name = 'X'): CountMatrix {
  if (m.kind === 'dense') {
    if (m.shape.length !== 2) throw new InvalidOptionError(name === 'X' ? 'X' : 'layer', `${name}: expected a 2-D matrix, got shape [${m.shape.join(', ')}].`);
    return denseMatrix(m.shape[0]!, m.shape[1]!, m.data);
  }
  if (m.kind === 'csc') return cscToCsr(m);
  return csrMatrix(m.shape[0], m.shape[1], m.indptr, m.indices, m.data);
}

/** The data columns of an obs/var frame as plain arrays (not the index; categoricals decoded, missing = null). */
export function frameColumns(frame: AnnDataFrame): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const name of Object.keys(frame.columns)) out[name] = frame.table.array(name) as unknown[];
  return out;
}

/** The row names (index) of an obs/var frame. */
export function frameNames(frame: AnnDataFrame): string[] {
  return Array.from(frame.table.array(frame.indexName), String);
}
