/**
 * In-memory AnnData model: matrices, annotated obs/var (arquero tables), and the aligned/unstructured slots.
 */
import type { ColumnTable } from 'arquero';

// The matrix types are @invae/common's, shared by every invae package (re-exported here, not redeclared).
import type { DenseMatrix, Matrix, NumericArray, SparseMatrix } from '@invae/common';
export type { NumericArray, IndexArray, DenseMatrix, SparseBase, CsrMatrix, CscMatrix, SparseMatrix, Matrix } from '@invae/common';

/** Kind of a dataframe column. */
export type ColumnKind =
  | 'numeric'
  | 'bool'
  | 'string'
  | 'categorical'
  | 'nullable-int'
  | 'nullable-bool'
  | 'nullable-string';

/** Metadata of one obs/var column beyond its values in the arquero table. */
export interface ColumnInfo {
  kind: ColumnKind;
  /** On-disk dtype of the values (numeric/bool/nullable) or of the categorical codes. */
  dtype?: string;
  /** Categories of a categorical column (strings or numbers). */
  categories?: (string | number)[];
  /** Whether a categorical column is ordered. */
  ordered?: boolean;
}

/**
 * An obs or var dataframe: an arquero table whose first column is the index (named `indexName`), plus per-column
 * kinds/categories. Categorical values are stored decoded (category value or null for missing).
 */
export interface Frame {
  /** The table; its column `indexName` holds the row names. */
  table: ColumnTable;
  /** Name of the index column in `table` (anndata's `_index` attribute, usually `_index`). */
  indexName: string;
  /** Metadata of each data column (not the index), in column order. */
  columns: Record<string, ColumnInfo>;
}

/** Value types found in `uns` and other dicts. */
export type UnsValue =
  | string
  | number
  | boolean
  | bigint
  | null
  | (string | null)[]
  | (number | null)[]
  | boolean[]
  | NumericArray
  | BigInt64Array
  | DenseMatrix
  | SparseMatrix
  | Frame
  | { [key: string]: UnsValue };

/** An aligned mapping (obsm/varm/layers/obsp/varp): key → dense/sparse matrix or dataframe. */
export type AlignedMapping = Record<string, Matrix | Frame>;

/** `raw` of an AnnData: its own X and var. */
export interface RawData {
  X?: Matrix;
  var: Frame;
  varm: AlignedMapping;
}

/** An annotated data matrix (cells × genes). */
export interface AnnData {
  /** Number of observations (cells). */
  nObs: number;
  /** Number of variables (genes). */
  nVars: number;
  /** The main matrix, absent when the file has none (or it was not requested). */
  X?: Matrix;
  /** Cell annotations. */
  obs: Frame;
  /** Gene annotations. */
  var: Frame;
  layers: Record<string, Matrix>;
  obsm: AlignedMapping;
  varm: AlignedMapping;
  obsp: Record<string, Matrix>;
  varp: Record<string, Matrix>;
  uns: Record<string, UnsValue>;
  raw?: RawData;
}

/** True if a value is a Frame. */
export function isFrame(v: unknown): v is Frame {
  return typeof v === 'object' && v !== null && 'table' in v && 'indexName' in v && 'columns' in v;
}

/** True if a value is a dense or sparse matrix. */
export function isMatrix(v: unknown): v is Matrix {
  return (
    typeof v === 'object' &&
    v !== null &&
    'kind' in v &&
    ((v as Matrix).kind === 'dense' || (v as Matrix).kind === 'csr' || (v as Matrix).kind === 'csc') &&
    'data' in v
  );
}

/** Row names (index values) of a frame. */
export function frameIndex(f: Frame): string[] {
  return f.table.array(f.indexName) as string[];
}
