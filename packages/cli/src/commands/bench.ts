import os from 'node:os';
import path from 'node:path';
import { Option, type Command } from 'commander';
import {
  DEFAULT_PRESET,
  Invae,
  InvalidOptionError,
  PRESETS,
  VERSION as CORE_VERSION,
  currentEngine,
  csrMatrix,
  denseToCsr,
  getPreset,
  initEngine,
  type CsrMatrix,
  type InvaeDataset,
  type InvaeSetup,
  type PresetName,
  type TrainHistory,
} from '@invae/core';
import { readH5ad, type AnnData } from '@invae/io-anndata';
import {
  Benchmarker,
  DEFAULT_N_TOP_GENES,
  VERSION as BENCH_VERSION,
  encodeCategorical,
  leaveOneBatchOut,
  leaveOneBatchOutFolds,
  linearR2,
  logNormalize,
  meanCorrelationCoefficient,
  pca,
  pngSize,
  reportHtml,
  resultsTableSvg,
  scatterSvg,
  selectHighlyVariableGenes,
  subsetNeighbors,
  svgToPng,
  umapEmbedding,
  type BenchmarkResults,
  type CategoryCount,
  type LoboFold,
  type LoboResult,
  type Matrix,
  type NeighborsResult,
  type ReportIdentifiability,
  type ReportInvariantPrediction,
  type ReportLossCurve,
  type ReportUmap,
} from '@invae/bench';
import { loadDataset, obsColumns, toCountMatrix } from '../dataset';
import { lossPlot } from '../loss-plot';
import { integer, list } from '../parse';
import { claimOutput, writeFolderAtomically } from '../output';
import { checkInputFile } from '../fs-errors';
import { categoricalWarning, continuousLooking, printWarnings } from '../covariates';
import { loadPlugins } from '../plugins';
import type { GlobalOptions } from '../program';
import { VERSION as CLI_VERSION } from '../version';

interface BenchCliOptions {
  batch: string;
  label: string;
  methods: string[];
  embeddings?: string[];
  inv?: string[];
  spur?: string[];
  layer?: string;
  preset: PresetName;
  nTopGenes: number;
  epochs?: number;
  latentInv?: number;
  seed: number;
  scale: boolean;
  out: string;
  umap: boolean;
  umapMaxPoints: number;
  umapEpochs?: number;
  umapImpl: 'native' | 'umap-js';
  lobo: boolean;
  loboRetrain?: boolean;
  loboClassifier: 'linear' | 'knn';
  truth?: string;
  unintegrated?: string;
  overwrite?: boolean;
  json?: boolean;
  quiet?: boolean;
  /** Print no table on stdout (callers that print their own summary). */
  noTable?: boolean;
}

const METHODS = ['pca', 'scvi', 'finvae', 'nfinvae'] as const;
type Method = (typeof METHODS)[number];
const METHOD_NAMES: Record<Method, string> = { pca: 'PCA', scvi: 'scVI-equivalent', finvae: 'FinVAE', nfinvae: 'NFinVAE' };
/** Cells the Benchmarker needs (90 neighbours). */
const MIN_CELLS = 90;

/**
 * The model each trained method stands for: inVAE's two families with the chosen preset, and scVI's
 * equivalent (N(0, I) prior, batch injected in the decoder, no label; the same network sizes,
 * dropout and epochs as the preset gives inVAE).
 */
function methodSetup(method: Exclude<Method, 'pca'>, o: BenchCliOptions): InvaeSetup {
  const inv = o.inv ?? [o.label];
  const spur = o.spur ?? [o.batch];
  const preset = getPreset(o.preset);
  const common = { latentDimInv: o.latentInv ?? PRESETS.integration.options.latentDimInv, seed: o.seed };
  if (method === 'scvi') {
    return {
      preset: o.preset,
      model: 'FinVAE',
      invariant: {},
      spurious: { categorical: spur },
      // β = 1 and an N(0, I) prior whatever the preset (the preset's β belongs to inVAE's label-conditioned prior)
      options: { ...common, latentDimSpur: 0, injectCovarInLatent: true, klRate: 1, dropoutRate: preset.options.dropoutRate ?? 0.1 },
      invPrior: { name: 'gaussian', options: { fixMean: true, fixVar: true } },
      spurPrior: null,
    };
  }
  return {
    preset: o.preset,
    model: method === 'finvae' ? 'FinVAE' : 'NFinVAE',
    invariant: { categorical: inv },
    spurious: { categorical: spur },
    // the reference preset keeps the issue-14 protocol's 2 spurious latents
    options: o.preset === 'reference' ? { ...common, latentDimSpur: 2 } : common,
  };
}

/** What the table says of a trained method: its preset, epochs, and whether it reads the labels (as scANVI does). */
interface MethodInfo {
  preset: PresetName | null;
  epochs: number | null;
  readsLabels: boolean;
}

/** The obs keys of a setup's invariant covariates that are the label itself (they would leak it into a held-out encoding). */
function labelCovariates(setup: InvaeSetup, label: string): string[] {
  return (setup.invariant?.categorical ?? []).filter((k) => k === label);
}

function column(obs: InvaeDataset['obs'], key: string, flag: string): string[] {
  const col = obs[key];
  if (!col) throw new InvalidOptionError(flag, `obs has no column '${key}' (available: ${Object.keys(obs).join(', ')}).`);
  const values = Array.from(col as ArrayLike<unknown>, (v) => (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v)) ? '' : String(v)));
  const missing = values.reduce((n, v) => n + (v === '' ? 1 : 0), 0);
  if (missing) {
    throw new InvalidOptionError(flag, `obs['${key}'] has ${missing} missing value${missing === 1 ? '' : 's'} (first at cell ${values.indexOf('')}).`, {
      hint: 'drop those cells or fill them in before benchmarking',
    });
  }
  return values;
}

/** A dense 2-D obsm entry as a float matrix, checked against the number of cells and for non-finite values. */
function obsmMatrix(adata: AnnData, key: string, nCells: number, flag: string): Matrix {
  const m = adata.obsm[key];
  if (!m || !('kind' in m) || m.kind !== 'dense' || m.shape.length !== 2) {
    throw new InvalidOptionError(flag, `obsm has no dense 2-D embedding '${key}' (obsm: ${Object.keys(adata.obsm).join(', ') || 'none'}).`);
  }
  const [rows, cols] = [m.shape[0]!, m.shape[1]!];
  if (rows !== nCells) throw new InvalidOptionError(flag, `obsm['${key}'] has ${rows} rows but the data has ${nCells} cells.`, { hint: 'an embedding needs one row per cell, in obs order' });
  const data = Float32Array.from(m.data as ArrayLike<number>);
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new InvalidOptionError(flag, `obsm['${key}'] has a non-finite value (${data[bad]}) at cell ${Math.floor(bad / cols)}, dimension ${bad % cols}.`, {
      hint: 'impute or drop those cells, or leave the embedding out',
    });
  }
  return { data, nRows: rows, nCols: cols };
}

/** The rows `idx` of a dataset (counts as CSR, every obs column). */
function subsetDataset(data: InvaeDataset, idx: readonly number[]): InvaeDataset {
  const m = data.counts.kind === 'csr' ? data.counts : denseToCsr(data.counts);
  let nnz = 0;
  for (const r of idx) nnz += m.indptr[r + 1]! - m.indptr[r]!;
  const indptr = new Float64Array(idx.length + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let q = 0;
  idx.forEach((r, i) => {
    for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) {
      indices[q] = m.indices[p]!;
      values[q++] = m.data[p]!;
    }
    indptr[i + 1] = q;
  });
  const obs: Record<string, unknown[]> = {};
  for (const [k, col] of Object.entries(data.obs)) if (col) obs[k] = idx.map((i) => (col as ArrayLike<unknown>)[i]);
  return { counts: csrMatrix(idx.length, m.nCols, indptr, indices, values), geneNames: data.geneNames, obs: obs as InvaeDataset['obs'] };
}

function withoutColumns(data: InvaeDataset, keys: readonly string[]): InvaeDataset {
  const obs = { ...data.obs };
  for (const k of keys) delete (obs as Record<string, unknown>)[k];
  return { ...data, obs };
}

function asMatrix(z: { data: Float32Array; nRows: number; nCols: number }): Matrix {
  return { data: z.data, nRows: z.nRows, nCols: z.nCols };
}

/** A file-name-safe form of a method name (unique among `taken`). */
function fileStem(name: string, taken: Set<string>): string {
  const base = name.replace(/[^A-Za-z0-9_.-]+/g, '_') || 'method';
  let stem = base;
  for (let i = 2; taken.has(stem); i++) stem = `${base}_${i}`;
  taken.add(stem);
  return stem;
}

function categoryCounts(values: readonly string[]): CategoryCount[] {
  const enc = encodeCategorical(values, 'values');
  return enc.categories.map((c, i) => ({ name: String(c), cells: enc.counts[i]! }));
}

/** results.csv: one row per method, every metric and aggregate as a column. */
export function resultsCsv(r: BenchmarkResults): string {
  const metrics = Object.keys(r.metricTypes);
  const aggregates = ['Batch correction', 'Bio conservation', 'Total'];
  const cell = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));
  const rows = r.methods.map((m) => [m.embedding, ...metrics.map((k) => cell(m.metrics[k as keyof typeof m.metrics])), ...aggregates.map((k) => cell(m.aggregates[k as keyof typeof m.aggregates]))]);
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return `${[['method', ...metrics, ...aggregates], ...rows].map((row) => row.map(quote).join(',')).join('\n')}\n`;
}

/** Extra sections of results.md. */
interface MarkdownExtras {
  invariantPrediction?: { label: string; methods: { method: string; result: LoboResult }[] } | null;
  identifiability?: { truthKey: string; rows: ReportIdentifiability[] } | null;
  /** Preset, epochs and label use of the trained methods (methods reading the labels get a dagger). */
  methodInfo?: Record<string, MethodInfo>;
  /** What the dagger means. */
  labelNote?: string;
}

/** results.md: the table sorted by Total, as scib-metrics' results table (plus invariant prediction and identifiability when given). */
export function resultsMarkdown(r: BenchmarkResults, extras: MarkdownExtras = {}): string {
  const metrics = Object.keys(r.metricTypes);
  const aggregates = ['Batch correction', 'Bio conservation', 'Total'];
  const sorted = [...r.methods].sort((a, b) => (b.aggregates.Total ?? -Infinity) - (a.aggregates.Total ?? -Infinity));
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(3));
  const head = ['Method', ...metrics, ...aggregates];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  const info = extras.methodInfo ?? {};
  for (const m of sorted) {
    const name = info[m.embedding]?.readsLabels ? `${m.embedding} †` : m.embedding;
    lines.push(`| ${[name, ...metrics.map((k) => fmt(m.metrics[k as keyof typeof m.metrics])), ...aggregates.map((k) => fmt(m.aggregates[k as keyof typeof m.aggregates]))].join(' | ')} |`);
  }
  let text = `${lines.join('\n')}\n\n${r.nCells} cells, ${r.nLabels} labels, ${r.nBatches} batches; scib-metrics ${r.scibMetrics} definitions, scale: ${r.scale}.\n`;
  const trained = Object.entries(info).filter(([, m]) => m.preset);
  if (trained.length) {
    if (Object.values(info).some((m) => m.readsLabels) && extras.labelNote) text += `† ${extras.labelNote}.\n`;
    text += `Trained methods: ${trained.map(([n, m]) => `${n} (preset ${m.preset}, ${m.epochs} epochs)`).join('; ')}.\n`;
  }
  const ip = extras.invariantPrediction;
  if (ip && ip.methods.length) {
    text += `\nInvariant prediction of '${ip.label}', leave one batch out (mean over held-out batches):\n\n| Method | Predictor | Accuracy | Macro-F1 |\n| --- | --- | --- | --- |\n`;
    for (const m of ip.methods) text += `| ${m.method} | ${m.result.classifier} | ${fmt(m.result.mean.accuracy)} | ${fmt(m.result.mean.macroF1)} |\n`;
  }
  const idf = extras.identifiability;
  if (idf && idf.rows.length) {
    text += `\nIdentifiability against obsm['${idf.truthKey}']:\n\n| Method | MCC (Pearson) | MCC (Spearman) | Linear R² |\n| --- | --- | --- | --- |\n`;
    for (const m of idf.rows) text += `| ${m.method} | ${fmt(m.mccPearson)} | ${fmt(m.mccSpearman)} | ${fmt(m.linearR2)} |\n`;
  }
  return text;
}

function protocolText(o: BenchCliOptions): string {
  const predictor = o.loboClassifier === 'knn' ? 'a 5-nearest-neighbour classifier' : 'a linear softmax classifier';
  const common = `For every batch, ${predictor} of '${o.label}' is fitted on the invariant latent of the cells of all other batches and predicts the cells of the held-out batch; accuracy and macro-F1 per held-out batch, and their unweighted mean. PCA and obsm embeddings are used as they are.`;
  if (o.loboRetrain) {
    return `Retrain protocol (--lobo-retrain): for every held-out batch, each trained model (scVI-equivalent, FinVAE, NFinVAE) is trained again on the other batches only and encodes the held-out cells without their label (their unseen batch encodes as zeros), as for new unlabelled data. ${common}`;
  }
  return `Embedding protocol (default, cheap): every model is trained once on all cells, the held-out batches included, so the representation is transductive. inVAE models whose invariant prior reads '${o.label}' encode the held-out cells without it (the label covariate set to zeros, as for new unlabelled data), so the label does not reach the prediction through the encoder; their training did see those labels. ${common} Pass --lobo-retrain for the held-out-batch protocol.`;
}

/**
 * The input of a benchmark: obs, obsm and, when there are any, the counts (X or `layer`) as CSR.
 * Counts are required only when methods are trained or PCA is scored (`needCounts`); embeddings
 * alone are scored from obsm, so a file without X (or with 0 genes) is fine then.
 */
async function readInput(file: string, layer: string | undefined, needCounts: boolean): Promise<{ adata: AnnData; data: InvaeDataset | null; obs: InvaeDataset['obs']; counts: CsrMatrix | null }> {
  if (needCounts) {
    const { adata, data } = await loadDataset(file, layer);
    return { adata, data, obs: data.obs, counts: data.counts.kind === 'csr' ? data.counts : denseToCsr(data.counts) };
  }
  const adata = await readH5ad(file, { X: !layer, requireX: false, layers: Boolean(layer) });
  const matrix = layer ? adata.layers[layer] : adata.X;
  if (layer && !matrix) throw new InvalidOptionError('layer', `${file} has no layer '${layer}' (layers: ${Object.keys(adata.layers).join(', ') || 'none'}).`, { hint: 'omit --layer to use X' });
  const m = matrix && matrix.shape.length === 2 && matrix.shape[1]! > 0 ? toCountMatrix(matrix) : null;
  const obs = obsColumns(adata) as InvaeDataset['obs'];
  return { adata, data: null, obs, counts: m ? (m.kind === 'csr' ? m : denseToCsr(m)) : null };
}

/** `invae bench FILE.h5ad --batch KEY --label KEY --out DIR`: scib-metrics table of several methods, UMAPs and an HTML report. */
export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('benchmark integrations with the scib-metrics set: PCA, scVI-equivalent, FinVAE, NFinVAE and embeddings in obsm; UMAPs and report.html')
    .argument('<file>', 'input .h5ad with raw counts')
    .requiredOption('--batch <key>', 'obs key of the batches')
    .requiredOption('--label <key>', 'obs key of the cell labels')
    .requiredOption('-o, --out <dir>', 'output directory (results.json/csv/md/svg, umap_<method>_<batch|label>.svg/png, loss_<method>.svg/png, report.html)')
    .option('--methods <list>', `methods to train and score (${METHODS.join(', ')}); none (or '') scores only --embeddings, which needs no counts`, list, ['pca', 'finvae'])
    .option('--embeddings <keys>', 'obsm keys of embeddings computed elsewhere (e.g. X_scVI,X_harmony)', list)
    .option('--unintegrated <key>', 'obsm key of the unintegrated embedding for PCR comparison (default: PCA of the log-normalised counts; without counts and without this key, PCR comparison is skipped)')
    .option('--inv <keys>', 'invariant covariates of the inVAE models (default: --label)', list)
    .option('--spur <keys>', 'spurious covariates of the inVAE models (default: --batch)', list)
    .option('--layer <name>', 'read counts from this layer instead of X')
    .addOption(
      new Option('--preset <name>', `defaults of the inVAE models (FinVAE, NFinVAE): ${Object.values(PRESETS).map((p) => `${p.name} (${p.description})`).join('; ')}`)
        .choices(Object.keys(PRESETS))
        .default(DEFAULT_PRESET),
    )
    .option('--n-top-genes <n>', 'benchmark on the N highly variable genes (seurat_v3 on the raw counts, by --batch) when the data has more; 0 keeps every gene', integer(0), DEFAULT_N_TOP_GENES)
    .option('--epochs <n>', "training epochs of each model (default: the preset's, from the number of cells)", integer(1))
    .option('--latent-inv <n>', 'latent dimensions of each model (invariant block; default 10)', integer(1))
    .option('--seed <n>', 'random seed', integer(0), 0)
    .option('--scale', 'min-max scale every metric across methods before aggregating')
    .option('--no-umap', 'skip the UMAP plots (faster)')
    .option('--umap-max-points <n>', 'UMAP at most this many cells (a seeded random subset beyond)', integer(100), 50_000)
    .option('--umap-epochs <n>', 'UMAP optimisation epochs (default: 500 up to 10 000 points, else 200)', integer(1))
    .addOption(new Option('--umap-impl <name>', "UMAP layout code: @invae/bench's own or the umap-js package (slower)").choices(['native', 'umap-js']).default('native'))
    .option('--no-lobo', 'skip the leave-one-batch-out invariant prediction')
    .option('--lobo-retrain', 'leave-one-batch-out: retrain every model without the held-out batch (slow: one training per batch and model)')
    .addOption(new Option('--lobo-classifier <kind>', 'leave-one-batch-out predictor').choices(['linear', 'knn']).default('linear'))
    .option('--truth <key>', "obsm key of true latents for identifiability (default: X_true_inv when present, as written by 'invae simulate')")
    .option('--plugin <path|package>', 'load a prior plugin (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--overwrite', 'replace an existing output directory')
    .option('--json', 'print results.json to stdout')
    .option('--quiet', 'no progress output')
    .action(async (file: string, opts: BenchCliOptions & { plugin?: string[] }, cmd: Command) => {
      opts.methods = opts.methods.filter((m) => m !== 'none');
      const unknown = opts.methods.filter((m) => !(METHODS as readonly string[]).includes(m));
      if (unknown.length) throw new InvalidOptionError('methods', `Unknown method(s) ${unknown.join(', ')}.`, { hint: `choose from ${METHODS.join(', ')}, or none` });
      if (!opts.methods.length && !opts.embeddings?.length) throw new InvalidOptionError('methods', 'Nothing to benchmark: no --methods and no --embeddings.', { hint: 'name methods to train, or obsm keys with --embeddings' });
      const clash = (opts.embeddings ?? []).filter((k) => opts.methods.some((m) => METHOD_NAMES[m as Method] === k));
      if (clash.length) throw new InvalidOptionError('embeddings', `The obsm embedding '${clash[0]}' has the name of a trained method.`, { hint: 'rename it in obsm' });
      await checkInputFile(file, 'file', '.h5ad file');
      // The output folder is claimed before the long run: a second bench to it fails now, not at the end.
      const lock = await claimOutput(opts.out, { inputs: [file], overwrite: opts.overwrite });
      try {
        await runBench(file, opts, cmd.optsWithGlobals<GlobalOptions>());
      } finally {
        lock.release();
      }
    });
}

/** What {@link runBench} returns: results.json's content, the embeddings scored and the training histories. */
export interface BenchRun {
  results: Record<string, unknown> & { methodInfo: Record<string, MethodInfo> };
  embeddings: Record<string, Matrix>;
  histories: Record<string, TrainHistory>;
}

/** Every option of `invae bench` (as commander parses them). */
export type BenchOptions = BenchCliOptions & { plugin?: string[] };

/**
 * The benchmark run of `invae bench` (and of `invae demo`), once its output folder is claimed: trains
 * and scores the methods on `file`, writes every file at the end through a temporary folder, prints
 * the table and returns the results.
 */
export async function runBench(file: string, opts: BenchOptions, global: GlobalOptions): Promise<BenchRun> {
  const tStart = performance.now();
  const timings: { step: string; seconds: number }[] = [];
  const timed = async <T>(step: string, fn: () => T | Promise<T>): Promise<T> => {
    const t = performance.now();
    const r = await fn();
    timings.push({ step, seconds: (performance.now() - t) / 1000 });
    return r;
  };
  await initEngine({ backend: global.backend, report: opts.json || opts.quiet ? null : undefined });
  await loadPlugins(opts.plugin);
  const log = (m: string) => {
    if (!opts.quiet && !opts.json) process.stderr.write(`${m}\n`);
  };
  // Warnings of the encoders are expected while held-out cells are encoded without their label/batch.
  let muted = false;
  const warn = (m: string) => {
    if (!muted) log(`warning: ${m}`);
  };
  // Methods need the counts; obsm embeddings alone are scored without them (as scib-metrics does).
  const input = await timed('read data', () => readInput(file, opts.layer, opts.methods.length > 0));
  const { adata, obs } = input;
  const genesIn = input.counts?.nCols ?? 0;
  let { data, counts } = input;
  let geneSelection = 'all genes';
  if (data) {
    const genes = await timed('highly variable genes', () => selectHighlyVariableGenes(data!, { nTopGenes: opts.nTopGenes, batchKey: opts.batch }));
    if (genes.hvg) {
      data = genes.data;
      counts = data.counts.kind === 'csr' ? data.counts : denseToCsr(data.counts);
      geneSelection = `seurat_v3, ${genes.genes.length} highly variable genes by '${opts.batch}'`;
      log(`${genes.genes.length} highly variable genes of ${genesIn} (seurat_v3 by '${opts.batch}'): ${timings.at(-1)!.seconds.toFixed(1)} s`);
    }
  }
  const nCells = adata.nObs;
  const labels = column(obs, opts.label, 'label');
  const batches = column(obs, opts.batch, 'batch');
  const batchLike = continuousLooking(batches);
  if (batchLike) printWarnings([categoricalWarning('--batch', opts.batch, batchLike, 'bench scores every distinct value as a batch, so check that --batch names the batch column')]);
  if (nCells < MIN_CELLS) throw new InvalidOptionError('file', `${file} has ${nCells} cells; the benchmark needs at least ${MIN_CELLS} (90 neighbours).`);
  // Embeddings computed elsewhere and the true latents are checked before any training.
  const external: Record<string, Matrix> = {};
  for (const key of opts.embeddings ?? []) external[key] = obsmMatrix(adata, key, nCells, 'embeddings');
  const truthKey = opts.truth ?? ('X_true_inv' in adata.obsm ? 'X_true_inv' : undefined);
  const truth = truthKey ? obsmMatrix(adata, truthKey, nCells, 'truth') : null;

  let unintegrated: Matrix | null = opts.unintegrated ? obsmMatrix(adata, opts.unintegrated, nCells, 'unintegrated') : null;
  let pcaCoordinates: Matrix | null = null;
  if (counts) {
    const nComps = Math.min(50, counts.nRows - 1, counts.nCols);
    pcaCoordinates = await timed('PCA (unintegrated)', () => pca(logNormalize(counts), nComps).coordinates);
    unintegrated ??= pcaCoordinates;
    log(`PCA (${nComps} components of log-normalised counts): ${timings.at(-1)!.seconds.toFixed(1)} s`);
  } else if (!unintegrated) log('PCR comparison skipped: the file has no counts and no --unintegrated embedding');

  const embeddings: Record<string, Matrix> = {};
  /** Latent of the held-out cells for leave-one-batch-out, where it differs from the embedding. */
  const predictLatents: Record<string, Matrix> = {};
  const trainSeconds: Record<string, number> = {};
  const methodInfo: Record<string, MethodInfo> = {};
  const histories: Record<string, TrainHistory> = {};
  for (const method of opts.methods as Method[]) {
    const name = METHOD_NAMES[method];
    if (method === 'pca') {
      embeddings[name] = pcaCoordinates!;
      methodInfo[name] = { preset: null, epochs: null, readsLabels: false };
      continue;
    }
    if (!data) throw new Error('unreachable: trained methods read the counts');
    const t = performance.now();
    const setup = methodSetup(method, opts);
    const w = Invae.setup(data, setup, { warn });
    try {
      const history = await w.train(data, { epochs: opts.epochs, seed: opts.seed });
      histories[name] = history;
      const epochs = history.epochs.length;
      methodInfo[name] = { preset: w.preset.name, epochs, readsLabels: (setup.invariant?.categorical ?? []).length > 0 || (setup.invariant?.continuous ?? []).length > 0 };
      embeddings[name] = asMatrix(w.latent(data, { part: 'inv' }));
      trainSeconds[name] = (performance.now() - t) / 1000;
      timings.push({ step: `train ${name} (${epochs} epochs)`, seconds: trainSeconds[name]! });
      log(`${name}: trained ${epochs} epochs (preset ${w.preset.name}) in ${trainSeconds[name]!.toFixed(1)} s`);
      const leak = labelCovariates(setup, opts.label);
      if (opts.lobo && !opts.loboRetrain && leak.length) {
        muted = true;
        try {
          predictLatents[name] = asMatrix(w.latent(withoutColumns(data, leak), { part: 'inv' }));
        } finally {
          muted = false;
        }
      }
    } finally {
      w.dispose();
    }
  }
  Object.assign(embeddings, external);

  const neighbors = new Map<string, NeighborsResult>();
  const bm = new Benchmarker({
    embeddings,
    labels,
    batches,
    ...(unintegrated ? { unintegrated } : { metrics: { pcrComparison: false } }),
    seed: opts.seed,
    onProgress: (e) => log(`  ${e.embedding}: ${e.metric} ${e.seconds.toFixed(1)} s${e.error ? ` — failed (NaN): ${e.error}` : ''}`),
    onNeighbors: opts.umap ? (name, nn) => neighbors.set(name, subsetNeighbors(nn, 15)) : undefined,
  });
  bm.benchmark();
  const results = bm.getResults({ scale: opts.scale ? 'minmax' : 'none' });
  for (const m of results.methods) timings.push({ step: `metrics ${m.embedding}`, seconds: Object.values(m.seconds).reduce((a, b) => a + b, 0) });

  // Identifiability against the simulator's true latents.
  let identifiability: { truthKey: string; rows: ReportIdentifiability[] } | null = null;
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
      for (const [name, x] of Object.entries(embeddings)) {
        if (name === truthKey) continue;
        rows.push({ method: name, mccPearson: safe(() => meanCorrelationCoefficient(truth, x, 'pearson')), mccSpearman: safe(() => meanCorrelationCoefficient(truth, x, 'spearman')), linearR2: safe(() => linearR2(truth, x)) });
      }
      return { truthKey, rows };
    });
  }

  // Leave-one-batch-out invariant prediction.
  const lobo: ReportInvariantPrediction[] = [];
  if (opts.lobo) {
    const nBatches = new Set(batches).size;
    if (nBatches < 2) log('invariant prediction skipped: a single batch');
    else {
      for (const [name, x] of Object.entries(embeddings)) {
        const method = (Object.keys(METHOD_NAMES) as Method[]).find((k) => METHOD_NAMES[k] === name);
        const retrain = opts.loboRetrain && method !== undefined && method !== 'pca';
        const result = await timed(`invariant prediction ${name}${retrain ? ' (retrained per batch)' : ''}`, async () => {
          let folds: LoboFold[];
          if (retrain) {
            folds = [];
            if (!data) throw new Error('unreachable: trained methods read the counts');
            const setup = methodSetup(method as Exclude<Method, 'pca'>, opts);
            const leak = labelCovariates(setup, opts.label);
            for (const b of [...new Set(batches)].sort()) {
              const trainIdx: number[] = [];
              const testIdx: number[] = [];
              batches.forEach((v, i) => (v === b ? testIdx : trainIdx).push(i));
              const trainData = subsetDataset(data, trainIdx);
              const w = Invae.setup(trainData, setup, { warn });
              try {
                // the epochs of the model trained on all cells, so each fold trains as long
                await w.train(trainData, { epochs: methodInfo[name]?.epochs ?? opts.epochs, seed: opts.seed });
                const fit = asMatrix(w.latent(trainData, { part: 'inv' }));
                muted = true;
                const test = asMatrix(w.latent(withoutColumns(subsetDataset(data, testIdx), leak), { part: 'inv' }));
                muted = false;
                folds.push({ heldOut: b, train: { latent: fit, labels: trainIdx.map((i) => labels[i]!) }, test: { latent: test, labels: testIdx.map((i) => labels[i]!) } });
              } finally {
                muted = false;
                w.dispose();
              }
            }
          } else folds = leaveOneBatchOutFolds(x, labels, batches, predictLatents[name] ?? x);
          return leaveOneBatchOut(folds, { classifier: opts.loboClassifier, seed: opts.seed });
        });
        const note = retrain
          ? 'retrained without the held-out batch; held-out cells encoded without their label'
          : predictLatents[name]
            ? `held-out cells encoded without '${opts.label}' (label covariate zeroed); model trained on all cells`
            : undefined;
        lobo.push({ method: name, result, ...(note ? { note } : {}) });
        log(`  ${name}: leave-one-batch-out accuracy ${result.mean.accuracy?.toFixed(3) ?? '–'}, macro-F1 ${result.mean.macroF1?.toFixed(3) ?? '–'}`);
      }
    }
  }

  // Every file of the output folder, written at the end into a temporary folder renamed into place (never a partial folder).
  const outputs = new Map<string, string | Uint8Array>();
  // UMAPs coloured by batch and by label, as SVG and PNG.
  const umaps: ReportUmap[] = [];
  const umapJson: Record<string, unknown> = {};
  if (opts.umap) {
    const taken = new Set<string>();
    for (const [name, x] of Object.entries(embeddings)) {
      const stem = fileStem(name, taken);
      const t = performance.now();
      const u = umapEmbedding(x, { neighbors: neighbors.get(name), seed: opts.seed, maxPoints: opts.umapMaxPoints, nEpochs: opts.umapEpochs, implementation: opts.umapImpl });
      const tUmap = (performance.now() - t) / 1000;
      const files: Record<string, { svg: string; png: string; width: number; height: number }> = {};
      for (const [colour, key, values] of [
        ['batch', opts.batch, batches],
        ['label', opts.label, labels],
      ] as const) {
        const cats = Array.from(u.indices, (i) => values[i]!);
        const svg = scatterSvg(u.coordinates, cats, { title: `${name} · ${key}`, legendTitle: key, seed: opts.seed });
        const png = svgToPng(svg);
        const base = `umap_${stem}_${colour}`;
        outputs.set(`${base}.svg`, svg);
        outputs.set(`${base}.png`, png);
        const size = pngSize(png);
        files[colour] = { svg: `${base}.svg`, png: `${base}.png`, width: size.width / 2, height: size.height / 2 };
      }
      const seconds = (performance.now() - t) / 1000;
      timings.push({ step: `UMAP ${name}`, seconds });
      log(`  ${name}: UMAP of ${u.nPoints} cells in ${tUmap.toFixed(1)} s (plots ${(seconds - tUmap).toFixed(1)} s)`);
      umaps.push({ method: name, byBatch: files.batch!, byLabel: files.label!, nPoints: u.nPoints, downsampled: u.downsampled });
      umapJson[name] = { batch: files.batch, label: files.label, nPoints: u.nPoints, downsampled: u.downsampled, nEpochs: u.nEpochs, implementation: u.implementation, init: u.init, seconds };
    }
  }
  // Loss curve of every trained model (loss_<method>.svg/png).
  const lossCurves: ReportLossCurve[] = [];
  const lossTaken = new Set<string>();
  for (const [name, h] of Object.entries(histories)) {
    const plot = lossPlot(h, `${name} · ${path.basename(file)}`);
    if (!plot) continue;
    const base = `loss_${fileStem(name, lossTaken)}`;
    outputs.set(`${base}.svg`, plot.svg);
    outputs.set(`${base}.png`, plot.png);
    lossCurves.push({ method: name, image: { svg: `${base}.svg`, png: `${base}.png`, width: plot.width, height: plot.height }, epochs: h.epochs.length, stoppedBy: h.stoppedBy, restoredEpoch: h.restoredEpoch ?? null });
  }
  timings.push({ step: 'total', seconds: (performance.now() - tStart) / 1000 });

  const engine = currentEngine();
  const environment: Record<string, string> = {
    '@invae/cli': CLI_VERSION,
    '@invae/core': CORE_VERSION,
    '@invae/bench': BENCH_VERSION,
    engine: engine ? `${engine.engine} (${engine.package} ${engine.packageVersion}, tfjs-core ${engine.tfjsVersion})` : 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}, ${os.cpus().length} CPUs`,
    seed: String(opts.seed),
    preset: opts.preset,
    'epochs per model': Object.entries(methodInfo)
      .filter(([, m]) => m.epochs !== null)
      .map(([n, m]) => `${n} ${m.epochs}`)
      .join(', ') || '–',
  };
  const dataset = { file: path.basename(file), nCells, nGenes: counts?.nCols ?? 0, genesIn, geneSelection, batchKey: opts.batch, labelKey: opts.label, layer: opts.layer ?? null, batches: categoryCounts(batches), labels: categoryCounts(labels) };
  const protocol = protocolText(opts);
  const saved = {
    ...results,
    trainingSeconds: trainSeconds,
    methodInfo,
    dataset,
    identifiability: identifiability ? { truthKey: identifiability.truthKey, methods: Object.fromEntries(identifiability.rows.map(({ method, ...v }) => [method, v])) } : null,
    invariantPrediction: lobo.length ? { label: opts.label, protocol, retrain: Boolean(opts.loboRetrain), methods: Object.fromEntries(lobo.map((m) => [m.method, { ...m.result, ...(m.note ? { note: m.note } : {}) }])) } : null,
    umap: opts.umap ? { nNeighbors: 15, minDist: 0.5, maxPoints: opts.umapMaxPoints, seed: opts.seed, methods: umapJson } : null,
    timings: Object.fromEntries(timings.map((t) => [t.step, t.seconds])),
    environment,
  };
  const readers = Object.entries(methodInfo)
    .filter(([, m]) => m.readsLabels)
    .map(([n]) => n);
  const labelNote = `reads '${opts.label}' during training (supervised, as scANVI); the others do not`;
  const resultsSvg = resultsTableSvg(results, { title: path.basename(file), marked: readers, footnote: labelNote });
  const extras = { invariantPrediction: lobo.length ? { label: opts.label, methods: lobo } : null, identifiability, methodInfo, labelNote };
  outputs.set('results.json', `${JSON.stringify(saved, null, 2)}\n`);
  outputs.set('results.csv', resultsCsv(results));
  outputs.set('results.md', resultsMarkdown(results, extras));
  outputs.set('results.svg', resultsSvg);
  outputs.set(
    'report.html',
    reportHtml({
      dataset,
      results,
      resultsSvg,
      umaps,
      lossCurves,
      identifiability,
      invariantPrediction: lobo.length ? { protocol, methods: lobo } : null,
      timings,
      environment,
      generatedAt: new Date().toISOString(),
    }),
  );
  await writeFolderAtomically(opts.out, outputs);
  log(`wrote ${opts.out}/report.html`);
  if (opts.json) process.stdout.write(`${JSON.stringify(saved, null, 2)}\n`);
  else if (!opts.noTable) process.stdout.write(resultsMarkdown(results, extras));
  return { results: saved, embeddings, histories };
}
