export { CovariateError } from './errors';
export { type CovariateColumn, type WarnFn } from './column';
export { CategoricalEncoder, type CategoricalEncoderState } from './categorical';
export { ContinuousEncoder, type ContinuousEncoderState } from './continuous';
export {
  CovariateEncoder,
  type CovariateSpec,
  type CovariateColumns,
  type CovariateEncoderState,
  type CovariateMatrix,
} from './composite';
