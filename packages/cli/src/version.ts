import pkg from '../package.json';

/** Version of @invae/cli. */
export const VERSION: string = pkg.version;
