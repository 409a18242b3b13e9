export { trainModel, type TrainingData, type TrainHistory } from './trainer';
export { resolveTrainOptions, autoEpochs, DEFAULT_SHUFFLE_WINDOW, type TrainOptions, type ResolvedTrainOptions, type EpochReport, type StepReport, type PlateauScheduleOptions, type EarlyStoppingScheduleOptions } from './options';
export { TrainingDivergedError } from './errors';
export { historyToJSON, historyFromJSON, HISTORY_FORMAT, HISTORY_FORMAT_VERSION } from './history-file';
