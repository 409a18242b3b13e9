/**
 * @invae/cli — the `invae` command line, composing @invae/core, @invae/io-anndata, @invae/priors
 * and @invae/bench.
 * @packageDocumentation
 */
export { main } from './main';
export { createProgram, type GlobalOptions } from './program';
export { formatError } from './report-error';
export { VERSION } from './version';
export { openBackedDataset, BackedRowSource, DEFAULT_BACKED_BLOCK_ROWS, type BackedDataset, type BackedRowsOptions } from './backed-source';
