/**
 * @invae/cli — the `invae` command line, composing @invae/core, @invae/io-anndata, @invae/priors
 * and @invae/bench.
 * @packageDocumentation
 */
export { main } from './main';
export { createProgram, type GlobalOptions } from './program';
export { formatError } from './report-error';
export { VERSION } from './version';
// BackedRowSource, DEFAULT_BACKED_BLOCK_ROWS and BackedRowsOptions moved to @invae/core (its data layer).
export { openBackedDataset, type BackedDataset } from './backed-source';
