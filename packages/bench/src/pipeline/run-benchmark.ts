import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Invae, InvalidOptionError, type AnnDataLike, type DeOptions, type DeResult, type PresetName, type TrainHistory } from '@invae/core';
import { BenchInputError } from '../errors';
import { Benchmarker, type BenchmarkResults } from '../metrics/benchmarker';
import { leaveOneBatchOut, leaveOneBatchOutFolds, type LoboFold } from '../metrics/invariant-prediction';
import { linearR2, meanCorrelationCoefficient } from '../metrics/identifiability';
import { subsetNeighbors, type NeighborsResult } from '../neighbors/neighbors';
import { DEFAULT_N_TOP_GENES } from '../preprocess/hvg-dataset';
import type { Embedding } from '../internal/matrix';
import type { MethodInfo } from '../report/results-markdown';
import type { ReportIdentifiability, ReportInvariantPrediction } from '../report/report-html';
import { benchmarkInputOf, isAnnDataInput, subsetDataset, withoutColumns, type BenchmarkInput } from './input';
import { BENCHMARK_METHODS, BENCHMARK_METHOD_NAMES, labelCovariates, methodSetup, type BenchmarkMethod } from './methods';
import { writeFolderAtomic } from '@invae/common';
import { buildReport, type BenchmarkUmap, type ReportFiles } from './report-files';
import { benchmarkJob, type BenchmarkJobResult } from './job';
import { datasetSummary, encoderWarnings, prepareBenchmark, runEnvironment, trainMethod } from './prepare';
import { runSeeded, type SeededBenchmarkRun } from './seeds';

/** A step of a benchmark run and its wall-clock seconds. */
export interface BenchmarkTiming {
  step: string;
  seconds: number;
}

/** Options of {@link runBenchmark}; the defaults are those of `invae bench`. */
export interface RunBenchmarkOptions {
  /** obs key of the batches. */
  batch: string;
  /** obs key of the cell labels. */
  label: string;
  /** Methods to train (or compute, for PCA) and score (default `['pca', 'finvae']`). */
  methods?: readonly BenchmarkMethod[];
  /** obsm keys of embeddings computed elsewhere, scored as they are. */
  embeddings?: readonly string[];
  /** obsm key of the unintegrated embedding for PCR comparison (default: PCA of the log-normalised counts). */
  unintegrated?: string;
  /** Invariant covariates of the inVAE models (default `[label]`). */
  inv?: readonly string[];
  /** Spurious covariates of the inVAE models (default `[batch]`). */
  spur?: readonly string[];
  /** Counts layer the data came from (shown in the report; the counts themselves are `input.data`). */
  layer?: string | null;
  /** Preset of the inVAE models (default `integration`). */
  preset?: PresetName;
  /** Highly variable genes to benchmark on (seurat_v3 by batch) when trained methods see more genes; 0 keeps all (default 2000). */
  nTopGenes?: number;
  /** Training epochs of each model (default: the preset's). */
  epochs?: number;
  /** Invariant latent dimensions of each model (default 10). */
  latentInv?: number;
  /** Random seed (default 0). */
  seed?: number;
  /**
   * Seeds: train every method once per seed and report mean ± sd per metric and aggregate (a
   * {@link SeededBenchmarkRun}: results.json/csv/md/svg with error bars and run.json; no UMAPs, loss
   * plots or report.html). PCA is not trained: it runs once, with the lowest seed. Each job (method ×
   * seed) is trained and scored alone, as a shard of `invae bench run-job` is, so a merge of shards
   * gives the same results. Not with `embeddings` or `loboRetrain`. Omitted: one run with `seed`.
   */
  seeds?: readonly number[];
  /** Min-max scale every metric across methods before aggregating (default false). */
  scale?: boolean;
  /** UMAP plots (default true). */
  umap?: boolean;
  /** UMAP at most this many cells (default 50 000). */
  umapMaxPoints?: number;
  /** UMAP optimisation epochs (default: by size). */
  umapEpochs?: number;
  /** UMAP layout code (default `native`). */
  umapImpl?: 'native' | 'umap-js';
  /** Leave-one-batch-out invariant prediction (default true). */
  lobo?: boolean;
  /** Leave-one-batch-out: retrain every model without the held-out batch (default false). */
  loboRetrain?: boolean;
  /** Leave-one-batch-out predictor (default `linear`). */
  loboClassifier?: 'linear' | 'knn';
  /** obsm key of the true latents for identifiability (default `X_true_inv` when present). */
  truth?: string;
  /**
   * Registers the priors the models need, called once before any training. `@invae/bench` does not
   * depend on `@invae/priors`: pass its `registerBuiltinPriors` here (or call it first). A run that
   * trains a method without the `gaussian` prior registered fails with a {@link BenchInputError}
   * before any work.
   */
  registerPriors?: () => void | Promise<void>;
  /**
   * Writes the report folder here (results.json/csv/md/svg, UMAP and loss plots, report.html) at the
   * end of the run, nothing before; omit it to get the files in {@link BenchmarkRun.files} only.
   */
  outDir?: string;
  /**
   * Writes the folder atomically (every file into a temporary folder beside `outDir`, renamed into
   * place). The `invae` CLI passes its own writer (which also removes the temporary folder on
   * SIGINT); the default writes through a temporary folder and renames, as that writer does.
   */
  writeFolder?: (dir: string, files: ReadonlyMap<string, string | Uint8Array>) => Promise<void>;
  /**
   * Differential expression with every trained model (`Invae.differentialExpression`, batch-corrected):
   * `de_<method>.csv`, `volcano_<method>.svg/png` and a section of report.html. The groupby column
   * and the groups are checked before any training. Default: none.
   */
  de?: BenchmarkDeOptions | null;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Inspects the batch and label columns once read (e.g. to warn of a numeric batch column). */
  onColumns?: (columns: { batch: readonly string[]; label: readonly string[] }) => void;
  /** Steps the caller timed before the run (e.g. reading the file): listed first in the timings, counted in the total. */
  timings?: readonly BenchmarkTiming[];
  /** When the run began (a `performance.now()` value, e.g. before the caller read the file): the total counts from here (default: the call; plus `timings`). */
  startedAt?: number;
  /** Entries listed first in the environment of results.json and the report (e.g. the CLI's version). */
  environment?: Readonly<Record<string, string>>;
}

/** The differential expression a benchmark runs with every trained model (see `Invae.differentialExpression`). */
export type BenchmarkDeOptions = Pick<DeOptions, 'groupby' | 'group' | 'reference' | 'delta' | 'fdrTarget' | 'samplesPerGroup' | 'seed'>;

/** Differential expression of one trained model. */
export interface BenchmarkDe {
  method: string;
  result: DeResult;
}

/** Leave-one-batch-out invariant prediction of every embedding. */
export interface BenchmarkInvariantPrediction {
  /** The label predicted. */
  label: string;
  /** How the latents were obtained (embedding or retrain protocol), in words. */
  protocol: string;
  retrain: boolean;
  methods: ReportInvariantPrediction[];
}

/** Identifiability of every embedding against the true latents obsm[`truthKey`]. */
export interface BenchmarkIdentifiability {
  truthKey: string;
  rows: ReportIdentifiability[];
}

/** The data set as results.json and the report describe it. */
export interface BenchmarkDatasetSummary {
  file: string;
  nCells: number;
  nGenes: number;
  /** Genes of the input, before highly-variable-gene selection. */
  genesIn: number;
  geneSelection: string;
  batchKey: string;
  labelKey: string;
  layer: string | null;
  batches: { name: string; cells: number }[];
  labels: { name: string; cells: number }[];
}

/** What {@link runBenchmark} returns. */
export interface BenchmarkRun {
  /** The scib-metrics table: per method every metric and the aggregates. */
  results: BenchmarkResults;
  /** Preset, epochs and label use of each method. */
  methodInfo: Record<string, MethodInfo>;
  /** Training seconds of each trained method. */
  trainingSeconds: Record<string, number>;
  /** Leave-one-batch-out invariant prediction; null when off or with a single batch. */
  invariantPrediction: BenchmarkInvariantPrediction | null;
  /** Identifiability; null without true latents. */
  identifiability: BenchmarkIdentifiability | null;
  /** The embeddings scored, by method name. */
  embeddings: Record<string, Embedding>;
  /** Training history of each trained method. */
  histories: Record<string, TrainHistory>;
  /** The UMAP plots, by method name (empty when off). */
  umaps: Record<string, BenchmarkUmap>;
  dataset: BenchmarkDatasetSummary;
  timings: BenchmarkTiming[];
  environment: Record<string, string>;
  /** results.json's content (also printed by `invae bench --json`). */
  json: BenchmarkResultsJson;
  /** results.md's text. */
  markdown: string;
  /** Every file of the report folder, by name (written to `outDir` when given). */
  files: ReportFiles;
}

/** The content of results.json. */
export type BenchmarkResultsJson = BenchmarkResults & {
  trainingSeconds: Record<string, number>;
  methodInfo: Record<string, MethodInfo>;
  dataset: BenchmarkDatasetSummary;
  identifiability: { truthKey: string; methods: Record<string, Omit<ReportIdentifiability, 'method'>> } | null;
  invariantPrediction: { label: string; protocol: string; retrain: boolean; methods: Record<string, unknown> } | null;
  umap: { nNeighbors: number; minDist: number; maxPoints: number; seed: number; methods: Record<string, unknown> } | null;
  timings: Record<string, number>;
  environment: Record<string, string>;
};

type Resolved = Required<Omit<RunBenchmarkOptions, 'seeds' | 'embeddings' | 'unintegrated' | 'inv' | 'spur' | 'epochs' | 'latentInv' | 'umapEpochs' | 'truth' | 'registerPriors' | 'outDir' | 'writeFolder' | 'onColumns' | 'layer' | 'startedAt'>> &
  Pick<RunBenchmarkOptions, 'seeds' | 'embeddings' | 'unintegrated' | 'inv' | 'spur' | 'epochs' | 'latentInv' | 'umapEpochs' | 'truth' | 'registerPriors' | 'outDir' | 'writeFolder' | 'onColumns' | 'layer' | 'startedAt'>;

function resolve(o: RunBenchmarkOptions): Resolved {
  return {
    methods: ['pca', 'finvae'],
    preset: 'integration',
    nTopGenes: DEFAULT_N_TOP_GENES,
    seed: 0,
    scale: false,
    umap: true,
    umapMaxPoints: 50_000,
    umapImpl: 'native',
    lobo: true,
    loboRetrain: false,
    loboClassifier: 'linear',
    log: () => undefined,
    timings: [],
    environment: {},
    ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)),
  } as unknown as Resolved;
}

/**
 * Checks the options of {@link runBenchmark} that need no data (known methods, something to score,
 * no obsm embedding named as a trained method), e.g. before claiming an output folder.
 * @throws InvalidOptionError
 */
export function checkBenchmarkOptions(options: Pick<RunBenchmarkOptions, 'methods' | 'embeddings' | 'seeds' | 'loboRetrain'>): void {
  const o = { methods: options.methods ?? ['pca', 'finvae'], embeddings: options.embeddings };
  const unknown = o.methods.filter((m) => !(BENCHMARK_METHODS as readonly string[]).includes(m));
  if (unknown.length) throw new InvalidOptionError('methods', `Unknown method(s) ${unknown.join(', ')}.`, { hint: `choose from ${BENCHMARK_METHODS.join(', ')}, or none` });
  if (!o.methods.length && !o.embeddings?.length) throw new InvalidOptionError('methods', 'Nothing to benchmark: no --methods and no --embeddings.', { hint: 'name methods to train, or obsm keys with --embeddings' });
  const clash = (o.embeddings ?? []).filter((k) => o.methods.some((m) => BENCHMARK_METHOD_NAMES[m] === k));
  if (clash.length) throw new InvalidOptionError('embeddings', `The obsm embedding '${clash[0]}' has the name of a trained method.`, { hint: 'rename it in obsm' });
  const seeds = options.seeds;
  if (seeds) {
    if (!seeds.length) throw new InvalidOptionError('seeds', 'No seeds.', { hint: 'give at least one seed, e.g. 0,1,2' });
    const bad = seeds.find((s) => !Number.isInteger(s) || s < 0);
    if (bad !== undefined) throw new InvalidOptionError('seeds', `The seed ${bad} is not a non-negative integer.`, { hint: 'e.g. 0,1,2' });
    if (o.embeddings?.length) throw new InvalidOptionError('embeddings', 'Embeddings computed elsewhere are not scored in a seeded run (they do not depend on the seed).', { hint: 'benchmark them in a run without seeds' });
    if (options.loboRetrain) throw new InvalidOptionError('loboRetrain', 'The retrain protocol of leave-one-batch-out is not available in a seeded run.', { hint: 'run it without seeds, or leave it off (the embedding protocol runs per seed)' });
  }
}

function protocolText(o: Resolved): string {
  const predictor = o.loboClassifier === 'knn' ? 'a 5-nearest-neighbour classifier' : 'a linear softmax classifier';
  const common = `For every batch, ${predictor} of '${o.label}' is fitted on the invariant latent of the cells of all other batches and predicts the cells of the held-out batch; accuracy and macro-F1 per held-out batch, and their unweighted mean. PCA and obsm embeddings are used as they are.`;
  if (o.loboRetrain) {
    return `Retrain protocol (--lobo-retrain): for every held-out batch, each trained model (scVI-equivalent, FinVAE, NFinVAE) is trained again on the other batches only and encodes the held-out cells without their label (their unseen batch encodes as zeros), as for new unlabelled data. ${common}`;
  }
  return `Embedding protocol (default, cheap): every model is trained once on all cells, the held-out batches included, so the representation is transductive. inVAE models whose invariant prior reads '${o.label}' encode the held-out cells without it (the label covariate set to zeros, as for new unlabelled data), so the label does not reach the prediction through the encoder; their training did see those labels. ${common} Pass --lobo-retrain for the held-out-batch protocol.`;
}

const asMatrix = (z: { data: Float32Array; nRows: number; nCols: number }): Embedding => ({ data: z.data, nRows: z.nRows, nCols: z.nCols });

/**
 * The benchmark of `invae bench`, from code: trains the chosen methods (scVI-equivalent, FinVAE,
 * NFinVAE with a preset) on the highly variable genes, adds PCA and embeddings computed elsewhere,
 * scores all with the scib-metrics set, leave-one-batch-out invariant prediction and (with true
 * latents) identifiability, draws UMAPs and loss curves, and builds the report folder
 * (results.json/csv/md/svg, report.html, plots) — written to `outDir` when given, atomically, at the
 * end. The input is an AnnData read by `@invae/io-anndata` (counts from X or `options.layer`, obs, obsm),
 * or a {@link BenchmarkInput} built in code.
 *
 * @example
 * ```ts
 * registerBuiltinPriors(); // from @invae/priors
 * const adata = await readH5ad('sim.h5ad'); // from @invae/io-anndata
 * const run = await runBenchmark(adata, { batch: 'batch', label: 'cell_type', methods: ['pca', 'scvi', 'finvae'], epochs: 5, outDir: 'bench-out' });
 * run.results.methods.map((m) => [m.embedding, m.aggregates.Total]);
 * ```
 * @throws InvalidOptionError for a bad option, a missing obs column or obsm key; BenchInputError
 * for too few cells or a missing prior.
 */
export async function runBenchmark(source: BenchmarkInput | AnnDataLike, options: RunBenchmarkOptions & { seeds: readonly number[] }): Promise<SeededBenchmarkRun>;
export async function runBenchmark(source: BenchmarkInput | AnnDataLike, options: RunBenchmarkOptions & { seeds?: undefined }): Promise<BenchmarkRun>;
export async function runBenchmark(source: BenchmarkInput | AnnDataLike, options: RunBenchmarkOptions): Promise<BenchmarkRun | SeededBenchmarkRun>;
export async function runBenchmark(source: BenchmarkInput | AnnDataLike, options: RunBenchmarkOptions): Promise<BenchmarkRun | SeededBenchmarkRun> {
  const input = isAnnDataInput(source) ? benchmarkInputOf(source, options.layer ?? null) : source;
  const tStart = performance.now();
  const o = resolve(options);
  checkBenchmarkOptions(o);
  const timings: BenchmarkTiming[] = [...o.timings];
  const prior = timings.reduce((s, t) => s + t.seconds, 0);
  const timed = async <T>(step: string, fn: () => T | Promise<T>): Promise<T> => {
    const t = performance.now();
    const r = await fn();
    timings.push({ step, seconds: (performance.now() - t) / 1000 });
    return r;
  };
  const log = o.log;
  // Warnings of the encoders are expected while held-out cells are encoded without their label/batch.
  const { warn, mute } = encoderWarnings(log);
  if (o.de) {
    if (o.seeds) throw new InvalidOptionError('de', 'Differential expression is not part of a seeded run.', { hint: 'run it without seeds' });
    checkDeGroups(o.de, input.data?.obs ?? input.obs ?? {}, o.methods.some((m) => m !== 'pca'));
  }
  const prepared = await prepareBenchmark(input, o, timed, () => timings.at(-1)!.seconds);
  if (o.seeds) return runSeeded(prepared, { ...o, seeds: o.seeds }, { timings, tStart, prior, warn, mute, writeReportFolder });
  const { name, data, labels, batches, external, truthKey, truth, unintegrated, pcaCoordinates } = prepared;

  const embeddings: Record<string, Embedding> = {};
  /** Latent of the held-out cells for leave-one-batch-out, where it differs from the embedding. */
  const predictLatents: Record<string, Embedding> = {};
  const trainSeconds: Record<string, number> = {};
  const methodInfo: Record<string, MethodInfo> = {};
  const histories: Record<string, TrainHistory> = {};
  const deRuns: BenchmarkDe[] = [];
  for (const method of o.methods) {
    const mname = BENCHMARK_METHOD_NAMES[method];
    if (method === 'pca') {
      embeddings[mname] = pcaCoordinates!;
      methodInfo[mname] = { preset: null, epochs: null, readsLabels: false };
      continue;
    }
    if (!data) throw new Error('unreachable: trained methods read the counts');
    const de = o.de;
    const m = await trainMethod(data, method, o, o.seed, warn, mute, de ? async (w, d) => {
      const result = await timed(`differential expression ${mname}`, () => w.differentialExpression(d, de));
      deRuns.push({ method: mname, result });
      log(`${mname}: ${result.nDe} of ${result.genes.length} genes called differentially expressed (${de.groupby}: ${de.group} vs ${de.reference ?? 'rest'})`);
    } : undefined);
    histories[mname] = m.history;
    methodInfo[mname] = m.info;
    embeddings[mname] = m.embedding;
    trainSeconds[mname] = m.seconds;
    timings.push({ step: `train ${mname} (${m.info.epochs} epochs)`, seconds: m.seconds });
    log(`${mname}: trained ${m.info.epochs} epochs (preset ${m.info.preset}) in ${m.seconds.toFixed(1)} s`);
    if (m.predictLatent) predictLatents[mname] = m.predictLatent;
  }
  Object.assign(embeddings, external);

  const neighbors = new Map<string, NeighborsResult>();
  const bm = new Benchmarker({
    embeddings,
    labels,
    batches,
    ...(unintegrated ? { unintegrated } : { metrics: { pcrComparison: false } }),
    seed: o.seed,
    onProgress: (e) => log(`  ${e.embedding}: ${e.metric} ${e.seconds.toFixed(1)} s${e.error ? ` — failed (NaN): ${e.error}` : ''}`),
    onNeighbors: o.umap ? (n, nn) => neighbors.set(n, subsetNeighbors(nn, 15)) : undefined,
  });
  bm.benchmark();
  const results = bm.getResults({ scale: o.scale ? 'minmax' : 'none' });
  for (const m of results.methods) timings.push({ step: `metrics ${m.embedding}`, seconds: Object.values(m.seconds).reduce((a, b) => a + b, 0) });

  // Identifiability against the simulator's true latents.
  let identifiability: BenchmarkIdentifiability | null = null;
  if (truth && truthKey) {
    identifiability = await timed('identifiability', () => {
      const rows: ReportIdentifiability[] = [];
      const safe = (fn: () => number) => {
        try {
          const v = fn();
          return Number.isFinite(v) ? v : null;
        } catch {
          return null;
        }
      };
      for (const [n, x] of Object.entries(embeddings)) {
        if (n === truthKey) continue;
        rows.push({ method: n, mccPearson: safe(() => meanCorrelationCoefficient(truth, x, 'pearson')), mccSpearman: safe(() => meanCorrelationCoefficient(truth, x, 'spearman')), linearR2: safe(() => linearR2(truth, x)) });
      }
      return { truthKey, rows };
    });
  }

  // Leave-one-batch-out invariant prediction.
  const lobo: ReportInvariantPrediction[] = [];
  if (o.lobo) {
    const nBatches = new Set(batches).size;
    if (nBatches < 2) log('invariant prediction skipped: a single batch');
    else {
      for (const [n, x] of Object.entries(embeddings)) {
        const method = (Object.keys(BENCHMARK_METHOD_NAMES) as BenchmarkMethod[]).find((k) => BENCHMARK_METHOD_NAMES[k] === n);
        const retrain = o.loboRetrain && method !== undefined && method !== 'pca';
        const result = await timed(`invariant prediction ${n}${retrain ? ' (retrained per batch)' : ''}`, async () => {
          let folds: LoboFold[];
          if (retrain) {
            folds = [];
            if (!data) throw new Error('unreachable: trained methods read the counts');
            const setup = methodSetup(method as Exclude<BenchmarkMethod, 'pca'>, o);
            const leak = labelCovariates(setup, o.label);
            for (const b of [...new Set(batches)].sort()) {
              const trainIdx: number[] = [];
              const testIdx: number[] = [];
              batches.forEach((v, i) => (v === b ? testIdx : trainIdx).push(i));
              const trainData = subsetDataset(data, trainIdx);
              const w = Invae.setup(trainData, setup, { warn });
              try {
                // the epochs of the model trained on all cells, so each fold trains as long
                await w.train(trainData, { epochs: methodInfo[n]?.epochs ?? o.epochs, seed: o.seed });
                const fit = asMatrix(w.latent(trainData, { part: 'inv' }));
                const test = mute(() => asMatrix(w.latent(withoutColumns(subsetDataset(data, testIdx), leak), { part: 'inv' })));
                folds.push({ heldOut: b, train: { latent: fit, labels: trainIdx.map((i) => labels[i]!) }, test: { latent: test, labels: testIdx.map((i) => labels[i]!) } });
              } finally {
                w.dispose();
              }
            }
          } else folds = leaveOneBatchOutFolds(x, labels, batches, predictLatents[n] ?? x);
          return leaveOneBatchOut(folds, { classifier: o.loboClassifier, seed: o.seed });
        });
        const note = retrain
          ? 'retrained without the held-out batch; held-out cells encoded without their label'
          : predictLatents[n]
            ? `held-out cells encoded without '${o.label}' (label covariate zeroed); model trained on all cells`
            : undefined;
        lobo.push({ method: n, result, ...(note ? { note } : {}) });
        log(`  ${n}: leave-one-batch-out accuracy ${result.mean.accuracy?.toFixed(3) ?? '–'}, macro-F1 ${result.mean.macroF1?.toFixed(3) ?? '–'}`);
      }
    }
  }
  const invariantPrediction: BenchmarkInvariantPrediction | null = lobo.length ? { label: o.label, protocol: protocolText(o), retrain: o.loboRetrain, methods: lobo } : null;

  const report = buildReport({
    name,
    embeddings,
    batches,
    labels,
    histories,
    neighbors,
    options: o,
    timings,
    onUmap: (n, u, seconds) => log(`  ${n}: UMAP of ${u.nPoints} cells in ${u.seconds.toFixed(1)} s (plots ${(seconds - u.seconds).toFixed(1)} s)`),
  });
  timings.push({ step: 'total', seconds: o.startedAt !== undefined ? (performance.now() - o.startedAt) / 1000 : prior + (performance.now() - tStart) / 1000 });

  const environment: Record<string, string> = {
    ...runEnvironment(o.environment),
    seed: String(o.seed),
    preset: o.preset,
    'epochs per model':
      Object.entries(methodInfo)
        .filter(([, m]) => m.epochs !== null)
        .map(([n, m]) => `${n} ${m.epochs}`)
        .join(', ') || '–',
  };
  const dataset = datasetSummary(prepared, o);

  const json: BenchmarkResultsJson = {
    ...results,
    trainingSeconds: trainSeconds,
    methodInfo,
    dataset,
    identifiability: identifiability ? { truthKey: identifiability.truthKey, methods: Object.fromEntries(identifiability.rows.map(({ method, ...v }) => [method, v])) } : null,
    invariantPrediction: invariantPrediction
      ? { label: o.label, protocol: invariantPrediction.protocol, retrain: o.loboRetrain, methods: Object.fromEntries(lobo.map((m) => [m.method, { ...m.result, ...(m.note ? { note: m.note } : {}) }])) }
      : null,
    umap: o.umap ? { nNeighbors: 15, minDist: 0.5, maxPoints: o.umapMaxPoints, seed: o.seed, methods: report.umapJson } : null,
    timings: Object.fromEntries(timings.map((t) => [t.step, t.seconds])),
    environment,
  };
  const { files, markdown } = report.finish({ results, json, dataset, methodInfo, identifiability, invariantPrediction, environment, de: deRuns });
  if (o.outDir !== undefined) {
    await (o.writeFolder ?? writeReportFolder)(o.outDir, files);
    log(`wrote ${o.outDir}/report.html`);
  }
  return { results, methodInfo, trainingSeconds: trainSeconds, invariantPrediction, identifiability, embeddings, histories, umaps: report.umaps, dataset, timings, environment, json, markdown, files };
}

/**
 * One job of a sharded benchmark (`invae bench run-job`): prepares the cells as {@link runBenchmark}
 * does, then trains `method` with `seed` (PCA: computed) and scores its embedding alone — the job a
 * seeded `runBenchmark` runs for that method and seed, with the same numbers. Its record is what
 * `mergeBenchmarkJobs` reads.
 * @throws InvalidOptionError, BenchInputError as {@link runBenchmark}.
 */
export async function runBenchmarkJob(source: BenchmarkInput | AnnDataLike, options: Omit<RunBenchmarkOptions, 'methods' | 'seeds' | 'seed'> & { method: BenchmarkMethod; seed: number }): Promise<BenchmarkJobResult> {
  const input = isAnnDataInput(source) ? benchmarkInputOf(source, options.layer ?? null) : source;
  const o = resolve({ ...options, methods: [options.method] });
  checkBenchmarkOptions({ methods: o.methods, seeds: [options.seed], embeddings: o.embeddings, loboRetrain: o.loboRetrain });
  const timings: BenchmarkTiming[] = [];
  const timed = async <T>(step: string, fn: () => T | Promise<T>): Promise<T> => {
    const t = performance.now();
    const r = await fn();
    timings.push({ step, seconds: (performance.now() - t) / 1000 });
    return r;
  };
  const prepared = await prepareBenchmark(input, o, timed, () => timings.at(-1)!.seconds);
  return benchmarkJob(prepared, datasetSummary(prepared, o), options.method, options.seed, o, encoderWarnings(o.log));
}

/** The report folder written atomically (@invae/common): files of the user's already in an existing folder stay. */
async function writeReportFolder(dest: string, files: ReadonlyMap<string, string | Uint8Array>): Promise<void> {
  await writeFolderAtomic(
    dest,
    async (tmp) => {
      for (const [name, content] of files) await writeFile(path.join(tmp, name), content);
    },
    { existing: 'merge' },
  );
}

/** Checks the differential-expression groups against the obs columns before any training. */
function checkDeGroups(de: BenchmarkDeOptions, obs: Readonly<Record<string, unknown>>, trains: boolean): void {
  if (!trains) throw new BenchInputError('de', 'Differential expression needs a trained model; the methods train none.', { hint: 'add a trained method (finvae, scvi), or leave de out' });
  const col = obs[de.groupby] as ArrayLike<unknown> | undefined;
  if (!col) throw new BenchInputError('de', `obs has no column '${de.groupby}' to group cells for differential expression.`, { hint: `available: ${Object.keys(obs).join(', ') || 'none'}` });
  const values = new Set(Array.from(col, (v) => (v === null || v === undefined ? v : String(v))));
  for (const g of [de.group, de.reference ?? null]) {
    if (g !== null && !values.has(g)) throw new BenchInputError('de', `no cell has ${de.groupby} = '${g}'.`, { hint: `values: ${[...values].filter((v) => v !== null && v !== undefined).slice(0, 20).join(', ')}` });
  }
}
