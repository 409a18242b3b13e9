import { InvaeError } from '../errors';

/** A count matrix is malformed (inconsistent shape, CSR structure, out-of-range row index, ...). */
export class MatrixFormatError extends InvaeError {
  constructor(message: string, options: { hint?: string } = {}) {
    super('MATRIX_INVALID', message, options);
  }
}
