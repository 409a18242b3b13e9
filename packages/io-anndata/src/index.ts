/**
 * @invae/io-anndata — read and write AnnData .h5ad files with h5wasm; obs/var as arquero tables.
 * @packageDocumentation
 */
export { VERSION } from './version';
export * from './anndata';
export * from './errors';
export { readH5ad, type ReadH5adOptions } from './read/read-h5ad';
export { registerReader, unregisterReader, getReader, registeredEncodings, SKIPPED, type ElementReader, type ReadContext, type ReadWarning } from './encodings/registry';
export { checkHdf5File, hasLzf } from './h5';
export { writeH5ad, updateH5ad, type WriteOptions, type H5adUpdate, type UpdateReport, type StreamedMatrix } from './write/write-h5ad';
export { openH5ad, BackedAnnData, type MatrixInfo, type RowBlock, type OpenH5adOptions } from './backed';
export { summarizeH5ad, formatSummary, type H5adSummary, type ColumnSummary } from './summary';
