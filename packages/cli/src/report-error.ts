/** Error shape shared by every invae package (InvaeError, AnnDataFormatError, …), checked by duck typing. */
interface ReportableError {
  message: string;
  code?: string;
  hint?: string;
  stack?: string;
}

/** Formats an error for the terminal: `invae: error: …` plus the hint; the stack only in debug mode. */
export function formatError(err: unknown, debug: boolean): string {
  const e: ReportableError = err instanceof Error ? (err as ReportableError) : { message: String(err) };
  const lines = [`invae: error: ${e.message}`];
  if (typeof e.hint === 'string' && e.hint) lines.push(`  hint: ${e.hint}`);
  if (debug && e.stack) lines.push(e.stack);
  else if (!e.code) lines.push('  (run with --debug for the stack trace)');
  return `${lines.join('\n')}\n`;
}
