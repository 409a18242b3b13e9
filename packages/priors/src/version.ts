import pkg from '../package.json';

/** Version of @invae/priors. */
export const VERSION: string = pkg.version;
