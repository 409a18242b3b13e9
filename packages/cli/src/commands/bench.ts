import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Invae, InvalidOptionError, denseToCsr, initEngine, type InvaeDataset, type InvaeSetup } from '@invae/core';
import { Benchmarker, logNormalize, pca, resultsTableSvg, writeResultsJson, type BenchmarkResults, type Matrix } from '@invae/bench';
import { loadDataset } from '../dataset';
import { integer, list } from '../parse';
import { writeTextAtomically } from '../output';
import { loadPlugins } from '../plugins';
import type { GlobalOptions } from '../program';

interface BenchCliOptions {
  batch: string;
  label: string;
  methods: string[];
  embeddings?: string[];
  inv?: string[];
  spur?: string[];
  layer?: string;
  epochs: number;
  latentInv: number;
  seed: number;
  scale: boolean;
  out: string;
  json?: boolean;
  quiet?: boolean;
}

const METHODS = ['pca', 'scvi', 'finvae', 'nfinvae'] as const;
type Method = (typeof METHODS)[number];

/** The model each trained method stands for: inVAE's two families, and scVI's equivalent (N(0, I) prior, batch injected in the decoder). */
function methodSetup(method: Exclude<Method, 'pca'>, o: BenchCliOptions): InvaeSetup {
  const inv = o.inv ?? [o.label];
  const spur = o.spur ?? [o.batch];
  const common = { latentDimInv: o.latentInv, seed: o.seed };
  if (method === 'scvi') {
    return {
      model: 'FinVAE',
      invariant: {},
      spurious: { categorical: spur },
      options: { ...common, latentDimSpur: 0, injectCovarInLatent: true },
      invPrior: { name: 'gaussian', options: { fixMean: true, fixVar: true } },
      spurPrior: null,
    };
  }
  return {
    model: method === 'finvae' ? 'FinVAE' : 'NFinVAE',
    invariant: { categorical: inv },
    spurious: { categorical: spur },
    options: { ...common, latentDimSpur: 2 },
  };
}

function column(data: InvaeDataset, key: string, flag: string): string[] {
  const col = data.obs[key];
  if (!col) throw new InvalidOptionError(flag, `obs has no column '${key}' (available: ${Object.keys(data.obs).join(', ')}).`);
  return Array.from(col as ArrayLike<unknown>, (v) => (v === null || v === undefined ? '' : String(v)));
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

/** results.md: the table sorted by Total, as scib-metrics' results table. */
export function resultsMarkdown(r: BenchmarkResults): string {
  const metrics = Object.keys(r.metricTypes);
  const aggregates = ['Batch correction', 'Bio conservation', 'Total'];
  const sorted = [...r.methods].sort((a, b) => (b.aggregates.Total ?? -Infinity) - (a.aggregates.Total ?? -Infinity));
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(3));
  const head = ['Method', ...metrics, ...aggregates];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const m of sorted) {
    lines.push(`| ${[m.embedding, ...metrics.map((k) => fmt(m.metrics[k as keyof typeof m.metrics])), ...aggregates.map((k) => fmt(m.aggregates[k as keyof typeof m.aggregates]))].join(' | ')} |`);
  }
  return `${lines.join('\n')}\n\n${r.nCells} cells, ${r.nLabels} labels, ${r.nBatches} batches; scib-metrics ${r.scibMetrics} definitions, scale: ${r.scale}.\n`;
}

/** `invae bench FILE.h5ad --batch KEY --label KEY --out DIR`: scib-metrics table of several methods. */
export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('benchmark integrations with the scib-metrics set: PCA, scVI-equivalent, FinVAE, NFinVAE and embeddings in obsm')
    .argument('<file>', 'input .h5ad with raw counts')
    .requiredOption('--batch <key>', 'obs key of the batches')
    .requiredOption('--label <key>', 'obs key of the cell labels')
    .requiredOption('-o, --out <dir>', 'output directory (results.json, results.csv, results.md, results.svg)')
    .option('--methods <list>', `methods to train and score (${METHODS.join(', ')})`, list, ['pca', 'finvae'])
    .option('--embeddings <keys>', 'obsm keys of embeddings computed elsewhere (e.g. X_scVI,X_harmony)', list)
    .option('--inv <keys>', 'invariant covariates of the inVAE models (default: --label)', list)
    .option('--spur <keys>', 'spurious covariates of the inVAE models (default: --batch)', list)
    .option('--layer <name>', 'read counts from this layer instead of X')
    .option('--epochs <n>', 'training epochs of each model', integer(1), 100)
    .option('--latent-inv <n>', 'latent dimensions of each model (invariant block)', integer(1), 10)
    .option('--seed <n>', 'random seed', integer(0), 0)
    .option('--scale', 'min-max scale every metric across methods before aggregating')
    .option('--plugin <path|package>', 'load a prior plugin (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--json', 'print results.json to stdout')
    .option('--quiet', 'no progress output')
    .action(async (file: string, opts: BenchCliOptions & { plugin?: string[] }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const unknown = opts.methods.filter((m) => !(METHODS as readonly string[]).includes(m));
      if (unknown.length) throw new InvalidOptionError('methods', `Unknown method(s) ${unknown.join(', ')}.`, { hint: `choose from ${METHODS.join(', ')}` });
      await initEngine({ backend: global.backend, report: opts.json || opts.quiet ? null : undefined });
      await loadPlugins(opts.plugin);
      const log = (m: string) => {
        if (!opts.quiet && !opts.json) process.stderr.write(`${m}\n`);
      };
      const { adata, data } = await loadDataset(file, opts.layer);
      const labels = column(data, opts.label, 'label');
      const batches = column(data, opts.batch, 'batch');
      // Embeddings computed elsewhere are checked before any training.
      const external: Record<string, Matrix> = {};
      for (const key of opts.embeddings ?? []) {
        const m = adata.obsm[key];
        if (!m || !('kind' in m) || m.kind !== 'dense' || m.shape.length !== 2) {
          throw new InvalidOptionError('embeddings', `obsm has no dense 2-D embedding '${key}' (obsm: ${Object.keys(adata.obsm).join(', ') || 'none'}).`);
        }
        external[key] = { data: Float32Array.from(m.data as ArrayLike<number>), nRows: m.shape[0]!, nCols: m.shape[1]! };
      }
      const counts = data.counts.kind === 'csr' ? data.counts : denseToCsr(data.counts);
      const t0 = performance.now();
      const nComps = Math.min(50, counts.nRows - 1, counts.nCols);
      const unintegrated = pca(logNormalize(counts), nComps).coordinates;
      log(`PCA (${nComps} components of log-normalised counts): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const embeddings: Record<string, Matrix> = {};
      const trainSeconds: Record<string, number> = {};
      for (const method of opts.methods as Method[]) {
        if (method === 'pca') {
          embeddings.PCA = unintegrated;
          continue;
        }
        const t = performance.now();
        const w = Invae.setup(data, methodSetup(method, opts));
        try {
          await w.train(data, { epochs: opts.epochs, seed: opts.seed });
          const z = w.latent(data, { part: 'inv' });
          const name = method === 'scvi' ? 'scVI-equivalent' : method === 'finvae' ? 'FinVAE' : 'NFinVAE';
          embeddings[name] = { data: z.data, nRows: z.nRows, nCols: z.nCols };
          trainSeconds[name] = (performance.now() - t) / 1000;
          log(`${name}: trained ${opts.epochs} epochs in ${trainSeconds[name]!.toFixed(1)} s`);
        } finally {
          w.dispose();
        }
      }
      Object.assign(embeddings, external);
      const bm = new Benchmarker({ embeddings, labels, batches, unintegrated, seed: opts.seed, onProgress: (e) => log(`  ${e.embedding}: ${e.metric} ${e.seconds.toFixed(1)} s`) });
      bm.benchmark();
      const results = bm.getResults({ scale: opts.scale ? 'minmax' : 'none' });
      await fsp.mkdir(opts.out, { recursive: true });
      await writeResultsJson(path.join(opts.out, 'results.json'), { ...results, trainingSeconds: trainSeconds } as BenchmarkResults);
      await writeTextAtomically(path.join(opts.out, 'results.csv'), resultsCsv(results));
      await writeTextAtomically(path.join(opts.out, 'results.md'), resultsMarkdown(results));
      await writeTextAtomically(path.join(opts.out, 'results.svg'), resultsTableSvg(results, { title: path.basename(file) }));
      if (opts.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
      else process.stdout.write(resultsMarkdown(results));
    });
}
