/**
 * @invae/io-anndata — read and write AnnData .h5ad files with h5wasm; obs/var as arquero tables.
 * @packageDocumentation
 */
export { VERSION } from './version';
