import type { PresetName, WarnFn } from '@invae/core';
import { BenchInputError } from '../errors';
import { resultsTable, type BenchmarkResults, type MethodResults, type MetricName } from '../metrics/benchmarker';
import type { MetricType } from '../metrics/aggregate';
import type { NanReason } from '../metrics/nan-reasons';
import type { Embedding } from '../internal/matrix';
import { AGGREGATE_COLUMNS } from '../report/results-csv';
import { seededResultsCsv } from '../report/results-csv';
import { seededResultsMarkdown } from '../report/results-markdown';
import { resultsTableSvg } from '../report/results-table-svg';
import { benchmarkJob, type BenchmarkJobOptions, type BenchmarkJobRecord } from './job';
import { BENCHMARK_METHODS, type BenchmarkMethod } from './methods';
import { datasetSummary, runEnvironment, type PreparedBenchmark } from './prepare';
import type { ReportFiles } from './report-files';
import type { BenchmarkDatasetSummary, BenchmarkTiming } from './run-benchmark';

/** A value over seeds: one entry per seed the method ran with (null where not computable), their mean and sample standard deviation. */
export interface SeedStat {
  /** Mean of the finite values (null when none). */
  mean: number | null;
  /** Sample standard deviation (n − 1) of the finite values; null with fewer than two. */
  sd: number | null;
  /** The value of every seed, in the order of the method's `seeds`. */
  values: (number | null)[];
}

/** An aggregate column of the results table. */
export type AggregateName = (typeof AGGREGATE_COLUMNS)[number];

/** One method's row of a seeded benchmark. */
export interface SeededMethodSummary {
  /** Name in the results table (with ` [preset]` when several presets are compared). */
  embedding: string;
  method: BenchmarkMethod;
  preset: PresetName | null;
  /** Whether the method is trained (and so run once per seed); PCA is not: it runs once. */
  trained: boolean;
  /** The seeds it ran with. */
  seeds: number[];
  /** Epochs trained per seed (null for PCA). */
  epochs: (number | null)[];
  readsLabels: boolean;
  metrics: Partial<Record<MetricName, SeedStat>>;
  aggregates: Record<AggregateName, SeedStat>;
  invariantPrediction: { classifier: 'linear' | 'knn'; accuracy: SeedStat; macroF1: SeedStat; note?: string } | null;
  identifiability: { truthKey: string; mccPearson: SeedStat; mccSpearman: SeedStat; linearR2: SeedStat } | null;
}

/** The results of a seeded benchmark (results.json): mean ± sd per metric and aggregate, and the table of every seed. */
export interface BenchmarkSeedsSummary {
  schema: 'invae.bench.seeds/1';
  scibMetrics: '0.6';
  scale: 'none' | 'minmax';
  seeds: number[];
  nCells: number;
  nLabels: number;
  nBatches: number;
  metricTypes: Partial<Record<MetricName, MetricType>>;
  dataset: BenchmarkDatasetSummary;
  methods: SeededMethodSummary[];
  /** The results table of every seed (aggregates as in a single-seed run; untrained methods with their one run). */
  perSeed: { seed: number; methods: Omit<MethodResults, 'seconds'>[] }[];
}

/** What a seeded `runBenchmark` (or a merge of job shards) returns. */
export interface SeededBenchmarkRun {
  summary: BenchmarkSeedsSummary;
  /** Every job's record (metrics.json of a shard). */
  jobs: BenchmarkJobRecord[];
  /** The embeddings, by `<method> · seed <n>` (empty after a merge: they are in the shards). */
  embeddings: Record<string, Embedding>;
  dataset: BenchmarkDatasetSummary;
  timings: BenchmarkTiming[];
  environment: Record<string, string>;
  /** results.json's content. */
  json: BenchmarkSeedsSummary;
  markdown: string;
  /** results.json/csv/md/svg (the same for a single-process run and a merge of its shards) and run.json (timings, environment). */
  files: ReportFiles;
}

/** Mean and sample standard deviation of the finite values. */
export function seedStat(values: readonly (number | null | undefined)[]): SeedStat {
  const v = values.map((x) => (x === undefined || x === null || !Number.isFinite(x) ? null : x));
  const finite = v.filter((x): x is number => x !== null);
  const mean = finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : null;
  const sd = mean !== null && finite.length > 1 ? Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / (finite.length - 1)) : null;
  return { mean, sd, values: v };
}

const methodOrder = (m: BenchmarkMethod) => BENCHMARK_METHODS.indexOf(m);

/**
 * Mean ± sd over seeds of job records of one data set: the results table of every seed (from the
 * raw metrics, scaled with `scale` across the methods of that seed, as a single-seed run), then per
 * method and column the values over seeds. Trained methods need one record per seed; PCA (not
 * trained) one record, used in every seed's table and counted once. The order of the records does
 * not matter (methods in {@link BENCHMARK_METHODS} order, then preset).
 * @throws BenchInputError for records of different data sets, duplicates or a missing seed.
 */
export function summarizeSeeds(records: readonly BenchmarkJobRecord[], options: { scale?: 'none' | 'minmax'; seeds?: readonly number[] } = {}): BenchmarkSeedsSummary {
  if (!records.length) throw new BenchInputError('jobs', 'No job records to summarise.', { hint: 'run the jobs first (invae bench run-job)' });
  const scale = options.scale ?? 'none';
  const dataset = records[0]!.dataset;
  for (const r of records) {
    if (JSON.stringify(r.dataset) !== JSON.stringify(dataset)) {
      throw new BenchInputError('jobs', `The job ${r.name} (seed ${r.seed}) is of another data set (${r.dataset.file}, ${r.dataset.nCells} cells) than ${dataset.file} (${dataset.nCells} cells).`, {
        hint: 'merge the shards of one data set at a time, run with the same options',
      });
    }
  }
  const trainedSeeds = [...new Set(records.filter((r) => r.method !== 'pca').map((r) => r.seed))].sort((a, b) => a - b);
  const seeds = options.seeds ? [...new Set(options.seeds)].sort((a, b) => a - b) : trainedSeeds.length ? trainedSeeds : [Math.min(...records.map((r) => r.seed))];
  const presets = new Set(records.map((r) => r.preset).filter((p) => p !== null));
  const rowName = (r: BenchmarkJobRecord) => (presets.size > 1 && r.preset ? `${r.name} [${r.preset}]` : r.name);
  // rows in canonical order: method, then preset
  const rows = new Map<string, BenchmarkJobRecord[]>();
  const sorted = [...records].sort((a, b) => methodOrder(a.method) - methodOrder(b.method) || (a.preset ?? '').localeCompare(b.preset ?? '') || a.seed - b.seed);
  for (const r of sorted) {
    const list = rows.get(rowName(r)) ?? [];
    if (list.some((x) => x.seed === r.seed)) throw new BenchInputError('jobs', `Two records of ${rowName(r)} with seed ${r.seed}.`, { hint: 'merge each shard once' });
    list.push(r);
    rows.set(rowName(r), list);
  }
  for (const [name, list] of rows) {
    if (list[0]!.method === 'pca') {
      if (list.length > 1) throw new BenchInputError('jobs', `${name} is not trained and runs once, but there are ${list.length} records (seeds ${list.map((r) => r.seed).join(', ')}).`, { hint: 'keep one PCA shard per data set' });
      continue;
    }
    const missing = seeds.filter((s) => !list.some((r) => r.seed === s));
    const extra = list.filter((r) => !seeds.includes(r.seed));
    if (missing.length) throw new BenchInputError('jobs', `${name} has no record for seed ${missing.join(', ')}.`, { hint: 'run the missing jobs (invae bench plan lists them)' });
    if (extra.length) throw new BenchInputError('jobs', `${name} has a record for seed ${extra.map((r) => r.seed).join(', ')}, not among the seeds ${seeds.join(', ')}.`);
  }
  const nLabels = dataset.labels.length;
  const nBatches = dataset.batches.length;
  let metricTypes: Partial<Record<MetricName, MetricType>> = {};
  const perSeed = seeds.map((seed) => {
    const raw = [...rows].map(([name, list]) => {
      const r = list.find((x) => x.seed === seed) ?? list[0]!;
      const metrics: Partial<Record<MetricName, number>> = {};
      for (const [k, v] of Object.entries(r.metrics)) metrics[k as MetricName] = v ?? NaN;
      return { embedding: name, metrics, seconds: {}, nanReasons: r.nanReasons as Partial<Record<MetricName, readonly NanReason[]>>, sampling: r.sampling };
    });
    const table = resultsTable(raw, { scale, nCells: dataset.nCells, nLabels, nBatches });
    metricTypes = { ...metricTypes, ...table.metricTypes };
    return { seed, methods: table.methods.map(({ seconds: _s, ...m }) => m) };
  });
  const methods: SeededMethodSummary[] = [...rows].map(([name, list]) => {
    const trained = list[0]!.method !== 'pca';
    const runSeeds = trained ? seeds : [list[0]!.seed];
    const tables = trained ? perSeed : [perSeed[0]!];
    const ofSeed = tables.map((t) => t.methods.find((m) => m.embedding === name)!);
    const metricNames = Object.keys(ofSeed[0]!.metrics) as MetricName[];
    const bySeed = runSeeds.map((s) => list.find((r) => r.seed === s)!);
    const lobo = bySeed.map((r) => r.invariantPrediction);
    const idf = bySeed.map((r) => r.identifiability);
    return {
      embedding: name,
      method: list[0]!.method,
      preset: list[0]!.preset,
      trained,
      seeds: runSeeds,
      epochs: bySeed.map((r) => r.info.epochs),
      readsLabels: list[0]!.info.readsLabels,
      metrics: Object.fromEntries(metricNames.map((m) => [m, seedStat(ofSeed.map((t) => t.metrics[m]))])),
      aggregates: Object.fromEntries(AGGREGATE_COLUMNS.map((a) => [a, seedStat(ofSeed.map((t) => t.aggregates[a]))])) as Record<AggregateName, SeedStat>,
      invariantPrediction: lobo[0]
        ? { classifier: lobo[0].classifier, accuracy: seedStat(lobo.map((l) => l?.mean.accuracy)), macroF1: seedStat(lobo.map((l) => l?.mean.macroF1)), ...(lobo[0].note ? { note: lobo[0].note } : {}) }
        : null,
      identifiability: idf[0]
        ? { truthKey: idf[0].truthKey, mccPearson: seedStat(idf.map((i) => i?.mccPearson)), mccSpearman: seedStat(idf.map((i) => i?.mccSpearman)), linearR2: seedStat(idf.map((i) => i?.linearR2)) }
        : null,
    };
  });
  return { schema: 'invae.bench.seeds/1', scibMetrics: '0.6', scale, seeds, nCells: dataset.nCells, nLabels, nBatches, metricTypes, dataset, methods, perSeed };
}

/** The results table of the means (what the scib-style SVG draws, with the sds as error bars). */
export function meanResults(s: BenchmarkSeedsSummary): BenchmarkResults {
  return {
    schema: 'invae.bench.results/1',
    scibMetrics: '0.6',
    scale: s.scale,
    nCells: s.nCells,
    nLabels: s.nLabels,
    nBatches: s.nBatches,
    metricTypes: s.metricTypes,
    methods: s.methods.map((m) => ({
      embedding: m.embedding,
      metrics: Object.fromEntries(Object.entries(m.metrics).map(([k, v]) => [k, v.mean])),
      aggregates: { 'Batch correction': m.aggregates['Batch correction'].mean, 'Bio conservation': m.aggregates['Bio conservation'].mean, Total: m.aggregates.Total.mean },
      seconds: {},
      nanReasons: {},
    })),
  };
}

/** How the seeds were used, in one sentence (results.md and the SVG's caption). */
export function seedsNote(s: BenchmarkSeedsSummary): string {
  const once = s.methods.filter((m) => !m.trained);
  const onceText = once.length ? `; ${once.map((m) => m.embedding).join(', ')} not trained: run once (seed ${once[0]!.seeds[0]}), no sd` : '';
  return `mean ± sample sd over seeds ${s.seeds.join(', ')} (error bars ±1 sd)${onceText}`;
}

/**
 * The files of a seeded benchmark: results.json (the summary), results.csv/md (mean ± sd),
 * results.svg (scib-style table of the means with ±1 sd error bars) — these depend on the records
 * only, so a merge of shards writes the same bytes as a single-process run — and run.json with what
 * differs from run to run (timings of every job, environment).
 */
export function seededReportFiles(s: BenchmarkSeedsSummary, run: { records: readonly BenchmarkJobRecord[]; timings: readonly BenchmarkTiming[]; environment: Record<string, string> }): { files: ReportFiles; markdown: string } {
  const readers = s.methods.filter((m) => m.readsLabels).map((m) => m.embedding);
  const labelNote = `reads '${s.dataset.labelKey}' during training (supervised, as scANVI); the others do not`;
  const errors = Object.fromEntries(
    s.methods.map((m) => [m.embedding, { ...Object.fromEntries(Object.entries(m.metrics).map(([k, v]) => [k, v.sd])), ...Object.fromEntries(AGGREGATE_COLUMNS.map((a) => [a, m.aggregates[a].sd])) }]),
  );
  const markdown = seededResultsMarkdown(s, { labelNote, note: seedsNote(s) });
  const files = new Map<string, string | Uint8Array>([
    ['results.json', `${JSON.stringify(s, null, 2)}\n`],
    ['results.csv', seededResultsCsv(s)],
    ['results.md', markdown],
    ['results.svg', resultsTableSvg(meanResults(s), { title: s.dataset.file, marked: readers, footnote: labelNote, errors, caption: seedsNote(s) })],
    [
      'run.json',
      `${JSON.stringify(
        {
          timings: Object.fromEntries(run.timings.map((t) => [t.step, t.seconds])),
          jobs: run.records.map((r) => ({ method: r.name, seed: r.seed, preset: r.preset, timings: r.timings })),
          environment: run.environment,
        },
        null,
        2,
      )}\n`,
    ],
  ]);
  return { files, markdown };
}

/** Options of a seeded run once resolved (see `RunBenchmarkOptions`). */
export interface SeededRunOptions extends BenchmarkJobOptions {
  methods: readonly BenchmarkMethod[];
  seeds: readonly number[];
  scale: boolean;
  environment: Readonly<Record<string, string>>;
  outDir?: string;
  writeFolder?: (dir: string, files: ReadonlyMap<string, string | Uint8Array>) => Promise<void>;
  startedAt?: number;
}

/**
 * The seeded run of `runBenchmark` on prepared cells: every trained method once per seed, PCA once
 * (lowest seed), each job trained and scored alone by {@link benchmarkJob}, then
 * {@link summarizeSeeds} and {@link seededReportFiles}; the folder written at the end.
 */
export async function runSeeded(
  p: PreparedBenchmark,
  o: SeededRunOptions,
  ctx: {
    timings: BenchmarkTiming[];
    tStart: number;
    prior: number;
    warn: WarnFn;
    mute: <T>(fn: () => T) => T;
    writeReportFolder: (dir: string, files: ReadonlyMap<string, string | Uint8Array>) => Promise<void>;
  },
): Promise<SeededBenchmarkRun> {
  const seeds = [...new Set(o.seeds)].sort((a, b) => a - b);
  const dataset = datasetSummary(p, o);
  const methods = [...new Set(o.methods)].sort((a, b) => methodOrder(a) - methodOrder(b));
  const records: BenchmarkJobRecord[] = [];
  const embeddings: Record<string, Embedding> = {};
  for (const method of methods) {
    for (const seed of method === 'pca' ? [seeds[0]!] : seeds) {
      const job = await benchmarkJob(p, dataset, method, seed, o, ctx);
      records.push(job.record);
      embeddings[`${job.record.name} · seed ${seed}`] = job.embedding;
      for (const [step, seconds] of Object.entries(job.record.timings)) ctx.timings.push({ step: `${step} · seed ${seed}`, seconds });
    }
  }
  const summary = summarizeSeeds(records, { scale: o.scale ? 'minmax' : 'none', seeds });
  ctx.timings.push({ step: 'total', seconds: o.startedAt !== undefined ? (performance.now() - o.startedAt) / 1000 : ctx.prior + (performance.now() - ctx.tStart) / 1000 });
  const environment = { ...runEnvironment(o.environment), seeds: seeds.join(', '), preset: o.preset };
  const { files, markdown } = seededReportFiles(summary, { records, timings: ctx.timings, environment });
  if (o.outDir !== undefined) {
    await (o.writeFolder ?? ctx.writeReportFolder)(o.outDir, files);
    o.log(`wrote ${o.outDir}/results.md`);
  }
  return { summary, jobs: records, embeddings, dataset, timings: ctx.timings, environment, json: summary, markdown, files };
}

/** Options of {@link mergeBenchmarkJobs}. */
export interface MergeBenchmarkJobsOptions {
  /** Min-max scale every metric across methods (per seed) before aggregating (default false). */
  scale?: boolean;
  /** The seeds (default: those of the trained methods' records). */
  seeds?: readonly number[];
  /** Entries listed first in run.json's environment. */
  environment?: Readonly<Record<string, string>>;
}

/**
 * Merges the job records of one data set (metrics.json of the shards written by `invae bench
 * run-job`) into the results a single-process seeded `runBenchmark` with the same options gives:
 * the same summary and the same results.json/csv/md/svg (run.json holds the jobs' timings).
 * @throws BenchInputError for records of several data sets, duplicates or missing seeds.
 */
export function mergeBenchmarkJobs(records: readonly BenchmarkJobRecord[], options: MergeBenchmarkJobsOptions = {}): SeededBenchmarkRun {
  const t = performance.now();
  const summary = summarizeSeeds(records, { scale: options.scale ? 'minmax' : 'none', seeds: options.seeds });
  const presets = [...new Set(records.map((r) => r.preset).filter((p) => p !== null))];
  const environment = { ...runEnvironment(options.environment ?? {}), seeds: summary.seeds.join(', '), preset: presets.join(', ') || '–' };
  const timings: BenchmarkTiming[] = [{ step: 'merge', seconds: (performance.now() - t) / 1000 }];
  const { files, markdown } = seededReportFiles(summary, { records, timings, environment });
  return { summary, jobs: [...records], embeddings: {}, dataset: summary.dataset, timings, environment, json: summary, markdown, files };
}
