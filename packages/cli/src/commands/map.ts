import type { Command } from 'commander';
import { Invae, InvalidOptionError, accuracy, initEngine, nCellsOf, type EpochReport } from '@invae/core';
import { loadDataset } from '../dataset';
import { collect, loadPlugins } from '../plugins';
import { claimOutput, notice, removeStaleModelTemps, trackModelSaves } from '../output';
import { checkInputFile } from '../fs-errors';
import { epochs as epochsOption, integer, number } from '../parse';
import { epochReporter } from '../progress';
import type { GlobalOptions } from '../program';

interface MapCliOptions {
  out: string;
  epochs?: number | 'auto';
  batchSize?: number;
  lr?: number;
  seed?: number;
  layer?: string;
  label?: string;
  plugin?: string[];
  overwrite?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** `invae map MODEL_DIR QUERY.h5ad --out MODEL2_DIR`: maps a query onto a trained reference (scArches-style). */
export function registerMap(program: Command): void {
  program
    .command('map')
    .description("map a query dataset with new batches onto a trained model without retraining it: only the new batches' input weights train (scArches-style); saves a new model directory")
    .argument('<model>', 'reference model directory written by invae train')
    .argument('<query>', "query .h5ad with the model's genes (by var name) and its spurious covariate (e.g. batch) in obs")
    .requiredOption('-o, --out <dir>', 'output model directory (reference + query); embed and predict read it like any model')
    .option('--epochs <n|auto>', "epochs over the query (default: the model's preset's, as invae train)", epochsOption)
    .option('--batch-size <n>', 'cells per minibatch (default 256)', integer(2))
    .option('--lr <rate>', 'learning rate of the new weights (default 1e-3)', number(Number.MIN_VALUE))
    .option('--seed <n>', 'seed of shuffling and noise (default 0)', integer(0))
    .option('--layer <name>', 'read counts from this layer (default: the layer the model was trained on, else X)')
    .option('--label <key>', "obs key with the query's true labels: report the label-transfer accuracy of the model's predictor after mapping (labels are not used for mapping)")
    .option('--plugin <path|package>', 'load a prior plugin the model was trained with (repeatable)', collect)
    .option('--overwrite', 'replace an existing output directory')
    .option('--json', 'print a machine-readable summary')
    .option('--quiet', 'no progress output')
    .action(async (modelDir: string, query: string, opts: MapCliOptions, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      await checkInputFile(query, 'file', '.h5ad file');
      // the output is claimed (locked, checked) before anything is read or trained; the model folder is an input
      const lock = await claimOutput(opts.out, { inputs: [modelDir, query], overwrite: opts.overwrite });
      try {
        await mapAction(modelDir, query, opts, global);
      } finally {
        lock.release();
      }
    });
}

/**
 * The warnings of a mapping whose `--label` column is held out of it. The label column is dropped
 * from the query (its labels never feed the mapping), so when it is also a covariate of the model
 * (e.g. the `--inv` key of the invariant prior) the covariate encoder would warn that the column is
 * "missing from the data" — untrue from the user's side, who gave it. That warning is replaced by one
 * note saying what happens instead; every other warning is printed as usual.
 */
export function heldOutLabelWarn(label: string | undefined, write: (line: string) => void = notice): (message: string) => void {
  let noted = false;
  return (message: string) => {
    if (label !== undefined && message.startsWith(`covariate '${label}' is missing from the data`)) {
      if (!noted) {
        noted = true;
        write(
          `invae: note: obs['${label}'] (--label) is held out of the mapping: the model's covariate '${label}' is encoded as zeros for the query cells (as for cells whose ${label} is unknown) while mapping and scoring; the labels are read only to score the predictions.`,
        );
      }
      return;
    }
    write(`invae: warning: ${message}`);
  };
}

/** The mapping run of `invae map`, once its output is claimed; nothing is written before the inputs are validated and the mapping has trained. */
async function mapAction(modelDir: string, query: string, opts: MapCliOptions, global: GlobalOptions): Promise<void> {
  removeStaleModelTemps(opts.out, notice);
  await initEngine({ backend: global.backend, report: opts.json || opts.quiet ? null : undefined });
  await loadPlugins(opts.plugin);
  const reference = await Invae.load(modelDir, { warn: heldOutLabelWarn(opts.label) });
  let mapped: Invae | null = null;
  try {
    const { data } = await loadDataset(query, opts.layer ?? reference.layer);
    const truth = opts.label === undefined ? undefined : data.obs[opts.label];
    if (opts.label !== undefined && !truth) throw new InvalidOptionError('label', `obs has no column '${opts.label}' (available: ${Object.keys(data.obs).join(', ') || 'none'}).`);
    if (opts.label !== undefined && !reference.predictor) throw new InvalidOptionError('label', `${modelDir} has no invariant predictor to score against obs['${opts.label}'].`, { hint: 'train one with invae train … --predict KEY, or drop --label' });
    // the query's own labels never feed the mapping: an obs column of the model's invariant covariates is dropped
    const labelFree = opts.label === undefined ? data : { ...data, obs: Object.fromEntries(Object.entries(data.obs).filter(([k]) => k !== opts.label)) };
    const reporter = epochReporter({ quiet: opts.quiet || opts.json });
    const t0 = performance.now();
    mapped = await Invae.map(reference, labelFree, {
      epochs: opts.epochs,
      batchSize: opts.batchSize,
      learningRate: opts.lr,
      seed: opts.seed ?? 0,
      onEpoch: (r: EpochReport) => reporter.onEpoch(r),
    }).finally(() => reporter.done());
    const seconds = (performance.now() - t0) / 1000;
    let scores: { accuracy: number } | null = null;
    if (truth && mapped.predictor) {
      const t = Array.from(truth as ArrayLike<unknown>, String);
      scores = { accuracy: accuracy(t, mapped.predict(labelFree).labels) };
    }
    const untrackSaves = trackModelSaves(opts.out);
    try {
      await mapped.save(opts.out, { overwrite: true });
    } finally {
      untrackSaves();
    }
    const history = mapped.history!;
    const summary = {
      out: opts.out,
      reference: modelDir,
      cells: nCellsOf(data),
      newCategories: mapped.mappedCategories,
      trainedWeights: mapped.model.namedVariables().filter((v) => v.query).map((v) => v.name),
      epochs: history.epochs.length,
      stoppedBy: history.stoppedBy,
      finalLoss: history.epochs.at(-1)?.loss ?? null,
      seconds,
      ...(scores && opts.label ? { label: opts.label, accuracy: scores.accuracy } : {}),
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      const cats = Object.entries(summary.newCategories)
        .map(([k, v]) => `${k}: ${v.join(', ')}`)
        .join('; ');
      process.stdout.write(
        `mapped ${summary.cells} query cells onto ${modelDir} (new ${cats}): ${summary.epochs} epochs training ${summary.trainedWeights.length} new weight(s), reference frozen, ${seconds.toFixed(1)} s\n` +
          (scores ? `label transfer: accuracy ${(scores.accuracy * 100).toFixed(1)}% against obs['${opts.label}']\n` : '') +
          `model saved to ${opts.out}\n`,
      );
    }
  } finally {
    mapped?.dispose();
    reference.dispose();
  }
}
