// Registers ./ts-hooks.mjs in the current thread (set INVAE_WORKER_IMPORTS to this file's URL so
// that training workers started from the TypeScript sources can load them).
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
