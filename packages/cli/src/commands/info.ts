import type { Command } from 'commander';
import { summarizeH5ad, formatSummary } from '@invae/io-anndata';
import type { GlobalOptions } from '../program';
import { checkInputFile } from '../fs-errors';

interface InfoOptions {
  engine?: boolean;
  json?: boolean;
}

/**
 * `invae info --engine`: reports the tensor engine that would be used.
 * `invae info FILE.h5ad [--json]`: describes an .h5ad file (shape, X/layers, obs/var columns, obsm, uns, writer)
 * without loading X.
 */
export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('describe an .h5ad file (info FILE.h5ad) or the tensor engine (--engine)')
    .argument('[file]', '.h5ad file to describe')
    .option('--engine', 'report the tensor engine that invae selects')
    .option('--json', 'print machine-readable JSON')
    .action(async (file: string | undefined, opts: InfoOptions, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      if (file) {
        await checkInputFile(file, 'file', '.h5ad file');
        // errors (AnnDataFormatError with code + hint) propagate to the CLI's error reporter → exit 1
        const summary = await summarizeH5ad(file);
        if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        else process.stdout.write(`${formatSummary(summary)}\n`);
        if (!opts.engine) return;
      }
      if (!opts.engine) {
        cmd.help({ error: true });
      }
      // loaded lazily so `invae info FILE.h5ad` does not pay for starting TensorFlow.js
      const { initEngine, describeEngine } = await import('@invae/core');
      const info = await initEngine({ backend: global.backend, report: null });
      if (opts.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      else {
        process.stdout.write(`${describeEngine(info)}\n`);
        for (const s of info.skipped) process.stdout.write(`  skipped ${s.engine}: ${s.error}\n`);
      }
    });
}
