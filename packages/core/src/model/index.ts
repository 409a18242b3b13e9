export { Invae, type InvaeSetup, type InvaeModelOptions, type PredictorOptions, type LayerOption, type MapOptions, type PredictOptions } from './invae';
export { annDataDataset, backedAnnDataDataset, resolveDataset, type DatasetInput, type AnnDataReadOptions, type BackedAnnDataDataset } from './anndata-dataset';
export { writeResults, latentObsmKey, DEFAULT_PREDICTION_KEY, type InvaeResults } from './results';
export { validateCounts, alignedRows, checkUniqueGeneNames, isRowDataset, nCellsOf, nGenesOf, DataValidationError, type InvaeDataset, type RowDataset, type AnyDataset } from './dataset';
export { blockCovariates } from './covariate-spec';
export { PRESETS, DEFAULT_PRESET, getPreset, type PresetName, type InvaePreset, type PresetModelOptions } from './presets';
export { DEFAULT_LIBRARY_SIZE, EXPRESSION_LAYER, type ExpressionOptions, type ExpressionMatrix, type ExpressionBlock, type ExpressionStream } from './expression';
export { posteriorFdrCalls, deResultCsv, type DeOptions, type DeGene, type DeResult } from './differential';
