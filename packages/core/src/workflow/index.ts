export { Invae, type InvaeSetup, type InvaeModelOptions, type PredictorOptions } from './invae';
export { validateCounts, alignedRows, checkUniqueGeneNames, isRowDataset, nCellsOf, nGenesOf, DataValidationError, type InvaeDataset, type RowDataset, type AnyDataset } from './dataset';
export { blockCovariates } from './covariate-spec';
export { PRESETS, DEFAULT_PRESET, getPreset, type PresetName, type InvaePreset, type PresetModelOptions } from './presets';
