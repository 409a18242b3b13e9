import type { Command } from 'commander';
import { Invae, InvalidOptionError, deResultCsv, initEngine, type DeResult } from '@invae/core';
import { svgToPng, volcanoSvg } from '@invae/bench';
import { loadDataset } from '../dataset';
import { collect, loadPlugins } from '../plugins';
import { claimOutput, writeFolderAtomically } from '../output';
import { checkInputFile } from '../fs-errors';
import { integer, number } from '../parse';
import { readGeneList } from './expression';
import type { GlobalOptions } from '../program';

interface DeCliOptions {
  out: string;
  groupby: string;
  group: string;
  reference?: string;
  delta: number;
  fdr: number;
  samples: number;
  cellsPerSample?: number;
  batchCorrection: boolean;
  batchKey?: string;
  librarySize?: number;
  genes?: string;
  layer?: string;
  seed: number;
  plugin?: string[];
  overwrite?: boolean;
  json?: boolean;
}

/** The files `invae de` writes into its output folder. */
export function deFiles(result: DeResult): Map<string, string | Uint8Array> {
  const title = `${result.groupby}: ${result.group} vs ${result.reference ?? 'rest'}`;
  const svg = volcanoSvg(result.genes, { title, delta: result.delta });
  return new Map<string, string | Uint8Array>([
    ['de.csv', deResultCsv(result)],
    ['de.json', `${JSON.stringify(result, null, 2)}\n`],
    ['volcano.svg', svg],
    ['volcano.png', svgToPng(svg)],
  ]);
}

/** `invae de MODEL FILE --groupby KEY --group A [--reference B] --out DIR`: Bayesian differential expression. */
export function registerDe(program: Command): void {
  program
    .command('de')
    .description('differential expression between two groups of cells (Bayesian change mode on batch-corrected expression): de.csv, de.json and a volcano plot')
    .argument('<model>', 'model directory written by invae train')
    .argument('<file>', "input .h5ad with the model's genes (by var name) and the groupby column")
    .requiredOption('-o, --out <dir>', 'output folder: de.csv, de.json, volcano.svg, volcano.png')
    .requiredOption('--groupby <key>', 'obs column defining the groups')
    .requiredOption('--group <value>', 'the group of interest')
    .option('--reference <value>', 'the group to compare with (default: all other cells)')
    .option('--delta <x>', 'smallest |log2 fold change| that counts as a change', number(0), 0.25)
    .option('--fdr <x>', 'posterior expected false discovery rate of the called genes', number(0), 0.05)
    .option('--samples <n>', 'posterior samples per group', integer(1), 100)
    .option('--cells-per-sample <n>', "cells averaged per sample (default: the group's size, at most 256; 1: single-cell pairs as scvi-tools)", integer(1))
    .option('--no-batch-correction', "compare expression decoded in each cell's own batch (default: averaged over the batches)")
    .option('--batch-key <key>', "the batch covariate (default: the model's only categorical spurious covariate)")
    .option('--library-size <n>', 'library size of the normalised expression (default 10000)', number(Number.MIN_VALUE))
    .option('--genes <list>', 'only these genes: comma-separated names, or @FILE with one per line')
    .option('--layer <name>', 'read counts from this layer (default: the layer the model was trained on, else X)')
    .option('--seed <n>', 'seed of the cell draws and posterior samples', integer(0), 0)
    .option('--plugin <path|package>', 'load a prior plugin the model was trained with (repeatable)', collect)
    .option('--overwrite', 'replace existing output files')
    .option('--json', 'print a machine-readable summary')
    .action(async (modelDir: string, file: string, opts: DeCliOptions, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      if (!(opts.fdr > 0 && opts.fdr < 1)) throw new InvalidOptionError('fdr', `--fdr must be in (0, 1), got ${opts.fdr}.`);
      await checkInputFile(file, 'file', '.h5ad file');
      const genes = opts.genes === undefined ? undefined : await readGeneList(opts.genes);
      const lock = await claimOutput(opts.out, { inputs: [file], overwrite: opts.overwrite });
      try {
        await initEngine({ backend: global.backend, report: opts.json ? null : undefined });
        await loadPlugins(opts.plugin);
        const workflow = await Invae.load(modelDir);
        try {
          const { data } = await loadDataset(file, opts.layer ?? workflow.layer);
          const result = workflow.differentialExpression(data, {
            groupby: opts.groupby,
            group: opts.group,
            reference: opts.reference ?? null,
            delta: opts.delta,
            fdrTarget: opts.fdr,
            samplesPerGroup: opts.samples,
            cellsPerSample: opts.cellsPerSample,
            batchCorrection: opts.batchCorrection,
            batchKey: opts.batchKey,
            librarySize: opts.librarySize,
            genes,
            seed: opts.seed,
          });
          await writeFolderAtomically(opts.out, deFiles(result));
          const summary = { out: opts.out, groupby: result.groupby, group: result.group, reference: result.reference, cells: [result.nCellsGroup, result.nCellsReference], genes: result.genes.length, called: result.nDe, fdr: result.fdrTarget, delta: result.delta, batchCorrected: result.batchCorrected };
          if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
          else {
            process.stdout.write(
              `${result.group} (${result.nCellsGroup} cells) vs ${result.reference ?? 'rest'} (${result.nCellsReference} cells): ${result.nDe} of ${result.genes.length} genes called at FDR ${result.fdrTarget} (|LFC| ≥ ${result.delta}${result.batchCorrected ? ', batch-corrected' : ''}); wrote de.csv, de.json, volcano.svg, volcano.png to ${opts.out}\n`,
            );
          }
        } finally {
          workflow.dispose();
        }
      } finally {
        lock.release();
      }
    });
}
