export { MatrixFormatError } from './errors';
export {
  type NumericArray,
  type IndexArray,
  type DenseMatrix,
  type SparseBase,
  type CsrMatrix,
  type CscMatrix,
  type SparseMatrix,
  type Matrix,
  type CountMatrix,
  denseMatrix,
  csrMatrix,
  denseShape,
  countShape,
  csrToDense,
  denseToCsr,
} from './matrix';
export { type RowSource, rowSource, checkRowIndices } from './row-source';
export { MinibatchSampler, type MinibatchOptions } from './minibatches';
export { trainValidationSplit, type TrainValidationSplit } from './split';
export { gatherBatch, gatherRows, disposeBatch, type Minibatch, type RowMatrix } from './gather';
export {
  type AnnDataMatrix,
  type AnnDataTable,
  type AnnDataColumnInfo,
  type AnnDataFrame,
  type AnnDataLike,
  type AnnDataMatrixInfo,
  type BackedAnnDataLike,
  isAnnDataLike,
  isBackedAnnDataLike,
  cscToCsr,
  annDataCounts,
  frameColumns,
  frameNames,
} from './anndata';
export { BackedRowSource, DEFAULT_BACKED_BLOCK_ROWS, type BackedRowsOptions } from './backed-rows';
