export { trainModel, type TrainingData, type TrainHistory } from './trainer';
export { resolveTrainOptions, DEFAULT_SHUFFLE_WINDOW, type TrainOptions, type ResolvedTrainOptions, type EpochReport, type StepReport, type PlateauScheduleOptions, type EarlyStoppingScheduleOptions } from './options';
export { TrainingDivergedError } from './errors';
