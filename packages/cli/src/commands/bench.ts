import { Option, type Command } from 'commander';
import { DEFAULT_PRESET, PRESETS, initEngine } from '@invae/core';
import { BENCHMARK_METHODS, DEFAULT_N_TOP_GENES, checkBenchmarkOptions, runBenchmark, type BenchmarkMethod, type BenchmarkRun, type SeededBenchmarkRun } from '@invae/bench';
import { benchDeOption, readBenchInput, type BenchOptions } from '../bench-input';
import { integer, integerList, list } from '../parse';
import { registerBenchShards } from './bench-shards';
import { claimOutput, writeFolderAtomically } from '../output';
import { checkInputFile } from '../fs-errors';
import { categoricalWarning, continuousLooking, printWarnings } from '../covariates';
import { loadPlugins } from '../plugins';
import type { GlobalOptions } from '../program';
import { VERSION as CLI_VERSION } from '../version';

/** `invae bench FILE.h5ad --batch KEY --label KEY --out DIR`: scib-metrics table of several methods, UMAPs and an HTML report. */
export function registerBench(program: Command): void {
  const bench = program
    .command('bench')
    .description('benchmark integrations with the scib-metrics set: PCA, scVI-equivalent, FinVAE, NFinVAE and embeddings in obsm; UMAPs and report.html')
    .argument('<file>', 'input .h5ad with raw counts')
    .requiredOption('--batch <key>', 'obs key of the batches')
    .requiredOption('--label <key>', 'obs key of the cell labels')
    .requiredOption('-o, --out <dir>', 'output directory (results.json/csv/md/svg, umap_<method>_<batch|label>.svg/png, loss_<method>.svg/png, report.html)')
    .option('--methods <list>', `methods to train and score (${BENCHMARK_METHODS.join(', ')}); none (or '') scores only --embeddings, which needs no counts`, list, ['pca', 'finvae'])
    .option('--embeddings <keys>', 'obsm keys of embeddings computed elsewhere (e.g. X_scVI,X_harmony)', list)
    .option('--unintegrated <key>', 'obsm key of the unintegrated embedding for PCR comparison (default: PCA of the log-normalised counts; without counts and without this key, PCR comparison is skipped)')
    .option('--inv <keys>', 'invariant covariates of the inVAE models (default: --label)', list)
    .option('--spur <keys>', 'spurious covariates of the inVAE models (default: --batch)', list)
    .option('--layer <name>', 'read counts from this layer instead of X')
    .addOption(new Option('--preset <name>', `defaults of the inVAE models (FinVAE, NFinVAE): ${Object.values(PRESETS).map((p) => `${p.name} (${p.description})`).join('; ')}`).choices(Object.keys(PRESETS)).default(DEFAULT_PRESET))
    .option('--n-top-genes <n>', 'benchmark on the N highly variable genes (seurat_v3 on the raw counts, by --batch) when the data has more; 0 keeps every gene', integer(0), DEFAULT_N_TOP_GENES)
    .option('--epochs <n>', "training epochs of each model (default: the preset's, from the number of cells)", integer(1))
    .option('--latent-inv <n>', 'latent dimensions of each model (invariant block; default 10)', integer(1))
    .option('--seed <n>', 'random seed', integer(0), 0)
    .option('--seeds <list>', 'train every method once per seed (e.g. 0,1,2; PCA runs once) and report mean ± sd per metric and aggregate (results.json/csv/md/svg with error bars, run.json; no UMAPs)', integerList(0))
    .option('--scale', 'min-max scale every metric across methods before aggregating')
    .option('--no-umap', 'skip the UMAP plots (faster)')
    .option('--umap-max-points <n>', 'UMAP at most this many cells (a seeded random subset beyond)', integer(100), 50_000)
    .option('--umap-epochs <n>', 'UMAP optimisation epochs (default: 500 up to 10 000 points, else 200)', integer(1))
    .addOption(new Option('--umap-impl <name>', "UMAP layout code: @invae/bench's own or the umap-js package (slower)").choices(['native', 'umap-js']).default('native'))
    .option('--no-lobo', 'skip the leave-one-batch-out invariant prediction')
    .option('--lobo-retrain', 'leave-one-batch-out: retrain every model without the held-out batch (slow: one training per batch and model)')
    .addOption(new Option('--lobo-classifier <kind>', 'leave-one-batch-out predictor').choices(['linear', 'knn']).default('linear'))
    .option('--truth <key>', "obsm key of true latents for identifiability (default: X_true_inv when present, as written by 'invae simulate')")
    .option('--de-groupby <key>', 'differential expression with every trained model in report.html (de_<method>.csv, volcano_<method>.svg/png): obs column of the groups')
    .option('--de-group <value>', 'differential expression: the group of interest (with --de-groupby)')
    .option('--de-reference <value>', 'differential expression: the group compared with (default: all other cells)')
    .option('--plugin <path|package>', 'load a prior plugin (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--overwrite', 'replace an existing output directory')
    .option('--json', 'print results.json to stdout')
    .option('--quiet', 'no progress output')
    .action(async (file: string, opts: BenchOptions, cmd: Command) => {
      opts.methods = opts.methods.filter((m) => m !== 'none');
      checkBenchmarkOptions({ methods: opts.methods as BenchmarkMethod[], embeddings: opts.embeddings, seeds: opts.seeds, loboRetrain: opts.loboRetrain });
      benchDeOption(opts); // checked before the file is read
      await checkInputFile(file, 'file', '.h5ad file');
      // The output folder is claimed before the long run: a second bench to it fails now, not at the end.
      const lock = await claimOutput(opts.out, { inputs: [file], overwrite: opts.overwrite });
      try {
        await runBench(file, opts, cmd.optsWithGlobals<GlobalOptions>());
      } finally {
        lock.release();
      }
    });
  registerBenchShards(bench);
}

/**
 * The benchmark run of `invae bench` (and of `invae demo`), once its output folder is claimed: reads
 * `file`, runs {@link runBenchmark} (which writes the folder at the end, atomically) and prints the table.
 */
export async function runBench(file: string, opts: BenchOptions, global: GlobalOptions): Promise<BenchmarkRun | SeededBenchmarkRun> {
  const t0 = performance.now();
  await initEngine({ backend: global.backend, report: opts.json || opts.quiet ? null : undefined });
  await loadPlugins(opts.plugin);
  const log = (m: string) => void (!opts.quiet && !opts.json && process.stderr.write(`${m}\n`));
  const tRead = performance.now();
  // Methods need the counts; obsm embeddings alone are scored without them (as scib-metrics does).
  const input = await readBenchInput(file, opts.layer ?? undefined, opts.methods.length > 0);
  const read = { step: 'read data', seconds: (performance.now() - tRead) / 1000 };
  const run = await runBenchmark(input, {
    ...opts,
    methods: opts.methods as BenchmarkMethod[],
    outDir: opts.out,
    de: benchDeOption(opts),
    writeFolder: writeFolderAtomically,
    log,
    onColumns: ({ batch }) => {
      const like = continuousLooking(batch);
      if (like) printWarnings([categoricalWarning('--batch', opts.batch, like, 'bench scores every distinct value as a batch, so check that --batch names the batch column')]);
    },
    timings: [read],
    startedAt: t0,
    environment: { '@invae/cli': CLI_VERSION },
  });
  if (opts.json) process.stdout.write(`${JSON.stringify(run.json, null, 2)}\n`);
  else if (!opts.noTable) process.stdout.write(run.markdown);
  return run;
}
