export { CovariateError } from './errors';
export { type CovariateColumn, type WarnFn } from './column';
export { CategoricalEncoder, type CategoricalEncoderState } from './categorical';
export { ContinuousEncoder, type ContinuousEncoderState } from './continuous';
export { OrdinalEncoder, type OrdinalEncoderState, type OrdinalSpec } from './ordinal';
export { InteractionEncoder, type InteractionEncoderState } from './interaction';
export { DoseEncoder, type DoseEncoderState, type DoseSpec } from './dose';
export {
  CovariateEncoder,
  type CovariateSpec,
  type CovariateColumns,
  type CovariateEncoderState,
  type CovariateMatrix,
} from './composite';
