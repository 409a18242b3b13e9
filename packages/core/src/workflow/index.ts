export { Invae, type InvaeSetup, type InvaeModelOptions, type PredictorOptions } from './invae';
export { validateCounts, alignedRows, DataValidationError, type InvaeDataset } from './dataset';
export { blockCovariates } from './covariate-spec';
