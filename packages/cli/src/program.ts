import { Command, Option } from 'commander';
import { VERSION as CORE_VERSION, initEngine, describeEngine } from '@invae/core';
import { VERSION } from './version';
import { registerInfo } from './commands/info';
import { registerDemo } from './commands/demo';
import { registerSimulate } from './commands/simulate';
import { registerTrain } from './commands/train';
import { registerEmbed } from './commands/embed';
import { registerPredict } from './commands/predict';
import { registerExpression } from './commands/expression';
import { registerDe } from './commands/de';
import { registerMap } from './commands/map';
import { registerBench } from './commands/bench';
import { registerDatasets } from './commands/datasets';

/** Options every subcommand understands. */
export interface GlobalOptions {
  backend?: string;
  debug?: boolean;
}

/** Builds the `invae` command tree (also used to generate the CLI reference of the docs). */
export function createProgram(): Command {
  const program = new Command('invae')
    .description('Conditionally invariant representation learning (inVAE) for single-cell data.')
    .addOption(
      new Option('--backend <engine>', 'tensor engine: auto, tensorflow, wasm or cpu')
        .env('INVAE_BACKEND')
        .default('auto'),
    )
    .option('--debug', 'print stack traces of errors')
    .option('-V, --version', 'print the versions of invae and of the tensor engine, then exit')
    .showHelpAfterError('(run invae --help for usage)')
    .configureHelp({ sortSubcommands: false })
    // Throw instead of exiting, so main() maps usage errors to exit code 2; subcommands added
    // after this inherit the setting.
    .exitOverride();

  registerInfo(program);
  registerDemo(program);
  registerSimulate(program);
  registerTrain(program);
  registerEmbed(program);
  registerPredict(program);
  registerExpression(program);
  registerDe(program);
  registerMap(program);
  registerBench(program);
  registerDatasets(program);
  return program;
}

/**
 * When `args` (without node and script) asks for the version before any subcommand, returns the
 * `--backend` given alongside it (undefined: INVAE_BACKEND or auto); otherwise null.
 */
export function versionRequest(args: readonly string[]): { backend?: string } | null {
  let backend: string | undefined;
  let asked = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-V' || a === '--version') asked = true;
    else if (a === '--backend') backend = args[++i];
    else if (a.startsWith('--backend=')) backend = a.slice('--backend='.length);
    else if (!a.startsWith('-')) break;
  }
  return asked ? { backend } : null;
}

/** Prints `invae X (@invae/core Y)` and the engine line. */
export async function printVersion(backend: string | undefined): Promise<void> {
  const info = await initEngine({ backend, report: null });
  process.stdout.write(`invae ${VERSION} (@invae/core ${CORE_VERSION})\n${describeEngine(info)}\n`);
}
