/** Options carried by every io-anndata error. */
export interface AnnDataErrorDetails {
  /** The file the error concerns. */
  file?: string;
  /** The HDF5 element path inside the file (e.g. `/obs/cell_type/codes`). */
  element?: string;
  /** How the user can fix it. */
  hint?: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

function where(d: AnnDataErrorDetails): string {
  const parts: string[] = [];
  if (d.file) parts.push(d.file);
  if (d.element) parts.push(`element ${d.element}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/**
 * A file is not a valid / supported .h5ad file. Carries `code`, `hint`, `file` and `element` so callers
 * (e.g. the CLI) can report what went wrong and where.
 */
export class AnnDataFormatError extends Error {
  /** Machine-readable error code. */
  readonly code: string = 'ANNDATA_FORMAT';
  /** Human-readable hint on how to fix it. */
  readonly hint: string;
  /** The file concerned. */
  readonly file?: string;
  /** The element path concerned. */
  readonly element?: string;
  constructor(message: string, details: AnnDataErrorDetails = {}, code?: string) {
    super(`${message}${where(details)}`, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = new.target.name;
    if (code) this.code = code;
    this.hint = details.hint ?? 'check that the file is a complete .h5ad file written by anndata';
    this.file = details.file;
    this.element = details.element;
  }
}

/** The file does not start with an HDF5 signature. */
export class NotHdf5Error extends AnnDataFormatError {
  constructor(message: string, details: AnnDataErrorDetails = {}) {
    super(message, { hint: 'the file is not HDF5; pass an .h5ad file written by anndata/scanpy', ...details }, 'ANNDATA_NOT_HDF5');
  }
}

/** The file is shorter than its HDF5 superblock says (incomplete download/copy). */
export class TruncatedFileError extends AnnDataFormatError {
  constructor(message: string, details: AnnDataErrorDetails = {}) {
    super(message, { hint: 'the file is truncated; copy or download it again', ...details }, 'ANNDATA_TRUNCATED');
  }
}

/** A required element (e.g. X) is missing. */
export class MissingElementError extends AnnDataFormatError {
  constructor(message: string, details: AnnDataErrorDetails = {}) {
    super(message, { hint: 'the file lacks a required element; re-export it with anndata', ...details }, 'ANNDATA_MISSING_ELEMENT');
  }
}

/** An HDF5 file that is not AnnData: no X, obs or var and no anndata encoding attributes. */
export class NotAnnDataError extends AnnDataFormatError {
  constructor(message: string, details: AnnDataErrorDetails = {}) {
    super(message, { hint: 'the HDF5 file is not an AnnData .h5ad file (written by anndata/scanpy); check the path', ...details }, 'ANNDATA_NOT_ANNDATA');
  }
}

/** Shapes, indptr or indices of a matrix / dataframe disagree with each other. */
export class InconsistentDataError extends AnnDataFormatError {
  constructor(message: string, details: AnnDataErrorDetails = {}) {
    super(message, { hint: 'the file is internally inconsistent (corrupt or written by a buggy tool)', ...details }, 'ANNDATA_INCONSISTENT');
  }
}

/** Categorical codes out of range of their categories. */
export class CategoricalCodeError extends AnnDataFormatError {
  constructor(message: string, details: AnnDataErrorDetails = {}) {
    super(message, { hint: 'categorical codes must be -1 (missing) or index a category', ...details }, 'ANNDATA_CATEGORICAL_CODES');
  }
}

/** A dataset uses an HDF5 filter (compression) that is not available. */
export class UnsupportedFilterError extends AnnDataFormatError {
  constructor(message: string, details: AnnDataErrorDetails = {}) {
    super(
      message,
      { hint: 're-save the file with a compression this package reads (gzip, lzf, blosc, zstd, lz4, bitshuffle, bz2), e.g. adata.write_h5ad(path, compression="gzip")', ...details },
      'ANNDATA_UNSUPPORTED_FILTER',
    );
  }
}

/** Writing a file failed (the destination is left untouched). */
export class AnnDataWriteError extends Error {
  /** Machine-readable error code. */
  readonly code: string = 'ANNDATA_WRITE';
  /** Human-readable hint. */
  readonly hint: string;
  /** The destination file. */
  readonly file?: string;
  /** The element being written. */
  readonly element?: string;
  constructor(message: string, details: AnnDataErrorDetails = {}) {
    super(`${message}${where(details)}`, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'AnnDataWriteError';
    this.hint = details.hint ?? 'check the data passed to writeH5ad and that the folder is writable';
    this.file = details.file;
    this.element = details.element;
  }
}
