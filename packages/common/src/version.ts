import pkg from '../package.json';

/** Version of @invae/common. */
export const VERSION: string = pkg.version;
