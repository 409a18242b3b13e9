/**
 * @invae/cli — the `invae` command line, composing @invae/core, @invae/io-anndata, @invae/priors
 * and @invae/bench.
 * @packageDocumentation
 */
export { main } from './main';
export { createProgram, type GlobalOptions } from './program';
export { formatError } from './report-error';
export { VERSION } from './version';
export { openBackedDataset, type BackedDataset } from './backed-source';
/** Moved to `@invae/core` (re-exported here for existing importers). */
export { BackedRowSource, DEFAULT_BACKED_BLOCK_ROWS, type BackedRowsOptions } from '@invae/core';
