import { InvalidArgumentError, Option, type Command } from 'commander';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  Invae,
  InvalidOptionError,
  TrainingDivergedError,
  initEngine,
  listPriors,
  nCellsOf,
  nGenesOf,
  type AnyDataset,
  type InvaeDataset,
  type EpochReport,
  type InvaeModelOptions,
  type PredictorOptions,
  type PriorRef,
  type TrainOptions,
  PRESETS,
  DEFAULT_PRESET,
  DEFAULT_BACKED_BLOCK_ROWS,
  type PresetName,
} from '@invae/core';
import { registerWorkerSetup } from '@invae/core/internal';
import { GeneProgramScorer, readGeneSets, registerBuiltinPriors } from '@invae/priors';
import { DEFAULT_N_TOP_GENES, lossPlot, selectHighlyVariableGenes } from '@invae/bench';
import { loadDataset } from '../dataset';
import { openBackedDataset } from '../backed-source';
import { epochs as epochsOption, integer, jsonObject, list, number } from '../parse';
import { resolvePriorPlugin } from '../plugins';
import { epochReporter } from '../progress';
import { checkInputFile } from '../fs-errors';
import { claimOutput, notice, removeStaleModelTemps, trackModelSaves } from '../output';
import { covariateWarnings, printWarnings } from '../covariates';
import type { GlobalOptions } from '../program';

interface TrainCliOptions {
  inv?: string[];
  invCont?: string[];
  spur?: string[];
  spurCont?: string[];
  invPrior?: string;
  geneSets?: string;
  invPriorOptions?: Record<string, unknown>;
  spurPrior?: string;
  spurPriorOptions?: Record<string, unknown>;
  model: 'finvae' | 'nfinvae';
  layer?: string;
  out: string;
  latentInv?: number;
  latentSpur?: number;
  hidden?: number;
  layers?: number;
  activation?: 'relu' | 'lrelu';
  dropout?: number;
  batchNorm: boolean;
  decoder?: 'nb' | 'normal';
  injectCovar?: boolean;
  encoderCovariates?: 'all' | 'spurious' | 'none';
  preset: PresetName;
  elbo?: 'sample' | 'kl_div';
  klRate?: number;
  tcBeta?: number;
  invariancePenalty?: number;
  epochs?: number | 'auto';
  validation?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  warmup?: number;
  lrPatience?: number;
  earlyStopping?: number;
  checkpointEvery?: number;
  seed?: number;
  predict?: string;
  predictor?: 'linear' | 'knn' | 'environment';
  batchKey?: string;
  overwrite?: boolean;
  json?: boolean;
  quiet?: boolean;
  workers?: number | 'auto';
  backed?: boolean;
  backedBlock?: number;
  nTopGenes?: number;
}

/** `best LOSS at epoch E` of the validation loss. */
function bestValidation(history: { epochs: readonly { epoch: number; validationLoss?: number }[] }): string {
  let best: { epoch: number; validationLoss?: number } | null = null;
  for (const e of history.epochs) if (Number.isFinite(e.validationLoss) && (!best || e.validationLoss! < best.validationLoss!)) best = e;
  return best ? `${best.validationLoss!.toFixed(3)} at epoch ${best.epoch}` : 'none';
}

/** `--workers`: a positive integer or `auto`. */
function workersOption(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidOptionError('workers', `--workers must be a positive integer or auto, got '${value}'.`);
  return n;
}

/** `--validation`: a fraction in [0, 1). */
function fractionOption(value: string): number {
  const v = number(0)(value);
  if (!(v < 1)) throw new InvalidArgumentError(`expected a fraction in [0, 1), got '${value}'.`);
  return v;
}

/** The files `invae train` writes into the model folder besides the model: the loss curve (loss.svg, loss.png). */
function plotFiles(workflow: Invae, file: string): Record<string, string | Uint8Array> {
  const plot = workflow.history ? lossPlot(workflow.history, `${workflow.spec.config.model} · ${path.basename(file)}`) : null;
  return plot ? { 'loss.svg': plot.svg, 'loss.png': plot.png } : {};
}

/**
 * Resolves a prior named on the command line and, when it was loaded from a file or package, lets
 * training workers load it too (they start with only the built-in priors).
 */
async function resolvePriorForWorkers(spec: string, flag: string): Promise<string> {
  const known = listPriors().some((p) => p.name === spec);
  const name = await resolvePriorPlugin(spec, flag);
  if (!known) {
    const isPath = spec.startsWith('.') || path.isAbsolute(spec) || /\.[cm]?js$/i.test(spec);
    registerWorkerSetup({ module: isPath ? pathToFileURL(path.resolve(process.cwd(), spec)).href : spec });
  }
  return name;
}

/** `invae train FILE.h5ad --inv KEYS --spur KEYS --out MODEL_DIR`: trains FinVAE or NFinVAE. */
export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train FinVAE or NFinVAE on an .h5ad file and save the model directory')
    .argument('<file>', 'input .h5ad (raw counts in X or in --layer)')
    .requiredOption('-o, --out <dir>', 'model directory to write (model.json, weights.safetensors, history.json, loss.svg/png)')
    .option('--inv <keys>', 'categorical obs keys of the invariant prior (comma-separated)', list)
    .option('--inv-cont <keys>', 'continuous obs keys of the invariant prior', list)
    .option('--spur <keys>', 'categorical obs keys of the spurious prior (e.g. batch)', list)
    .option('--spur-cont <keys>', 'continuous obs keys of the spurious prior', list)
    .option('--inv-prior <name|path|package>', 'invariant prior: a registered name (gaussian, score-matching, disease, treatment, …) or a plugin file/package to load; covariates the prior declares are encoded along with --inv/--inv-cont')
    .option('--inv-prior-options <json>', 'options of the invariant prior, as a JSON object', jsonObject)
    .option('--gene-sets <file>', 'gene programs (GMT, or JSON {program: [genes]}): the invariant prior becomes the gene-program prior on their scanpy-style activity scores')
    .option('--spur-prior <name|path|package>', 'spurious prior (default gaussian), as --inv-prior')
    .option('--spur-prior-options <json>', 'options of the spurious prior, as a JSON object', jsonObject)
    .addOption(
      new Option('--preset <name>', `defaults of everything below: ${Object.values(PRESETS).map((p) => `${p.name} (${p.description})`).join('; ')}`)
        .choices(Object.keys(PRESETS))
        .default(DEFAULT_PRESET),
    )
    .addOption(new Option('--model <name>', 'model family').choices(['finvae', 'nfinvae']).default('finvae'))
    .option('--layer <name>', 'read counts from this layer instead of X')
    .option('--n-top-genes <n>', `keep the N highly variable genes (seurat_v3 on the raw counts, by the --batch-key/first --spur batches; default ${DEFAULT_N_TOP_GENES} when the data has more genes, none with --gene-sets); 0 keeps every gene. The model records its genes: embed and predict take the full file`, integer(0))
    .option('--latent-inv <n>', "invariant latent dimensions (default: the preset's, 10; reference 9)", integer(1))
    .option('--latent-spur <n>', "spurious latent dimensions (default: the preset's, 0; reference 1)", integer(0))
    .option('--hidden <n>', 'hidden width (default 128)', integer(1))
    .option('--layers <n>', 'layers per network (default 2)', integer(1))
    .addOption(new Option('--activation <name>', 'activation (default relu)').choices(['relu', 'lrelu']))
    .option('--dropout <p>', 'dropout rate (default 0.1)', number(0))
    .option('--no-batch-norm', 'disable BatchNorm in encoder and decoder')
    .addOption(new Option('--decoder <dist>', 'likelihood (default nb)').choices(['nb', 'normal']))
    .option('--inject-covar', "feed the spurious covariates to the decoder (the integration preset's default); a spurious latent block (--latent-spur > 0) then gets a learned batch-conditioned prior")
    .option('--no-inject-covar', 'spurious covariates condition the spurious prior only (the reference preset)')
    .addOption(new Option('--encoder-covariates <which>', "covariates the encoder reads besides the counts (default all, as the reference; spurious: the batch only, so new cells encode without their labels)").choices(['all', 'spurious', 'none']))
    .addOption(new Option('--elbo <version>', 'ELBO estimator (default sample)').choices(['sample', 'kl_div']))
    .option('--kl-rate <beta>', "weight β of the prior term (default: the preset's, 5; reference 1)", number(0))
    .option('--tc-beta <beta>', 'total-correlation penalty (default 0)', number(0))
    .option('--invariance-penalty <lambda>', 'weight of the conditional batch MMD of the invariant latent within each --inv condition (default 0 = off; it helped with 3 conditions and collapsed the latent with 19 in the integration study)', number(0))
    .option('--epochs <n|auto>', "training epochs (default: the preset's: auto, scvi-tools' rule min(round(20000 / training cells × 400), 400); reference 500)", epochsOption)
    .option('--validation <fraction>', 'hold out this fraction of the cells (seeded by --seed) and report their loss every epoch; --early-stopping then watches it and restores the best epoch', fractionOption)
    .option('--batch-size <n>', 'cells per minibatch (default 256)', integer(2))
    .option('--lr <rate>', 'Adam learning rate (default 1e-3)', number(0))
    .option('--weight-decay <w>', 'Adam weight decay (default 1e-4)', number(0))
    .option('--warmup <epochs>', 'epochs of linear KL/TC warm-up (default 0)', integer(0))
    .option('--lr-patience <epochs>', 'reduce the learning rate on a loss plateau of this many epochs', integer(1))
    .option('--early-stopping <epochs>', 'stop when the loss (the validation loss with --validation, restoring the weights of its best epoch) has not improved for this many epochs', integer(1))
    .option('--checkpoint-every <epochs>', 'save the model directory every N epochs', integer(1))
    .option('--seed <n>', 'random seed (default 0)', integer(0))
    .option('--workers <n|auto>', 'model replicas training in parallel worker threads (default 1 = main thread only; auto: up to 2 on the wasm engine for large enough minibatches)', workersOption)
    .option('--backed', 'stream the counts from disk in row blocks instead of loading them (for files larger than memory)')
    .option('--backed-block <rows>', `rows per block read from disk with --backed (default ${DEFAULT_BACKED_BLOCK_ROWS})`, integer(1))
    .option('--predict <key>', 'also train an invariant predictor of this obs key')
    .addOption(new Option('--predictor <kind>', 'predictor kind (default linear)').choices(['linear', 'knn', 'environment']))
    .option('--batch-key <key>', 'obs key of the batches: environments of the environment predictor and batches of the gene selection (default: the first --spur key)')
    .option('--overwrite', 'replace an existing model directory')
    .option('--json', 'print a machine-readable summary (per-epoch loss, seconds, cells/s)')
    .option('--quiet', 'no progress output')
    .action(async (file: string, opts: TrainCliOptions, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      if (opts.backedBlock !== undefined && !opts.backed) throw new InvalidOptionError('backed-block', '--backed-block needs --backed.');
      if (opts.geneSets && opts.nTopGenes) {
        throw new InvalidOptionError('n-top-genes', '--gene-sets scores gene programs on all genes, so it cannot be combined with a highly variable gene selection.', { hint: 'drop --n-top-genes (or pass 0)' });
      }
      if (opts.backed && opts.geneSets) {
        throw new InvalidOptionError('gene-sets', '--gene-sets scores gene programs on all counts, which --backed does not load.', { hint: 'drop --backed for the gene-program prior' });
      }
      await checkInputFile(file, 'file', '.h5ad file');
      if (opts.geneSets) await checkInputFile(opts.geneSets, 'gene-sets', 'gene-set file (GMT or JSON)');
      // The model directory is claimed (locked, checked) before anything is read or trained.
      const lock = await claimOutput(opts.out, { inputs: [file, opts.geneSets], overwrite: opts.overwrite });
      try {
        await trainAction(file, opts, global);
      } finally {
        lock.release();
      }
    });
}

/** The training run of `invae train`, once its model directory is claimed. */
async function trainAction(file: string, opts: TrainCliOptions, global: GlobalOptions): Promise<void> {
  removeStaleModelTemps(opts.out, notice);
  const engine = await initEngine({ backend: global.backend, report: opts.json || opts.quiet ? null : undefined });
  registerBuiltinPriors();
  if (opts.invPriorOptions && !opts.invPrior && !opts.geneSets) throw new InvalidOptionError('inv-prior-options', '--inv-prior-options needs --inv-prior.');
  if (opts.spurPriorOptions && !opts.spurPrior) throw new InvalidOptionError('spur-prior-options', '--spur-prior-options needs --spur-prior.');
  if (opts.geneSets && opts.invPrior && opts.invPrior !== 'gene-program') {
    throw new InvalidOptionError('gene-sets', `--gene-sets conditions the invariant prior on gene programs; it cannot be combined with --inv-prior ${opts.invPrior}.`);
  }
  let invPrior: PriorRef | undefined = opts.invPrior ? { name: await resolvePriorForWorkers(opts.invPrior, '--inv-prior'), options: opts.invPriorOptions ?? {} } : undefined;
  const spurPrior: PriorRef | undefined = opts.spurPrior ? { name: await resolvePriorForWorkers(opts.spurPrior, '--spur-prior'), options: opts.spurPriorOptions ?? {} } : undefined;
  const invariant = { categorical: opts.inv ?? [], continuous: opts.invCont ?? [] };
  const spurious = { categorical: opts.spur ?? [], continuous: opts.spurCont ?? [] };
  const backed = opts.backed ? await openBackedDataset(file, opts.layer, { blockSize: opts.backedBlock }) : null;
  const all: AnyDataset = backed ? backed.data : (await loadDataset(file, opts.layer)).data;
  const hvgBatchKey = opts.batchKey ?? opts.spur?.[0] ?? null;
  const genes = selectHighlyVariableGenes(all, { nTopGenes: opts.nTopGenes ?? (opts.geneSets ? 0 : DEFAULT_N_TOP_GENES), batchKey: hvgBatchKey });
  const data: AnyDataset = genes.data;
  // Every obs key is checked before training, which may write checkpoints.
  for (const [flag, key] of [
    ['predict', opts.predict],
    ['batch-key', opts.batchKey],
  ] as const) {
    if (key !== undefined && !data.obs[key]) throw new InvalidOptionError(flag, `obs has no column '${key}' (available: ${Object.keys(data.obs).join(', ') || 'none'}).`);
  }
  printWarnings(covariateWarnings(data.obs as Record<string, ArrayLike<unknown>>, { inv: opts.inv, invCont: opts.invCont, spur: opts.spur, spurCont: opts.spurCont }));
  if (opts.geneSets && !backed) {
    // Fit the program scorer (control genes) on the training data; the prior saves it and
    // re-scores every later dataset from the counts.
    const scorer = GeneProgramScorer.fit(data as InvaeDataset, await readGeneSets(opts.geneSets), { seed: opts.seed ?? 0 });
    invPrior = { name: 'gene-program', options: { ...(opts.invPriorOptions ?? {}), scorer: scorer.toJSON() } };
  }
  const modelOptions: InvaeModelOptions = {
    latentDimInv: opts.latentInv,
    latentDimSpur: opts.latentSpur,
    hiddenDim: opts.hidden,
    nLayers: opts.layers,
    activation: opts.activation,
    dropoutRate: opts.dropout,
    batchNorm: opts.batchNorm,
    decoderDist: opts.decoder,
    injectCovarInLatent: opts.injectCovar,
    encoderCovariates: opts.encoderCovariates,
    elboVersion: opts.elbo,
    klRate: opts.klRate,
    tcBeta: opts.tcBeta,
    invariancePenalty: opts.invariancePenalty,
    seed: opts.seed ?? 0,
  };
  for (const k of Object.keys(modelOptions) as (keyof InvaeModelOptions)[]) if (modelOptions[k] === undefined) delete modelOptions[k];
  const workflow = Invae.setup(data, {
    preset: opts.preset,
    model: opts.model === 'nfinvae' ? 'NFinVAE' : 'FinVAE',
    invariant,
    spurious,
    options: modelOptions,
    invPrior,
    spurPrior,
    layer: opts.layer ?? null,
  });
  const untrackSaves = trackModelSaves(opts.out);
  try {
    const reporter = epochReporter({ quiet: opts.quiet || opts.json });
    const train: TrainOptions = {
      epochs: opts.epochs,
      validation: opts.validation,
      batchSize: opts.batchSize,
      learningRate: opts.lr,
      weightDecay: opts.weightDecay,
      warmUpEpochs: opts.warmup,
      seed: opts.seed ?? 0,
      workers: opts.workers,
      lrSchedule: opts.lrPatience ? { patience: opts.lrPatience } : false,
      earlyStopping: opts.earlyStopping ? { patience: opts.earlyStopping } : false,
      checkpointEvery: opts.checkpointEvery ?? 0,
      onEpoch: (r: EpochReport) => reporter.onEpoch(r),
      // Periodic checkpoints replace the model directory; a later failure leaves the last good one.
      onCheckpoint: opts.checkpointEvery ? async () => workflow.save(opts.out, { overwrite: true, files: plotFiles(workflow, file) }) : undefined,
    };
    const history = await workflow.train(data, train).finally(() => reporter.done()).catch(async (e: unknown) => {
      // divergence: the workflow holds the last good epoch's weights; keep them (not a checkpoint
      // from earlier, nor nothing) with a record saying where training diverged, and fail
      if (e instanceof TrainingDivergedError && e.restoredEpoch > 0) {
        await workflow.save(opts.out, { overwrite: true, files: plotFiles(workflow, file) });
        throw e.savedTo(opts.out);
      }
      throw e;
    });
    let predictor: { key: string; kind: string; trainAccuracy: number } | null = null;
    if (opts.predict) {
      const kind = opts.predictor ?? 'linear';
      const popts: PredictorOptions =
        kind === 'environment'
          ? { kind, batchKey: opts.batchKey ?? opts.spur?.[0] ?? '' }
          : kind === 'knn'
            ? { kind }
            : { kind, seed: opts.seed ?? 0 };
      // the invariant latent once, for training the predictor and for its training accuracy
      const latent = workflow.latent(data, { part: 'inv' });
      workflow.trainPredictor(data, opts.predict, popts, { latent });
      const pred = workflow.predict(data, { latent }).labels;
      const truth = data.obs[opts.predict] as ArrayLike<unknown>;
      let ok = 0;
      for (let i = 0; i < pred.length; i++) if (String(truth[i]) === pred[i]) ok++;
      predictor = { key: opts.predict, kind, trainAccuracy: ok / pred.length };
    }
    await workflow.save(opts.out, { overwrite: true, files: plotFiles(workflow, file) });
    const summary = {
      out: opts.out,
      engine: engine.engine,
      model: workflow.spec.config.model,
      preset: workflow.preset.name,
      priors: { inv: workflow.spec.invPrior.name, spur: workflow.spec.spurPrior?.name ?? null },
      cells: nCellsOf(data),
      genes: nGenesOf(data),
      geneSelection: genes.hvg
        ? { flavor: genes.settings.flavor, nTopGenes: genes.settings.nTopGenes, batchKey: genes.settings.batchKey, genesIn: genes.settings.genesIn }
        : { flavor: 'none', genesIn: genes.settings.genesIn },
      backed: Boolean(backed),
      workers: history.workers,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      plannedEpochs: history.epochs[0]?.epochs ?? null,
      stoppedBy: history.stoppedBy,
      restoredEpoch: history.restoredEpoch ?? null,
      validationCells: history.validationCells ?? 0,
      seconds: history.seconds,
      epochs: history.epochs.map((e) => ({
        epoch: e.epoch,
        loss: e.loss,
        ...(e.validationLoss !== undefined ? { validationLoss: e.validationLoss } : {}),
        seconds: e.seconds,
        cellsPerSecond: e.cellsPerSecond,
        learningRate: e.learningRate,
        terms: e.terms,
        ...(e.validationTerms ? { validationTerms: e.validationTerms } : {}),
      })),
      predictor,
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      const last = history.epochs.at(-1);
      process.stdout.write(
        `trained ${summary.model} on ${summary.cells} cells × ${summary.genes} genes${genes.hvg ? ` (highly variable of ${genes.settings.genesIn}, seurat_v3${hvgBatchKey ? ` by '${hvgBatchKey}'` : ''})` : ''}: ${history.epochs.length} epochs (${history.stoppedBy}), final loss ${last?.loss.toFixed(3)}, ${history.seconds.toFixed(1)} s\n` +
          (last?.validationLoss !== undefined ? `validation (${summary.validationCells} cells held out): final loss ${last.validationLoss.toFixed(3)}, best ${bestValidation(history)}\n` : '') +
          (history.restoredEpoch ? `early stopping restored the weights of epoch ${history.restoredEpoch}\n` : '') +
          (predictor ? `predictor (${predictor.kind}) of '${predictor.key}': training accuracy ${(predictor.trainAccuracy * 100).toFixed(1)}%\n` : '') +
          `model saved to ${opts.out} (loss curve: loss.svg, loss.png)\n`,
      );
    }
  } finally {
    untrackSaves();
    workflow.dispose();
    backed?.close();
  }
}
