export { Adam, type AdamOptions, type AdamState, type AdamGradients } from './adam';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions, type ReduceLROnPlateauState, type HasLearningRate } from './plateau';
export { EarlyStopping, type EarlyStoppingOptions, type EarlyStoppingDecision, type EarlyStoppingState } from './early-stopping';
export { LinearWarmup } from './warmup';
