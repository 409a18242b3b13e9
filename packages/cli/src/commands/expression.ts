import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { EXPRESSION_LAYER, Invae, InvalidOptionError, initEngine, type ExpressionOptions } from '@invae/core';
import { frameIndex, readH5ad, type AnnData, type CsrMatrix, type RowBlock, type StreamedMatrix } from '@invae/io-anndata';
import { openBackedDataset } from '../backed-source';
import { collect, loadPlugins } from '../plugins';
import { claimOutput, writeH5adOutput } from '../output';
import { checkInputFile } from '../fs-errors';
import { integer, number } from '../parse';
import type { GlobalOptions } from '../program';

interface ExpressionCliOptions {
  out: string;
  librarySize?: number;
  transformBatch?: string;
  batchKey?: string;
  nSamples?: number;
  genes?: string;
  key: string;
  layer?: string;
  batchSize: number;
  seed?: number;
  overwrite?: boolean;
  plugin?: string[];
  json?: boolean;
}

/**
 * The genes of `--genes`: a comma-separated list, or `@FILE` with one name per line (blank lines
 * and lines starting with # ignored).
 */
export async function readGeneList(value: string, option = 'genes'): Promise<string[]> {
  let names: string[];
  if (value.startsWith('@')) {
    const file = value.slice(1);
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (e) {
      throw new InvalidOptionError(option, `cannot read the gene list ${file}: ${(e as Error).message}`, { hint: 'give a text file with one gene name per line, or a comma-separated list' });
    }
    names = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s && !s.startsWith('#'));
  } else names = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new InvalidOptionError(option, `--${option} names no gene.`, { hint: 'give gene names separated by commas, or @FILE with one per line' });
  return names;
}

/** `invae expression MODEL FILE --out OUT.h5ad`: the decoder's normalised (optionally batch-corrected) expression. */
export function registerExpression(program: Command): void {
  program
    .command('expression')
    .description("write the decoder's normalised expression (denoised, or batch-corrected with --transform-batch) into a layer of a new .h5ad")
    .argument('<model>', 'model directory written by invae train')
    .argument('<file>', "input .h5ad with the model's genes (by var name)")
    .requiredOption('-o, --out <file>', "output .h5ad: the input's cells (obs, obsm, obsp, uns), the output genes (var and their counts as X) and layers[KEY]")
    .option('--library-size <n>', 'total of every cell\'s normalised expression over the model\'s genes (default 10000)', number(Number.MIN_VALUE))
    .option('--transform-batch <batch>', "decode every cell as if from this batch (its spurious part from the batch's prior or covariate); 'all' averages over the batches")
    .option('--batch-key <key>', "the batch covariate of --transform-batch (default: the model's only categorical spurious covariate)")
    .option('--n-samples <n>', 'posterior samples averaged per cell (default 1: the posterior mean)', integer(1))
    .option('--genes <list>', "only these genes: comma-separated names, or @FILE with one per line (default: all the model's genes)")
    .option('--key <name>', 'layer to write', EXPRESSION_LAYER)
    .option('--layer <name>', 'read counts from this layer (default: the layer the model was trained on, else X)')
    .option('--batch-size <n>', 'cells decoded and written per block (memory is bounded by one block)', integer(1), 1024)
    .option('--seed <n>', 'seed of the posterior draws (with --n-samples > 1)', integer(0))
    .option('--plugin <path|package>', 'load a prior plugin the model was trained with (repeatable)', collect)
    .option('--overwrite', 'replace an existing output file')
    .option('--json', 'print a machine-readable summary')
    .action(async (modelDir: string, file: string, opts: ExpressionCliOptions, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      if (path.extname(opts.out).toLowerCase() !== '.h5ad') throw new InvalidOptionError('out', `--out must be an .h5ad file, got ${opts.out}.`);
      if (!opts.key || opts.key.includes('/')) throw new InvalidOptionError('key', `--key must be a non-empty name without '/', got '${opts.key}'.`);
      await checkInputFile(file, 'file', '.h5ad file');
      const genes = opts.genes === undefined ? undefined : await readGeneList(opts.genes);
      const lock = await claimOutput(opts.out, { inputs: [file], overwrite: opts.overwrite });
      try {
        await expression(modelDir, file, { ...opts, genes }, global);
      } finally {
        lock.release();
      }
    });
}

/** The expression run of `invae expression`, once its output is claimed. */
async function expression(modelDir: string, file: string, opts: Omit<ExpressionCliOptions, 'genes'> & { genes?: string[] }, global: GlobalOptions): Promise<void> {
  await initEngine({ backend: global.backend, report: opts.json ? null : undefined });
  await loadPlugins(opts.plugin);
  const workflow = await Invae.load(modelDir);
  const backed = await openBackedDataset(file, opts.layer ?? workflow.layer).catch((e: unknown) => {
    workflow.dispose();
    throw e;
  });
  try {
    const options: ExpressionOptions = {
      librarySize: opts.librarySize,
      transformBatch: opts.transformBatch ?? null,
      batchKey: opts.batchKey,
      nSamples: opts.nSamples,
      genes: opts.genes,
      batchSize: opts.batchSize,
      seed: opts.seed,
    };
    // every option is checked here, before anything is written
    const stream = workflow.expressionStream(backed.data, options);
    const annotations = await readH5ad(file, { X: false, layers: false, rawX: false, onWarning: () => {} });
    const fileGenes = backed.data.geneNames;
    const index = new Map(fileGenes.map((g, i) => [g, i]));
    const cols = stream.geneNames.map((g) => index.get(g)!);
    const nObs = stream.nRows;
    const nVars = cols.length;
    const counts: StreamedMatrix = {
      shape: [nObs, nVars],
      *blocks(): Iterable<RowBlock> {
        for (let s = 0; s < nObs; s += opts.batchSize) {
          const e = Math.min(nObs, s + opts.batchSize);
          const rows = backed.rows.readRows(Int32Array.from({ length: e - s }, (_, i) => s + i));
          yield { start: s, end: e, matrix: csrColumns(rows, e - s, fileGenes.length, cols) };
        }
      },
    };
    const layer: StreamedMatrix = {
      shape: [nObs, nVars],
      *blocks(): Iterable<RowBlock> {
        for (const b of stream.blocks()) yield { start: b.start, end: b.end, matrix: { kind: 'dense', shape: [b.end - b.start, nVars], dtype: 'float32', data: b.data } };
      },
    };
    const out: AnnData = {
      nObs,
      nVars,
      obs: annotations.obs,
      var: { ...annotations.var, table: annotations.var.table.reify(cols) },
      layers: {},
      obsm: annotations.obsm,
      varm: {},
      obsp: annotations.obsp,
      varp: {},
      uns: annotations.uns,
    };
    await writeH5adOutput(opts.out, out, { streamX: counts, streamLayers: { [opts.key]: layer } });
    const summary = {
      out: opts.out,
      layer: opts.key,
      cells: nObs,
      genes: nVars,
      librarySize: opts.librarySize ?? 1e4,
      transformBatch: opts.transformBatch ?? null,
      nSamples: opts.nSamples ?? 1,
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      const how = opts.transformBatch === undefined ? 'denoised' : opts.transformBatch === 'all' ? 'averaged over batches' : `as batch ${opts.transformBatch}`;
      process.stdout.write(`wrote layers['${opts.key}'] (${nObs} × ${nVars}, ${how}) and the counts of those genes as X to ${opts.out}\n`);
    }
  } finally {
    backed.close();
    workflow.dispose();
  }
}

/** Columns `cols` of `n` dense rows (`width` wide) as a CSR block. */
function csrColumns(rows: Float32Array, n: number, width: number, cols: readonly number[]): CsrMatrix {
  const indptr = new Float64Array(n + 1);
  const indices: number[] = [];
  const data: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < cols.length; j++) {
      const v = rows[i * width + cols[j]!]!;
      if (v !== 0) {
        indices.push(j);
        data.push(v);
      }
    }
    indptr[i + 1] = data.length;
  }
  return { kind: 'csr', shape: [n, cols.length], dtype: 'float32', data: Float32Array.from(data), indices: Int32Array.from(indices), indptr };
}
