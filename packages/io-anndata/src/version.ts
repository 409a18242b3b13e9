import pkg from '../package.json';

/** Version of @invae/io-anndata. */
export const VERSION: string = pkg.version;
