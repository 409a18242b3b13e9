import path from 'node:path';
import type { Command } from 'commander';
import { Invae, InvalidOptionError, UNKNOWN_LABEL, accuracy, initEngine, macroF1, writeResults } from '@invae/core';
import { loadDataset } from '../dataset';
import { collect, loadPlugins } from '../plugins';
import { claimOutput, writeH5adOutput, writeTextAtomically } from '../output';
import { checkInputFile } from '../fs-errors';
import { number } from '../parse';
import type { GlobalOptions } from '../program';

interface PredictCliOptions {
  out: string;
  label?: string;
  layer?: string;
  overwrite?: boolean;
  plugin?: string[];
  json?: boolean;
  unknownThreshold?: number;
}

function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** `invae predict MODEL_DIR FILE.h5ad --out OUT.csv|h5ad`: predicts labels with the model's invariant predictor. */
export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description("predict labels with the model's invariant predictor (trained by invae train --predict)")
    .argument('<model>', 'model directory written by invae train --predict KEY')
    .argument('<file>', 'input .h5ad with the same genes (by var name)')
    .requiredOption('-o, --out <file>', 'output: .csv (cell, prediction, confidence, class probabilities) or .h5ad (copy with obs[<key>_pred] and obs[<key>_pred_confidence])')
    .option('--label <key>', 'obs key with true labels: report accuracy and macro-F1')
    .option('--unknown-threshold <p>', `label cells whose most probable class has a probability below p (in [0, 1]) '${UNKNOWN_LABEL}' (default: none)`, number(0))
    .option('--layer <name>', 'read counts from this layer (default: the layer the model was trained on, else X)')
    .option('--plugin <path|package>', 'load a prior plugin the model was trained with (repeatable)', collect)
    .option('--overwrite', 'replace an existing output file')
    .option('--json', 'print a machine-readable summary')
    .action(async (modelDir: string, file: string, opts: PredictCliOptions, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const ext = path.extname(opts.out).toLowerCase();
      if (ext !== '.csv' && ext !== '.h5ad') throw new InvalidOptionError('out', `--out must end in .csv or .h5ad, got ${opts.out}.`);
      await checkInputFile(file, 'file', '.h5ad file');
      const lock = await claimOutput(opts.out, { inputs: [file], overwrite: opts.overwrite });
      try {
        await predict(modelDir, file, ext, opts, global);
      } finally {
        lock.release();
      }
    });
}

/** The prediction run of `invae predict`, once its output is claimed; the output is written only after every input is validated. */
async function predict(modelDir: string, file: string, ext: string, opts: PredictCliOptions, global: GlobalOptions): Promise<void> {
  await initEngine({ backend: global.backend, report: opts.json ? null : undefined });
  await loadPlugins(opts.plugin);
  const workflow = await Invae.load(modelDir);
  try {
    const trained = workflow.predictor;
    if (!trained) throw new InvalidOptionError('model', `${modelDir} has no invariant predictor.`, { hint: 'train one with invae train … --predict KEY' });
    const { adata, data, cellNames } = await loadDataset(file, opts.layer ?? workflow.layer);
    // Inputs are validated before the output is written.
    const truth = opts.label === undefined ? undefined : data.obs[opts.label];
    if (opts.label !== undefined && !truth) throw new InvalidOptionError('label', `obs has no column '${opts.label}' (available: ${Object.keys(data.obs).join(', ') || 'none'}).`);
    const pred = workflow.predict(data, { unknownThreshold: opts.unknownThreshold });
    let scores: { accuracy: number; macroF1: number } | null = null;
    if (truth) {
      const t = Array.from(truth as ArrayLike<unknown>, String);
      scores = { accuracy: accuracy(t, pred.labels), macroF1: macroF1(t, pred.labels) };
    }
    const column = `${trained.labelKey}_pred`;
    if (ext === '.csv') {
      const header = ['cell', column, `${column}_confidence`, ...pred.classes.map((c) => `p_${c}`)].map(csvField).join(',');
      const k = pred.classes.length;
      const rows = pred.labels.map((l, i) =>
        [cellNames[i]!, l, pred.confidence![i]!.toPrecision(6), ...Array.from(pred.probabilities.subarray(i * k, (i + 1) * k), (p) => p.toPrecision(6))].map(csvField).join(','),
      );
      await writeTextAtomically(opts.out, `${[header, ...rows].join('\n')}\n`);
    } else {
      writeResults(adata, { prediction: pred, predictionKey: column });
      await writeH5adOutput(opts.out, adata);
    }
    const unknown = opts.unknownThreshold === undefined ? null : pred.labels.filter((l) => l === UNKNOWN_LABEL).length;
    const summary = {
      out: opts.out,
      label: trained.labelKey,
      cells: pred.labels.length,
      classes: pred.classes,
      ...(unknown === null ? {} : { unknownThreshold: opts.unknownThreshold, unknown }),
      ...(scores ?? {}),
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      process.stdout.write(`predicted '${trained.labelKey}' for ${pred.labels.length} cells → ${opts.out}\n`);
      if (unknown !== null) process.stdout.write(`${unknown} cell(s) below confidence ${opts.unknownThreshold} labelled '${UNKNOWN_LABEL}'\n`);
      if (scores) process.stdout.write(`accuracy ${(scores.accuracy * 100).toFixed(1)}%, macro-F1 ${scores.macroF1.toFixed(3)} against obs['${opts.label}']\n`);
    }
  } finally {
    workflow.dispose();
  }
}
