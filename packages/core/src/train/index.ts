export { trainModel, type TrainingData, type TrainHistory } from './trainer';
export { resolveTrainOptions, type TrainOptions, type ResolvedTrainOptions, type EpochReport, type PlateauScheduleOptions, type EarlyStoppingScheduleOptions } from './options';
export { TrainingDivergedError } from './errors';
