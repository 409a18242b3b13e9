/**
 * @invae/bench — scib-metrics-compatible integration metrics, identifiability metrics and the
 * Benchmarker orchestrator.
 * @packageDocumentation
 */
export { VERSION } from './version';
export { BenchInputError } from './errors';
export { matrixFromRows, type Embedding } from './internal/matrix';
export { encodeCategorical, type Categorical, type Encoded } from './internal/categories';
export { wasmSearchStats } from './neighbors/knn-wasm';
export { exactNeighbors, subsetNeighbors, neighborsAndSilhouette, type NeighborsResult, type NeighborsOptions } from './neighbors/neighbors';
export type { DistanceMetric } from './neighbors/distances';
export { silhouetteSamples, type SilhouetteOptions, type BetweenClusterDistances } from './neighbors/silhouette-samples';
export { silhouetteLabel, silhouetteBatch, bras, silhouetteBatchEstimate, brasEstimate, type SilhouetteLabelOptions, type SilhouetteBatchOptions } from './metrics/silhouette';
export {
  SILHOUETTE_EXACT_MAX_CELLS,
  SILHOUETTE_SAMPLE_SIZE,
  describeSampling,
  stratifiedSample,
  stratifiedMean,
  type SilhouetteSampling,
  type SilhouetteSamplingOptions,
} from './metrics/silhouette-sampling';
export { isolatedLabels, type IsolatedLabelsOptions } from './metrics/isolated-labels';
export { nmiAriClusterLabelsKmeans } from './metrics/nmi-ari-kmeans';
export { lisiKnn, ilisiKnn, clisiKnn, lisiWeights, type LisiWeights } from './metrics/lisi';
export { graphConnectivity } from './metrics/graph-connectivity';
export { kbet, kbetPerLabel, type KbetResult, type KbetPerLabelOptions, type KbetPerLabelResult } from './metrics/kbet';
export { principalComponentRegression, pcrComparison } from './metrics/pcr-comparison';
export { kmeans, type KMeansOptions, type KMeansResult } from './internal/kmeans';
export { normalizedMutualInfo, adjustedRandIndex } from './metrics/clustering-scores';
export { umapConnectivities, type NeighborGraph } from './neighbors/connectivities';
export { chiSquareSurvival, regularizedGammaQ } from './internal/special-functions';
export { aggregateScores, minMaxScale, type Aggregates, type MetricType } from './metrics/aggregate';
export {
  Benchmarker,
  resultsTable,
  writeResultsJson,
  METRIC_NAMES,
  METRIC_TYPES,
  type MetricName,
  type MetricSelection,
  type BenchmarkerInput,
  type MethodResults,
  type RawMethodMetrics,
  type BenchmarkResults,
} from './metrics/benchmarker';
export { pca, logNormalize, type PcaOptions, type PcaResult } from './embedding/pca';
export { meanCorrelationCoefficient, linearR2, rankData, type CorrelationMethod } from './metrics/identifiability';
export { wilcoxonRankSum, benjaminiHochberg, wilcoxonCalls } from './metrics/wilcoxon';
export { linearSumAssignment } from './internal/hungarian';
export { resultsTableSvg, type ResultsTableSvgOptions } from './report/results-table-svg';
export { umapEmbedding, sampleIndices, type UmapOptions, type UmapResult } from './embedding/umap';
export { scatterSvg, type ScatterSvgOptions } from './report/scatter-svg';
export { lossCurveSvg, type LossCurveSvgOptions, type LossCurveEpoch } from './report/loss-curve-svg';
export { volcanoSvg, type VolcanoSvgOptions, type VolcanoGene } from './report/volcano-svg';
export { categoricalPalette, SCANPY_DEFAULT_20 } from './report/palette';
export { svgToPng, pngSize, PNG_SIGNATURE, type SvgToPngOptions } from './report/png';
export { labelBatchLayout, layoutNanReasons, type NanReason, type NanReasons, type LabelBatchLayout } from './metrics/nan-reasons';
export {
  leaveOneBatchOut,
  leaveOneBatchOutFolds,
  type LoboFold,
  type LoboOptions,
  type LoboBatchScore,
  type LoboResult,
} from './metrics/invariant-prediction';
export {
  reportHtml,
  type ReportInput,
  type ReportDataset,
  type ReportImage,
  type ReportUmap,
  type ReportLossCurve,
  type ReportDe,
  type ReportIdentifiability,
  type ReportInvariantPrediction,
  type CategoryCount,
} from './report/report-html';
export { escapeXml } from './report/xml';
export { loess, type LoessOptions, type LoessFit } from './preprocess/hvg-loess';
export { highlyVariableGenesSeuratV3, subsetColumns, type HvgOptions, type HvgResult } from './preprocess/hvg';
export { selectHighlyVariableGenes, DEFAULT_N_TOP_GENES, type SelectHvgOptions, type SelectedGenes } from './preprocess/hvg-dataset';
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
export { prepareDataset, preparedToAnnData, type PrepareDatasetOptions, type PreparedDataset } from './datasets/prepare';
export { lossPlot, type LossPlot } from './report/loss-plot';
export { resultsCsv, seededResultsCsv } from './report/results-csv';
export { resultsMarkdown, seededResultsMarkdown, formatSeedStat, type MethodInfo, type ResultsMarkdownExtras } from './report/results-markdown';
export { BENCHMARK_METHODS, BENCHMARK_METHOD_NAMES, methodSetup, type BenchmarkMethod, type MethodSetupOptions } from './pipeline/methods';
export { benchmarkInputOf } from './pipeline/input';
export type { BenchmarkDataset, BenchmarkInput, ObsmEntry } from './pipeline/input';
export type { ReportFiles, BenchmarkUmap } from './pipeline/report-files';
export {
  runBenchmark,
  runBenchmarkJob,
  checkBenchmarkOptions,
  type RunBenchmarkOptions,
  type BenchmarkRun,
  type BenchmarkTiming,
  type BenchmarkInvariantPrediction,
  type BenchmarkDe,
  type BenchmarkDeOptions,
  type BenchmarkIdentifiability,
  type BenchmarkDatasetSummary,
  type BenchmarkResultsJson,
} from './pipeline/run-benchmark';
export { BENCHMARK_MIN_CELLS } from './pipeline/prepare';
export type { BenchmarkJobRecord, BenchmarkJobResult } from './pipeline/job';
export {
  summarizeSeeds,
  mergeBenchmarkJobs,
  seededReportFiles,
  seedStat,
  meanResults,
  type SeedStat,
  type AggregateName,
  type SeededMethodSummary,
  type BenchmarkSeedsSummary,
  type SeededBenchmarkRun,
  type MergeBenchmarkJobsOptions,
} from './pipeline/seeds';
export {
  parseBenchmarkConfig,
  planBenchmark,
  jobRunOptions,
  type BenchmarkConfig,
  type BenchmarkConfigDataset,
  type BenchmarkConfigOptions,
  type BenchmarkJobSpec,
} from './pipeline/plan';
