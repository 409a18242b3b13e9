/** `readH5ad`: loads a whole .h5ad file into memory. */
import path from 'node:path';
import type { AnnData } from '../anndata';
import { openHdf5 } from '../h5';
import { safeClose } from '../h5';
import { ENCODINGS } from '../encodings/index';
import { dispatchRead, type ReadContext, type ReadWarning } from '../encodings/registry';
import { assertAnnDataRoot, readAnnDataRoot } from '../encodings/anndata';

/** Options of {@link readH5ad}. */
export interface ReadH5adOptions {
  /** Load X (default true). Set false to read only annotations. */
  X?: boolean;
  /** Throw MissingElementError when the file has no X (default false). */
  requireX?: boolean;
  /** Load layers (default true). */
  layers?: boolean;
  /** Load raw.X (default: same as X). */
  rawX?: boolean;
  /** Receives warnings about skipped elements; default prints them with console.warn. */
  onWarning?: (w: ReadWarning) => void;
}

/** Builds a read context for an open file. */
export function makeContext(file: string, h5: ReadContext['h5'], onWarning?: (w: ReadWarning) => void): ReadContext {
  // using the list keeps the encodings module, which registers them, in any bundle (package.json sideEffects: false)
  if (ENCODINGS.length === 0) throw new Error('no encodings registered');
  const warn = onWarning ?? ((w: ReadWarning) => console.warn(`@invae/io-anndata: ${file}: ${w.element}: ${w.message}`));
  const ctx: ReadContext = {
    file,
    h5,
    warn: (element, message) => warn({ element, message }),
    read: (elem) => dispatchRead(elem, ctx),
  };
  return ctx;
}

/**
 * Reads an .h5ad file (any anndata version since 0.6) into an in-memory {@link AnnData}.
 * Throws AnnDataFormatError (or a subclass) naming the file and element on any malformed input.
 */
export async function readH5ad(file: string, options: ReadH5adOptions = {}): Promise<AnnData> {
  const h5 = await openHdf5(file);
  try {
    const ctx = makeContext(path.resolve(file), h5, options.onWarning);
    ctx.file = file;
    assertAnnDataRoot(h5, file);
    return readAnnDataRoot(h5, ctx, options);
  } finally {
    safeClose(h5);
  }
}
