/**
 * @invae/bench — scib-metrics-compatible integration metrics, identifiability metrics and the
 * Benchmarker orchestrator.
 * @packageDocumentation
 */
export { VERSION } from './version';
export { BenchInputError } from './errors';
export { matrixFromRows, type Matrix } from './matrix';
export { encodeCategorical, type Categorical, type Encoded } from './categories';
export { exactNeighbors, subsetNeighbors, neighborsAndSilhouette, type NeighborsResult, type NeighborsOptions } from './neighbors';
export type { DistanceMetric } from './distances';
export { silhouetteSamples, type SilhouetteOptions, type BetweenClusterDistances } from './silhouette-samples';
export { silhouetteLabel, silhouetteBatch, bras, type SilhouetteLabelOptions, type SilhouetteBatchOptions } from './metrics/silhouette';
export { isolatedLabels, type IsolatedLabelsOptions } from './metrics/isolated-labels';
export { nmiAriClusterLabelsKmeans } from './metrics/nmi-ari-kmeans';
export { lisiKnn, ilisiKnn, clisiKnn, lisiWeights, type LisiWeights } from './metrics/lisi';
export { graphConnectivity } from './metrics/graph-connectivity';
export { kbet, kbetPerLabel, type KbetResult, type KbetPerLabelOptions, type KbetPerLabelResult } from './metrics/kbet';
export { principalComponentRegression, pcrComparison } from './metrics/pcr-comparison';
export { kmeans, type KMeansOptions, type KMeansResult } from './kmeans';
export { normalizedMutualInfo, adjustedRandIndex } from './clustering-scores';
export { umapConnectivities, type CsrMatrix } from './connectivities';
export { chiSquareSurvival, regularizedGammaQ } from './special-functions';
export { aggregateScores, minMaxScale, type Aggregates, type MetricType } from './aggregate';
export {
  Benchmarker,
  writeResultsJson,
  METRIC_NAMES,
  METRIC_TYPES,
  type MetricName,
  type MetricSelection,
  type BenchmarkerInput,
  type MethodResults,
  type BenchmarkResults,
} from './benchmarker';
export { pca, logNormalize, type PcaOptions, type PcaResult, type CsrCounts } from './pca';
export { meanCorrelationCoefficient, linearR2, rankData, type CorrelationMethod } from './identifiability';
export { linearSumAssignment } from './hungarian';
export { resultsTableSvg, type ResultsTableSvgOptions } from './results-table-svg';
export { umapEmbedding, sampleIndices, type UmapOptions, type UmapResult } from './umap';
export { scatterSvg, type ScatterSvgOptions } from './scatter-svg';
export { lossCurveSvg, type LossCurveSvgOptions, type LossCurveEpoch } from './loss-curve-svg';
export { categoricalPalette, SCANPY_DEFAULT_20 } from './palette';
export { svgToPng, pngSize, PNG_SIGNATURE, type SvgToPngOptions } from './png';
export { labelBatchLayout, layoutNanReasons, type NanReason, type NanReasons, type LabelBatchLayout } from './nan-reasons';
export {
  leaveOneBatchOut,
  leaveOneBatchOutFolds,
  type LoboFold,
  type LoboOptions,
  type LoboBatchScore,
  type LoboResult,
} from './invariant-prediction';
export {
  reportHtml,
  type ReportInput,
  type ReportDataset,
  type ReportImage,
  type ReportUmap,
  type ReportLossCurve,
  type ReportIdentifiability,
  type ReportInvariantPrediction,
  type CategoryCount,
} from './report-html';
export { escapeXml } from './xml';
export { loess, type LoessOptions, type LoessFit } from './hvg-loess';
export { highlyVariableGenesSeuratV3, subsetColumns, type HvgOptions, type HvgResult, type CountRowSource } from './hvg';
export { selectHighlyVariableGenes, DEFAULT_N_TOP_GENES, type SelectHvgOptions, type SelectedGenes } from './hvg-dataset';
export {
  DATASETS,
  listDatasets,
  getDataset,
  fileDatasetEntry,
  type FileDatasetOptions,
  type DatasetEntry,
  type DatasetDownload,
  type DatasetPreprocessing,
  type CountsLocation,
} from './datasets/registry';
export { defaultDataDir, localCandidates, findLocalFile } from './datasets/paths';
export {
  fetchDataset,
  datasetStatus,
  sha256File,
  DatasetError,
  type FetchDatasetOptions,
  type FetchDatasetResult,
  type FetchProgress,
  type DatasetStatus,
} from './datasets/fetch';
export { prepareDataset, preparedToAnnData, type PrepareDatasetOptions, type PreparedDataset, type CsrCountMatrix } from './datasets/prepare';
