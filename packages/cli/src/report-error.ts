import { describeSystemError } from './fs-errors';

/** Error shape shared by every invae package (InvaeError, AnnDataFormatError, …), checked by duck typing. */
interface ReportableError {
  message: string;
  code?: string;
  hint?: string;
  stack?: string;
}

/**
 * Formats an error for the terminal: one line `invae: error: …` and one `hint:` line; the stack
 * only in debug mode. A Node.js system error (EISDIR, ENOSPC, …) is told in words with the user's
 * path (never a temporary file's name).
 */
export function formatError(err: unknown, debug: boolean): string {
  const e: ReportableError = err instanceof Error ? (err as ReportableError) : { message: String(err) };
  const system = describeSystemError(err);
  const message = system?.message ?? e.message;
  const hint = system?.hint ?? (typeof e.hint === 'string' && e.hint ? e.hint : e.code ? '' : 'run with --debug for the stack trace');
  const lines = [`invae: error: ${message}`];
  if (hint) lines.push(`  hint: ${hint}`);
  if (debug && e.stack) lines.push(e.stack);
  return `${lines.join('\n')}\n`;
}
