/**
 * Low-level writing shared by the encoding writers (src/encodings): numeric datasets in bounded slices, dtype
 * codes, and the checks of element names made before anything is written.
 */
import type { Dataset, Group } from '../h5';
import { AnnDataWriteError } from '../errors';
import { errText } from '../h5';
import type { NumericArray } from '../anndata';
import { isFrame, isMatrix } from '../anndata';
import { childPath, writeFail, type WriteContext } from '../encodings/registry';

/** Options shared by the element writers. */
export interface WriteOptions {
  /** gzip level 0–9 for numeric arrays (default 4; 0 disables compression). */
  compression?: number;
}

/** State shared by the writers of one file. */
export type WriteCtx = WriteContext;

/** Largest number of bytes written in one h5wasm call. */
let MAX_WRITE_BYTES = 256 * 1024 * 1024;

/** Changes the largest single write (for tests of the split-write path); returns the previous value. */
export function setMaxWriteBytes(n: number): number {
  const prev = MAX_WRITE_BYTES;
  MAX_WRITE_BYTES = n;
  return prev;
}


/**
 * Checks the names (keys, column names) that become HDF5 element names before anything is written: each must be
 * non-empty, contain no '/', and not be '.' or '..' (as anndata requires). `where` is the parent element path.
 */
export function assertElementNames(names: Iterable<string>, where: string, file: string): void {
  for (const name of names) {
    if (name === '' || name === '.' || name === '..' || name.includes('/')) {
      throw new AnnDataWriteError(`invalid name ${JSON.stringify(name)} under ${where}`, {
        file,
        element: where,
        hint: "keys and column names must be non-empty, contain no '/', and not be '.' or '..'",
      });
    }
  }
}

/** {@link assertElementNames} over a nested uns-like dict, its frames and the columns of frames. */
export function assertValueNames(v: unknown, where: string, file: string): void {
  if (isFrame(v)) {
    assertElementNames([v.indexName, ...Object.keys(v.columns)], where, file);
    return;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v) || isMatrix(v)) return;
  const o = v as Record<string, unknown>;
  assertElementNames(Object.keys(o), where, file);
  for (const [k, x] of Object.entries(o)) assertValueNames(x, `${where}/${k}`, file);
}

const full = childPath;

const DTYPE_CODE: Record<string, string> = {
  Float32Array: '<f',
  Float64Array: '<d',
  Int8Array: '<b',
  Int16Array: '<h',
  Int32Array: '<i',
  Uint8Array: '<B',
  Uint16Array: '<H',
  Uint32Array: '<I',
  BigInt64Array: '<q',
};

/** h5wasm dtype code of a typed array (`<f`, `<i`…), or undefined for unsupported arrays. */
export function dtypeCode(data: ArrayBufferView): string | undefined {
  return DTYPE_CODE[data.constructor.name];
}

/** gzip options for a dataset at the context's compression level (none at level 0). */
export function gzipOptions(ctx: WriteCtx): { compression?: 'gzip'; compression_opts?: number } {
  return ctx.compression > 0 ? { compression: 'gzip' as const, compression_opts: ctx.compression } : {};
}

/** Converts a Float64Array holding integers to BigInt64Array when the declared dtype is int64. */
export function forDtype(data: NumericArray | BigInt64Array, dtype: string | undefined): NumericArray | BigInt64Array {
  if ((dtype === 'int64' || dtype === 'uint64') && data instanceof Float64Array) {
    const out = new BigInt64Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = BigInt(Math.round(data[i]));
    return out;
  }
  return data;
}

/**
 * Writes a numeric array as a chunked, gzip-compressed dataset. Arrays over {@link MAX_WRITE_BYTES} are written
 * in slices along the first axis (h5wasm cannot do a single write over ~2 GiB).
 */
export function writeNumeric(
  g: Group,
  name: string,
  data0: NumericArray | BigInt64Array,
  shape: number[],
  ctx: WriteCtx,
  dtype?: string,
): Dataset {
  const data = forDtype(data0, dtype);
  const code = DTYPE_CODE[data.constructor.name];
  if (!code) writeFail(ctx, full(g, name), `unsupported array type ${data.constructor.name}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) writeFail(ctx, full(g, name), `data has ${data.length} values but shape ${JSON.stringify(shape)} needs ${n}`);
  try {
    const rowLen = shape.slice(1).reduce((a, b) => a * b, 1);
    const compress = ctx.compression > 0 && n > 0 && shape.length > 0;
    const bytesPerRow = Math.max(1, rowLen * data.BYTES_PER_ELEMENT);
    const chunkRows = shape.length ? Math.max(1, Math.min(shape[0], Math.floor((256 * 1024) / bytesPerRow))) : 0;
    const chunks = compress ? [chunkRows, ...shape.slice(1).map((d) => Math.max(1, d))] : null;
    if (data.byteLength <= MAX_WRITE_BYTES || shape.length === 0) {
      return g.create_dataset({
        name,
        data: data as Float32Array,
        shape,
        dtype: code,
        ...(compress ? { chunks: chunks!, compression: 'gzip' as const, compression_opts: ctx.compression } : {}),
      });
    }
    const rowsPerWrite = Math.max(1, Math.floor(MAX_WRITE_BYTES / bytesPerRow));
    const first = Math.min(shape[0], rowsPerWrite);
    const ds = g.create_dataset({
      name,
      data: data.subarray(0, first * rowLen) as Float32Array,
      shape: [first, ...shape.slice(1)],
      maxshape: [null, ...shape.slice(1)],
      dtype: code,
      chunks: chunks ?? [chunkRows, ...shape.slice(1).map((d) => Math.max(1, d))],
      ...(compress ? { compression: 'gzip' as const, compression_opts: ctx.compression } : {}),
    });
    ds.resize(shape);
    for (let r = first; r < shape[0]; r += rowsPerWrite) {
      const r1 = Math.min(shape[0], r + rowsPerWrite);
      ds.write_slice([[r, r1]], data.subarray(r * rowLen, r1 * rowLen));
    }
    return ds;
  } catch (e) {
    if (e instanceof AnnDataWriteError) throw e;
    writeFail(ctx, full(g, name), `cannot write dataset: ${errText(e)}`, e);
  }
}

