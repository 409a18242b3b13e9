import type { PresetName, TrainHistory, WarnFn } from '@invae/core';
import { Benchmarker, type MetricName } from '../metrics/benchmarker';
import { leaveOneBatchOut, leaveOneBatchOutFolds, type LoboResult } from '../metrics/invariant-prediction';
import { linearR2, meanCorrelationCoefficient } from '../metrics/identifiability';
import type { NanReason } from '../metrics/nan-reasons';
import type { Embedding } from '../internal/matrix';
import type { MethodInfo } from '../report/results-markdown';
import { BENCHMARK_METHOD_NAMES, type BenchmarkMethod } from './methods';
import { trainMethod, type PreparedBenchmark, type TrainMethodOptions } from './prepare';
import type { BenchmarkDatasetSummary } from './run-benchmark';

/** One job of a seeded (or sharded) benchmark: one method, one seed, one preset, on one data set. */
export interface BenchmarkJobRecord {
  schema: 'invae.bench.job/1';
  method: BenchmarkMethod;
  /** The method's name in the results table. */
  name: string;
  seed: number;
  /** Preset of a trained method; null for PCA. */
  preset: PresetName | null;
  dataset: BenchmarkDatasetSummary;
  /** The raw scib-metrics values (null where not computable) and why some are NaN. */
  metrics: Partial<Record<MetricName, number | null>>;
  nanReasons: Partial<Record<MetricName, readonly NanReason[]>>;
  /** How the silhouette metrics were computed (`exact`, or `subsampled (n=…, seed …, SE …)`); absent in older records. */
  sampling?: Partial<Record<MetricName, string>>;
  info: MethodInfo;
  /** Leave-one-batch-out invariant prediction (embedding protocol); null when off or with a single batch. */
  invariantPrediction: (LoboResult & { note?: string }) | null;
  /** Identifiability against the true latents; null without them. */
  identifiability: { truthKey: string; mccPearson: number | null; mccSpearman: number | null; linearR2: number | null } | null;
  /** Seconds of each step of the job (not part of the results). */
  timings: Record<string, number>;
}

/** A job's record, embedding and training history. */
export interface BenchmarkJobResult {
  record: BenchmarkJobRecord;
  embedding: Embedding;
  /** Training history (null for PCA). */
  history: TrainHistory | null;
}

/** What a job reads of the benchmark's options. */
export interface BenchmarkJobOptions extends TrainMethodOptions {
  loboClassifier: 'linear' | 'knn';
  layer?: string | null;
  log: (line: string) => void;
}

const safe = (fn: () => number): number | null => {
  try {
    const v = fn();
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
};

/**
 * Runs one job on prepared cells: trains `method` with `seed` (PCA: the prepared coordinates), then
 * scores its embedding alone with the scib-metrics set (Benchmarker seeded with `seed`), leave-one-batch-out
 * invariant prediction and identifiability. The same function serves a seeded `runBenchmark` and each
 * shard of a sharded benchmark, so both give the same numbers.
 */
export async function benchmarkJob(
  p: PreparedBenchmark,
  dataset: BenchmarkDatasetSummary,
  method: BenchmarkMethod,
  seed: number,
  o: BenchmarkJobOptions,
  ctx: { warn: WarnFn; mute: <T>(fn: () => T) => T },
): Promise<BenchmarkJobResult> {
  const name = BENCHMARK_METHOD_NAMES[method];
  const timings: Record<string, number> = {};
  let embedding: Embedding;
  let predictLatent: Embedding | null = null;
  let history: TrainHistory | null = null;
  let info: MethodInfo = { preset: null, epochs: null, readsLabels: false };
  if (method === 'pca') {
    if (!p.pcaCoordinates) throw new Error('unreachable: PCA is checked in prepareBenchmark');
    embedding = p.pcaCoordinates;
  } else {
    if (!p.data) throw new Error('unreachable: trained methods read the counts');
    const m = await trainMethod(p.data, method, o, seed, ctx.warn, ctx.mute);
    ({ embedding, predictLatent, history, info } = m);
    timings[`train ${name} (${m.info.epochs} epochs)`] = m.seconds;
    o.log(`${name} (seed ${seed}): trained ${m.info.epochs} epochs (preset ${m.info.preset}) in ${m.seconds.toFixed(1)} s`);
  }
  const bm = new Benchmarker({
    embeddings: { [name]: embedding },
    labels: p.labels,
    batches: p.batches,
    ...(p.unintegrated ? { unintegrated: p.unintegrated } : { metrics: { pcrComparison: false } }),
    seed,
    onProgress: (e) => o.log(`  ${e.embedding} (seed ${seed}): ${e.metric} ${e.seconds.toFixed(1)} s${e.error ? ` — failed (NaN): ${e.error}` : ''}`),
  });
  bm.benchmark();
  const row = bm.getResults({ scale: 'none' }).methods[0]!;
  timings[`metrics ${name}`] = Object.values(row.seconds).reduce((a, b) => a + b, 0);
  let invariantPrediction: BenchmarkJobRecord['invariantPrediction'] = null;
  if (o.lobo && new Set(p.batches).size >= 2) {
    const t = performance.now();
    const result = leaveOneBatchOut(leaveOneBatchOutFolds(embedding, p.labels, p.batches, predictLatent ?? embedding), { classifier: o.loboClassifier, seed });
    timings[`invariant prediction ${name}`] = (performance.now() - t) / 1000;
    invariantPrediction = { ...result, ...(predictLatent ? { note: `held-out cells encoded without '${o.label}' (label covariate zeroed); model trained on all cells` } : {}) };
  }
  const truth = p.truth;
  const identifiability =
    truth && p.truthKey
      ? { truthKey: p.truthKey, mccPearson: safe(() => meanCorrelationCoefficient(truth, embedding, 'pearson')), mccSpearman: safe(() => meanCorrelationCoefficient(truth, embedding, 'spearman')), linearR2: safe(() => linearR2(truth, embedding)) }
      : null;
  const record: BenchmarkJobRecord = {
    schema: 'invae.bench.job/1',
    method,
    name,
    seed,
    preset: method === 'pca' ? null : o.preset,
    dataset,
    metrics: row.metrics,
    nanReasons: row.nanReasons,
    ...(row.sampling ? { sampling: row.sampling } : {}),
    info,
    invariantPrediction,
    identifiability,
    timings,
  };
  return { record, embedding, history };
}
