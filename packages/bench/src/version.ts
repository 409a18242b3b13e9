import pkg from '../package.json';

/** Version of @invae/bench. */
export const VERSION: string = pkg.version;
