/**
 * The encoding registry, modelled on anndata's IO registry: each encoding (anndata's `encoding-type` /
 * `encoding-version` attributes) is declared once, in its own module, with its reader and its writer side by side.
 * Reading dispatches on an element's attributes; writing goes through {@link writeElement}, the one place that
 * writes the encoding attributes. Readers can also be added or replaced at run time with `registerReader`.
 */
import type { Dataset, Group, H5File } from '../h5';
import { AnnDataFormatError, AnnDataWriteError } from '../errors';
import { errText, isDataset, isGroup } from '../h5';
import { readAttr } from '../read/attrs';

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

/** State shared by the writers of one file. */
export interface WriteContext {
  /** Path of the file being written (for error messages). */
  file: string;
  /** gzip level 0–9 for numeric arrays (0: none). */
  compression: number;
}

/**
 * Writes one element of an encoding in two steps, so that the registry can put the encoding attributes first on the
 * element (as anndata does): `create` makes the dataset (with its data) or the empty group; `fill` writes the rest
 * (children, other attributes).
 */
export interface EncodingWriter<T> {
  create(parent: Group, name: string, value: T, ctx: WriteContext): Dataset | Group;
  fill?(elem: Dataset | Group, value: T, ctx: WriteContext): void;
}

/** One encoding: its attributes, reader and writer. */
export interface Encoding<T = never> {
  /** `encoding-type` attribute. */
  readonly type: string;
  /** `encoding-version` attribute written (and read). */
  readonly version: string;
  /** Older versions of the same type that the same reader reads (never written). */
  readonly readsAlso?: readonly string[];
  /** Reads an element of this encoding. */
  readonly read: ElementReader;
  /** Writes an element of this encoding; absent only for read-only encodings. */
  readonly write?: EncodingWriter<T>;
  /** For a read-only encoding: why it has no writer and how such values are written instead. */
  readonly readOnly?: string;
}

/** Declares an encoding (checks it has a writer or says why not). */
export function defineEncoding<T>(e: Encoding<T>): Encoding<T> {
  if (!e.write === !e.readOnly) throw new Error(`encoding ${e.type} ${e.version} must have either a writer or a readOnly reason`);
  return e;
}

const key = (type: string, version: string) => `${type}\u0000${version}`;

const declared = new Map<string, Encoding<any>>();
const readers = new Map<string, ElementReader>();

/** Adds encodings to the registry (their readers under every version they read). */
export function addEncodings(list: readonly Encoding<any>[]): void {
  for (const e of list) {
    const k = key(e.type, e.version);
    if (declared.has(k)) throw new Error(`encoding ${e.type} ${e.version} is declared twice`);
    declared.set(k, e);
    readers.set(k, e.read);
    for (const v of e.readsAlso ?? []) readers.set(key(e.type, v), e.read);
  }
}

/** The declared encodings (each with its reader and writer), in declaration order. */
export function declaredEncodings(): Encoding<any>[] {
  return [...declared.values()];
}

/** Registers (or replaces) the reader for (encodingType, encodingVersion). */
export function registerReader(encodingType: string, encodingVersion: string, reader: ElementReader): void {
  readers.set(key(encodingType, encodingVersion), reader);
}

/** Removes the reader registered for (encodingType, encodingVersion); returns whether one was registered. */
export function unregisterReader(encodingType: string, encodingVersion: string): boolean {
  return readers.delete(key(encodingType, encodingVersion));
}

/** Looks up the reader for (encodingType, encodingVersion), or undefined. */
export function getReader(encodingType: string, encodingVersion: string): ElementReader | undefined {
  return readers.get(key(encodingType, encodingVersion));
}

/** Lists (encoding-type, encoding-version) pairs that have a reader. */
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

/** HDF5 path of `name` under `g`. */
export function childPath(g: Group, name: string): string {
  return g.path === '/' ? `/${name}` : `${g.path}/${name}`;
}

/** Throws the writers' typed error. */
export function writeFail(ctx: WriteContext, element: string, message: string, cause?: unknown): never {
  throw new AnnDataWriteError(message, { file: ctx.file, element, cause });
}

/** Writes the encoding attributes of `enc` on `elem`: the only place they are written. */
function stamp(elem: Dataset | Group, enc: Encoding<any>, ctx: WriteContext): void {
  try {
    elem.create_attribute('encoding-type', enc.type, null, 'S');
    elem.create_attribute('encoding-version', enc.version, null, 'S');
  } catch (e) {
    writeFail(ctx, elem.path, `cannot write the encoding attributes: ${errText(e)}`, e);
  }
}

function writerOf<T>(enc: Encoding<T>, ctx: WriteContext, element: string): EncodingWriter<T> {
  if (!enc.write) writeFail(ctx, element, `encoding ${enc.type} ${enc.version} cannot be written: ${enc.readOnly}`);
  return enc.write;
}

/** Writes `value` as a new element `name` of `parent` in encoding `enc` (data, then attributes, then the rest). */
export function writeElement<T>(parent: Group, name: string, enc: Encoding<T>, value: T, ctx: WriteContext): Dataset | Group {
  const element = childPath(parent, name);
  const w = writerOf(enc, ctx, element);
  let elem: Dataset | Group;
  try {
    elem = w.create(parent, name, value, ctx);
  } catch (e) {
    if (e instanceof AnnDataWriteError) throw e;
    writeFail(ctx, element, `cannot write ${enc.type}: ${errText(e)}`, e);
  }
  stamp(elem, enc, ctx);
  fillElement(w, elem, value, ctx, enc);
  return elem;
}

/** Writes `value` into an existing group (the file's root) in encoding `enc`: attributes, then the rest. */
export function writeInto<T>(elem: Group, enc: Encoding<T>, value: T, ctx: WriteContext): void {
  const w = writerOf(enc, ctx, elem.path);
  stamp(elem, enc, ctx);
  fillElement(w, elem, value, ctx, enc);
}

function fillElement<T>(w: EncodingWriter<T>, elem: Dataset | Group, value: T, ctx: WriteContext, enc: Encoding<T>): void {
  if (!w.fill) return;
  try {
    w.fill(elem, value, ctx);
  } catch (e) {
    if (e instanceof AnnDataWriteError) throw e;
    writeFail(ctx, elem.path, `cannot write ${enc.type}: ${errText(e)}`, e);
  }
}
