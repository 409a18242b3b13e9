import { InvaeError } from '@invae/core';

/** A gene-set file or map cannot be read (bad GMT line, bad JSON shape, duplicate program). */
export class GeneSetFormatError extends InvaeError {
  /** The file (or `'<map>'` for an in-memory map). */
  readonly source: string;
  /** 1-based line of a GMT file, when one line is to blame. */
  readonly line?: number;

  constructor(source: string, message: string, options: { line?: number; hint?: string } = {}) {
    super('GENE_SET_FORMAT', `${source}${options.line ? `:${options.line}` : ''}: ${message}`, { hint: options.hint });
    this.source = source;
    this.line = options.line;
  }
}

/** Gene programs cannot be scored on a dataset (no gene of a program matched, genes missing, no control genes, …). */
export class GeneProgramError extends InvaeError {
  /** The program concerned, when one is to blame. */
  readonly program?: string;

  constructor(message: string, options: { program?: string; hint?: string; code?: string } = {}) {
    super(options.code ?? 'GENE_PROGRAM_INVALID', message, { hint: options.hint });
    this.program = options.program;
  }
}
