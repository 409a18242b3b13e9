import os from 'node:os';
import { VERSION as CORE_VERSION, Invae, InvalidOptionError, currentEngine, denseToCsr, initEngine, listPriors, type CsrMatrix, type TrainHistory, type WarnFn } from '@invae/core';
import { BenchInputError } from '../errors';
import { VERSION as BENCH_VERSION } from '../version';
import { logNormalize, pca } from '../embedding/pca';
import { DEFAULT_N_TOP_GENES, selectHighlyVariableGenes } from '../preprocess/hvg-dataset';
import type { Embedding } from '../internal/matrix';
import type { MethodInfo } from '../report/results-markdown';
import { obsmMatrix, obsStrings, withoutColumns, type BenchmarkDataset, type BenchmarkInput } from './input';
import { categoryCounts } from './report-files';
import type { BenchmarkDatasetSummary } from './run-benchmark';
import { BENCHMARK_METHOD_NAMES, labelCovariates, methodSetup, type BenchmarkMethod, type MethodSetupOptions } from './methods';

/** Cells the Benchmarker needs (90 neighbours). */
export const BENCHMARK_MIN_CELLS = 90;

/** What {@link prepareBenchmark} reads of the options (those of `runBenchmark`). */
export interface PrepareOptions {
  batch: string;
  label: string;
  methods: readonly BenchmarkMethod[];
  embeddings?: readonly string[];
  unintegrated?: string;
  nTopGenes?: number;
  truth?: string;
  registerPriors?: () => void | Promise<void>;
  log: (line: string) => void;
  onColumns?: (columns: { batch: readonly string[]; label: readonly string[] }) => void;
}

/** The cells of a benchmark once checked: the (highly variable) counts, labels, batches, PCA and obsm matrices. */
export interface PreparedBenchmark {
  name: string;
  data: BenchmarkDataset | null;
  counts: CsrMatrix | null;
  nCells: number;
  genesIn: number;
  geneSelection: string;
  labels: string[];
  batches: string[];
  external: Record<string, Embedding>;
  truthKey: string | undefined;
  truth: Embedding | null;
  unintegrated: Embedding | null;
  pcaCoordinates: Embedding | null;
}

const toCsr = (m: BenchmarkDataset): CsrMatrix => (m.counts.kind === 'csr' ? m.counts : denseToCsr(m.counts));

/**
 * Checks and prepares the cells of a benchmark (shared by every run and by each job of a sharded
 * one): registers the priors, selects the highly variable genes where methods are trained, reads
 * the batch and label columns and the obsm matrices, and computes the PCA of the log-normalised counts.
 * @throws InvalidOptionError, BenchInputError
 */
export async function prepareBenchmark(
  input: BenchmarkInput,
  o: PrepareOptions,
  timed: <T>(step: string, fn: () => T | Promise<T>) => Promise<T>,
  lastSeconds: () => number,
): Promise<PreparedBenchmark> {
  const log = o.log;
  let data = input.data ?? null;
  const trains = o.methods.some((m) => m !== 'pca');
  if (trains && !data) throw new BenchInputError('data', `The methods ${o.methods.join(', ')} need the counts; the input has none.`, { hint: 'pass input.data, or score obsm embeddings only (methods: [])' });
  if (trains) {
    await o.registerPriors?.();
    if (!listPriors().some((p) => p.name === 'gaussian')) {
      throw new BenchInputError('registerPriors', "The benchmark's models need the prior 'gaussian', which is not registered.", {
        hint: "call registerBuiltinPriors() from @invae/priors first, or pass it as options.registerPriors",
      });
    }
  }
  if ((data || trains) && !currentEngine()) await initEngine({ report: null });
  const obs = data?.obs ?? input.obs ?? {};
  let counts = data ? toCsr(data) : null;
  const genesIn = counts?.shape[1] ?? 0;
  let geneSelection = 'all genes';
  // Highly variable genes only where methods are trained (the counts then go to the models).
  if (data && o.methods.length) {
    const d = data;
    const genes = await timed('highly variable genes', () => selectHighlyVariableGenes(d, { nTopGenes: o.nTopGenes ?? DEFAULT_N_TOP_GENES, batchKey: o.batch }));
    if (genes.hvg) {
      data = genes.data;
      counts = toCsr(data);
      geneSelection = `seurat_v3, ${genes.genes.length} highly variable genes by '${o.batch}'`;
      log(`${genes.genes.length} highly variable genes of ${genesIn} (seurat_v3 by '${o.batch}'): ${lastSeconds().toFixed(1)} s`);
    }
  }
  const labels = obsStrings(obs, o.label, 'label');
  const batches = obsStrings(obs, o.batch, 'batch');
  o.onColumns?.({ batch: batches, label: labels });
  const nCells = counts?.shape[0] ?? input.cellNames?.length ?? labels.length;
  const name = input.name ?? 'dataset';
  if (nCells < BENCHMARK_MIN_CELLS) throw new InvalidOptionError('file', `${name} has ${nCells} cells; the benchmark needs at least ${BENCHMARK_MIN_CELLS} (90 neighbours).`);
  // Embeddings computed elsewhere and the true latents are checked before any training.
  const obsm = input.obsm ?? {};
  const external: Record<string, Embedding> = {};
  for (const key of o.embeddings ?? []) external[key] = obsmMatrix(obsm, key, nCells, 'embeddings');
  const truthKey = o.truth ?? ('X_true_inv' in obsm ? 'X_true_inv' : undefined);
  const truth = truthKey ? obsmMatrix(obsm, truthKey, nCells, 'truth') : null;

  let unintegrated: Embedding | null = o.unintegrated ? obsmMatrix(obsm, o.unintegrated, nCells, 'unintegrated') : null;
  let pcaCoordinates: Embedding | null = null;
  if (counts) {
    const c = counts;
    const nComps = Math.min(50, c.shape[0] - 1, c.shape[1]);
    pcaCoordinates = await timed('PCA (unintegrated)', () => pca(logNormalize(c), nComps).coordinates);
    unintegrated ??= pcaCoordinates;
    log(`PCA (${nComps} components of log-normalised counts): ${lastSeconds().toFixed(1)} s`);
  } else if (!unintegrated) log('PCR comparison skipped: the file has no counts and no --unintegrated embedding');
  if (o.methods.includes('pca') && !pcaCoordinates) throw new BenchInputError('data', 'PCA needs the counts; the input has none.', { hint: 'pass input.data, or leave pca out of the methods' });
  return { name, data, counts, nCells, genesIn, geneSelection, labels, batches, external, truthKey, truth, unintegrated, pcaCoordinates };
}

/** What a trained method's model is built and trained with. */
export interface TrainMethodOptions extends Omit<MethodSetupOptions, 'seed'> {
  epochs?: number;
  /** Whether leave-one-batch-out (embedding protocol) needs the held-out encoding without the label. */
  lobo: boolean;
  loboRetrain: boolean;
}

/** A trained method's embedding, history and description. */
export interface TrainedMethod {
  name: string;
  embedding: Embedding;
  /** Latent of the cells encoded without the label covariate (leave-one-batch-out), where it differs from the embedding. */
  predictLatent: Embedding | null;
  history: TrainHistory;
  info: MethodInfo;
  seconds: number;
}

const asMatrix = (z: { data: Float32Array; nRows: number; nCols: number }): Embedding => ({ data: z.data, nRows: z.nRows, nCols: z.nCols });

/**
 * Trains one method (scVI-equivalent, FinVAE, NFinVAE) with `seed` and encodes every cell (the
 * invariant latent); `mute` silences the encoder's warnings while held-out cells are encoded
 * without their label.
 */
export async function trainMethod(
  data: BenchmarkDataset,
  method: Exclude<BenchmarkMethod, 'pca'>,
  o: TrainMethodOptions,
  seed: number,
  warn: WarnFn,
  mute: <T>(fn: () => T) => T,
  /** Runs on the trained model before it is disposed (e.g. differential expression); not timed as training. */
  withModel?: (model: Invae, data: BenchmarkDataset) => Promise<void>,
): Promise<TrainedMethod> {
  const name = BENCHMARK_METHOD_NAMES[method];
  const t = performance.now();
  const setup = methodSetup(method, { ...o, seed });
  const w = Invae.setup(data, setup, { warn });
  try {
    const history = await w.train(data, { epochs: o.epochs, seed });
    const info: MethodInfo = { preset: w.preset.name, epochs: history.epochs.length, readsLabels: (setup.invariant?.categorical ?? []).length > 0 || (setup.invariant?.continuous ?? []).length > 0 };
    const embedding = asMatrix(w.latent(data, { part: 'inv' }));
    const seconds = (performance.now() - t) / 1000;
    const leak = labelCovariates(setup, o.label);
    const predictLatent = o.lobo && !o.loboRetrain && leak.length ? mute(() => asMatrix(w.latent(withoutColumns(data, leak), { part: 'inv' }))) : null;
    await withModel?.(w, data);
    return { name, embedding, predictLatent, history, info, seconds };
  } finally {
    w.dispose();
  }
}

/** The data set as results.json and the report describe it. */
export function datasetSummary(p: PreparedBenchmark, o: { batch: string; label: string; layer?: string | null }): BenchmarkDatasetSummary {
  return {
    file: p.name,
    nCells: p.nCells,
    nGenes: p.counts?.shape[1] ?? 0,
    genesIn: p.genesIn,
    geneSelection: p.geneSelection,
    batchKey: o.batch,
    labelKey: o.label,
    layer: o.layer ?? null,
    batches: categoryCounts(p.batches),
    labels: categoryCounts(p.labels),
  };
}

/** The environment entries of every report (versions, engine, platform), after the caller's `first`. */
export function runEnvironment(first: Readonly<Record<string, string>>): Record<string, string> {
  const engine = currentEngine();
  return {
    ...first,
    '@invae/core': CORE_VERSION,
    '@invae/bench': BENCH_VERSION,
    engine: engine ? `${engine.engine} (${engine.package} ${engine.packageVersion}, tfjs-core ${engine.tfjsVersion})` : 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}, ${os.cpus().length} CPUs`,
  };
}

/**
 * The encoders' warnings as progress lines, and `mute`, which silences them while `fn` runs (warnings
 * are expected while held-out cells are encoded without their label or batch).
 */
export function encoderWarnings(log: (line: string) => void): { warn: WarnFn; mute: <T>(fn: () => T) => T } {
  let muted = false;
  return {
    warn: (m: string) => {
      if (!muted) log(`warning: ${m}`);
    },
    mute: <T>(fn: () => T): T => {
      muted = true;
      try {
        return fn();
      } finally {
        muted = false;
      }
    },
  };
}
