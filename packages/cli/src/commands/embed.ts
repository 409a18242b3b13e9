import { Option, type Command } from 'commander';
import { Invae, initEngine, latentObsmKey, writeResults, type LatentPart } from '@invae/core';
import { updateH5ad } from '@invae/io-anndata';
import { loadDataset } from '../dataset';
import { collect, loadPlugins } from '../plugins';
import { claimOutput, editCopy } from '../output';
import { checkInputFile } from '../fs-errors';
import type { GlobalOptions } from '../program';

interface EmbedCliOptions {
  out: string;
  latent: 'inv' | 'spur' | 'full';
  key?: string;
  layer?: string;
  overwrite?: boolean;
  plugin?: string[];
  json?: boolean;
}

/** `invae embed MODEL_DIR FILE.h5ad --out OUT.h5ad`: writes the latent means into obsm of a copy. */
export function registerEmbed(program: Command): void {
  program
    .command('embed')
    .description('compute latent representations with a trained model and write them to obsm of a copy of the file')
    .argument('<model>', 'model directory written by invae train')
    .argument('<file>', 'input .h5ad with the same genes (by var name)')
    .requiredOption('-o, --out <file>', 'output .h5ad (a copy of the input plus obsm[key])')
    .addOption(new Option('--latent <part>', 'which latent block').choices(['inv', 'spur', 'full']).default('inv'))
    .option('--key <name>', 'obsm key (default X_inVAE, X_inVAE_spur or X_inVAE_full)')
    .option('--layer <name>', 'read counts from this layer (default: the layer the model was trained on, else X)')
    .option('--plugin <path|package>', 'load a prior plugin the model was trained with (repeatable)', collect)
    .option('--overwrite', 'replace an existing output file')
    .option('--json', 'print a machine-readable summary')
    .action(async (modelDir: string, file: string, opts: EmbedCliOptions, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      await checkInputFile(file, 'file', '.h5ad file');
      const lock = await claimOutput(opts.out, { inputs: [file], overwrite: opts.overwrite });
      try {
        await embed(modelDir, file, opts, global);
      } finally {
        lock.release();
      }
    });
}

/** The embedding run of `invae embed`, once its output is claimed. */
async function embed(modelDir: string, file: string, opts: EmbedCliOptions, global: GlobalOptions): Promise<void> {
  await initEngine({ backend: global.backend, report: opts.json ? null : undefined });
  await loadPlugins(opts.plugin);
  const workflow = await Invae.load(modelDir);
  try {
    const { adata, data } = await loadDataset(file, opts.layer ?? workflow.layer);
    const part = opts.latent as LatentPart;
    const key = opts.key ?? latentObsmKey(part);
    const latent = workflow.latent(data, { part });
    // the entry as the library writes it; only it is added to a byte copy of the input (X is not re-encoded)
    writeResults(adata, { latent, latentKey: key });
    await editCopy(file, opts.out, async (tmp) => {
      await updateH5ad(tmp, { obsm: { [key]: adata.obsm[key]! } });
    });
    const summary = { out: opts.out, key, cells: latent.nRows, dims: latent.nCols, latent: part };
    if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else process.stdout.write(`wrote obsm['${key}'] (${latent.nRows} × ${latent.nCols}, ${part} latent) to ${opts.out}\n`);
  } finally {
    workflow.dispose();
  }
}
