export { LabelEncoder } from './labels';
export { LinearClassifier } from './linear';
export { KnnClassifier, type KnnOptions } from './knn';
export { EnvironmentClassifier, type EnvironmentClassifierOptions } from './environment';
export { predictorFromState } from './state';
export { accuracy, macroF1 } from './metrics';
export type { FitOptions } from './softmax-model';
export type { InvariantPredictor, LatentMatrix, Prediction, PredictorState } from './types';
export { withConfidence, UNKNOWN_LABEL } from './confidence';
