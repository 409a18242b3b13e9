import { CommanderError } from 'commander';
import { createProgram, printVersion, versionRequest } from './program';
import { formatError } from './report-error';

/**
 * Runs the `invae` command line with `argv` (as `process.argv`) and resolves to the exit code:
 * 0 on success, 1 on a reported error, 2 on a usage error. Errors are printed without a stack
 * trace unless `--debug` or `INVAE_DEBUG=1` is given.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  const debug = argv.includes('--debug') || process.env.INVAE_DEBUG === '1';
  try {
    const version = versionRequest(argv.slice(2));
    if (version) {
      await printVersion(version.backend);
      return 0;
    }
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed help, the version or the usage message.
      return err.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(formatError(err, debug));
    return 1;
  }
}
