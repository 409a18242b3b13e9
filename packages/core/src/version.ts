import pkg from '../package.json';

/** Version of @invae/core. */
export const VERSION: string = pkg.version;
