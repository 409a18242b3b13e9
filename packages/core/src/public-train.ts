// Public exports of the training plan, persistence and predictors of @invae/core. Re-exported by index.ts.
export * from './train/index';
export * from './persist/index';
export * from './predict/index';
export {
  registerPrior,
  unregisterPrior,
  getPrior,
  listPriors,
  priorCovariates,
  priorDecoderPaths,
  derivedColumns,
  bindPrior,
  bindPriorRef,
  type BoundPrior,
  type PriorHooks,
  type DerivationInput,
  PriorOptionError,
  PriorNotFoundError,
  type PriorPlugin,
  type PriorContext,
  type PriorRole,
} from './prior/registry';
export { buildModel, type ModelSpec, type PriorRef, type ResolvedModelSpec } from './module/build';
