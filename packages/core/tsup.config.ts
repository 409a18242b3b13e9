import { packageBuild } from '../../tsup.base.ts';

// Two entries, the public one and `@invae/core/internal`; code splitting (ESM and CJS) puts the modules
// both use into shared chunks, so module state (registries, engine) exists once whichever entry loads it.
export default packageBuild({ entry: ['src/index.ts', 'src/internal.ts'], splitting: true });
