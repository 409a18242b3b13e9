import { InvaeError } from '../errors';

/** A covariate column cannot be encoded (non-finite value, wrong length, bad saved state, ...). */
export class CovariateError extends InvaeError {
  /** The covariate (obs column) concerned. */
  readonly column: string;
  /** 0-based row of the offending value, when one row is to blame. */
  readonly row?: number;

  constructor(column: string, message: string, options: { row?: number; hint?: string; code?: string } = {}) {
    super(options.code ?? 'COVARIATE_INVALID', message, { hint: options.hint });
    this.column = column;
    this.row = options.row;
  }
}
