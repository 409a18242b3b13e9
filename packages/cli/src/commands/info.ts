import type { Command } from 'commander';
import { initEngine, describeEngine } from '@invae/core';
import type { GlobalOptions } from '../program';

interface InfoOptions {
  engine?: boolean;
  json?: boolean;
}

/** `invae info --engine`: reports the tensor engine that would be used. */
export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('describe the tensor engine (--engine)')
    .option('--engine', 'report the tensor engine that invae selects')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: InfoOptions, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      if (!opts.engine) {
        cmd.help({ error: true });
      }
      const info = await initEngine({ backend: global.backend, report: null });
      if (opts.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      else {
        process.stdout.write(`${describeEngine(info)}\n`);
        for (const s of info.skipped) process.stdout.write(`  skipped ${s.engine}: ${s.error}\n`);
      }
    });
}
