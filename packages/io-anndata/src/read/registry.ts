/**
 * Registry of element readers keyed by (encoding-type, encoding-version), modelled on anndata's IO registry.
 * Adding an encoding is one `registerReader` call.
 */
import type { Dataset, Group, H5File } from '../h5';
import { AnnDataFormatError } from '../errors';
import { errText, isDataset, isGroup } from '../h5';
import { readAttr } from './attrs';

/** A warning emitted while reading (e.g. an element that was skipped). */
export interface ReadWarning {
  /** HDF5 path of the element concerned. */
  element: string;
  /** What happened. */
  message: string;
}

/** State shared by the readers of one file. */
export interface ReadContext {
  /** Path of the file being read (for error messages). */
  file: string;
  /** The open h5wasm file. */
  h5: H5File;
  /** Reports a non-fatal problem. */
  warn(element: string, message: string): void;
  /** Reads any element by dispatching on its encoding attributes. */
  read(elem: Dataset | Group): unknown;
}

/** Reads one element of a given encoding. */
export type ElementReader = (elem: Dataset | Group, ctx: ReadContext) => unknown;

/** Returned by readers for elements that were skipped (unknown encodings, awkward arrays…). */
export const SKIPPED: unique symbol = Symbol('skipped');

const readers = new Map<string, ElementReader>();

/** Registers a reader for (encodingType, encodingVersion). */
export function registerReader(encodingType: string, encodingVersion: string, reader: ElementReader): void {
  readers.set(`${encodingType}\u0000${encodingVersion}`, reader);
}

/** Removes the reader registered for (encodingType, encodingVersion); returns whether one was registered. */
export function unregisterReader(encodingType: string, encodingVersion: string): boolean {
  return readers.delete(`${encodingType}\u0000${encodingVersion}`);
}

/** Looks up the reader for (encodingType, encodingVersion), or undefined. */
export function getReader(encodingType: string, encodingVersion: string): ElementReader | undefined {
  return readers.get(`${encodingType}\u0000${encodingVersion}`);
}

/** Lists registered (encoding-type, encoding-version) pairs. */
export function registeredEncodings(): [string, string][] {
  return [...readers.keys()].map((k) => k.split('\u0000') as [string, string]);
}

/** Encoding attributes of an element (empty strings when absent). */
export function encodingOf(elem: Dataset | Group, file: string): { type: string; version: string } {
  const t = readAttr(elem, 'encoding-type', file);
  const v = readAttr(elem, 'encoding-version', file);
  return { type: typeof t === 'string' ? t : '', version: typeof v === 'string' ? v : '' };
}

/**
 * Dispatches an element to its registered reader. Elements without encoding attributes (anndata < 0.8) are read
 * as `array` (datasets) or `dict` (groups); unknown encodings are skipped with a warning.
 */
export function dispatchRead(elem: Dataset | Group, ctx: ReadContext): unknown {
  const enc = encodingOf(elem, ctx.file);
  let reader: ElementReader | undefined;
  if (!enc.type) {
    // anndata < 0.7 sparse matrices (also inside uns) carry h5sparse_format instead of encoding attributes
    const h5sparse = isGroup(elem) ? readAttr(elem, 'h5sparse_format', ctx.file) : null;
    if (h5sparse === 'csr' || h5sparse === 'csc') reader = getReader(`${h5sparse}_matrix`, '0.1.0');
    else reader = isDataset(elem) ? getReader('array', '0.2.0') : isGroup(elem) ? getReader('dict', '0.1.0') : undefined;
  } else {
    reader = getReader(enc.type, enc.version);
    if (!reader && !enc.version) reader = getReader(enc.type, '*');
  }
  if (!reader) {
    ctx.warn(elem.path, `skipped element with unsupported encoding ${enc.type || '(none)'} ${enc.version}`.trim());
    return SKIPPED;
  }
  try {
    return reader(elem, ctx);
  } catch (e) {
    if (e instanceof AnnDataFormatError) throw e;
    throw new AnnDataFormatError(`cannot read ${enc.type || 'element'}: ${errText(e)}`, {
      file: ctx.file,
      element: elem.path,
      cause: e,
    });
  }
}
