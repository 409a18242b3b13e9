import { InvaeError } from '@invae/core';

/**
 * Bad input to a benchmark metric: a shape or length mismatch, a non-finite value, an unknown
 * option. `where` names the offending argument (e.g. `embedding`, `labels`, `X_pre`).
 */
export class BenchInputError extends InvaeError {
  /** The argument that is wrong. */
  readonly where: string;

  constructor(where: string, message: string, options: { hint?: string } = {}) {
    super('BENCH_INPUT', message, options);
    this.where = where;
  }
}
