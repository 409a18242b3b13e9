/** Writers for individual anndata elements (arrays, sparse matrices, dataframes, dicts, scalars). */
import type { Group } from '../h5';
import { AnnDataWriteError } from '../errors';
import { errText } from '../h5';
import type { ColumnInfo, DenseMatrix, Frame, Matrix, NumericArray, SparseMatrix, UnsValue } from '../anndata';
import { isFrame, isMatrix } from '../anndata';
import { BOOL_PAD } from './bool-attr';

/** Options shared by the element writers. */
export interface WriteOptions {
  /** gzip level 0–9 for numeric arrays (default 4; 0 disables compression). */
  compression?: number;
}

interface WriteCtx {
  file: string;
  compression: number;
}

/** Largest number of bytes written in one h5wasm call. */
let MAX_WRITE_BYTES = 256 * 1024 * 1024;

/** Changes the largest single write (for tests of the split-write path); returns the previous value. */
export function setMaxWriteBytes(n: number): number {
  const prev = MAX_WRITE_BYTES;
  MAX_WRITE_BYTES = n;
  return prev;
}

function fail(ctx: WriteCtx, element: string, message: string, cause?: unknown): never {
  throw new AnnDataWriteError(message, { file: ctx.file, element, cause });
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

function full(g: Group, name: string): string {
  return g.path === '/' ? `/${name}` : `${g.path}/${name}`;
}

function setEncoding(obj: Group | { create_attribute: Group['create_attribute'] }, type: string, version: string): void {
  obj.create_attribute('encoding-type', type, null, 'S');
  obj.create_attribute('encoding-version', version, null, 'S');
}

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

/** Converts a Float64Array holding integers to BigInt64Array when the declared dtype is int64. */
function forDtype(data: NumericArray | BigInt64Array, dtype: string | undefined): NumericArray | BigInt64Array {
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
): void {
  const data = forDtype(data0, dtype);
  const code = DTYPE_CODE[data.constructor.name];
  if (!code) fail(ctx, full(g, name), `unsupported array type ${data.constructor.name}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) fail(ctx, full(g, name), `data has ${data.length} values but shape ${JSON.stringify(shape)} needs ${n}`);
  try {
    const rowLen = shape.slice(1).reduce((a, b) => a * b, 1);
    const compress = ctx.compression > 0 && n > 0 && shape.length > 0;
    const bytesPerRow = Math.max(1, rowLen * data.BYTES_PER_ELEMENT);
    const chunkRows = shape.length ? Math.max(1, Math.min(shape[0], Math.floor((256 * 1024) / bytesPerRow))) : 0;
    const chunks = compress ? [chunkRows, ...shape.slice(1).map((d) => Math.max(1, d))] : null;
    if (data.byteLength <= MAX_WRITE_BYTES || shape.length === 0) {
      g.create_dataset({
        name,
        data: data as Float32Array,
        shape,
        dtype: code,
        ...(compress ? { chunks: chunks!, compression: 'gzip' as const, compression_opts: ctx.compression } : {}),
      });
      return;
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
  } catch (e) {
    if (e instanceof AnnDataWriteError) throw e;
    fail(ctx, full(g, name), `cannot write dataset: ${errText(e)}`, e);
  }
}

/** Writes a 1-D string array (variable-length UTF-8) with string-array encoding. */
export function writeStringArray(g: Group, name: string, values: ArrayLike<unknown>, ctx: WriteCtx): void {
  const strs = Array.from(values, (v) => (v === null || v === undefined ? '' : String(v)));
  try {
    const ds = g.create_dataset({ name, data: strs, shape: [strs.length], dtype: 'S' });
    setEncoding(ds, 'string-array', '0.2.0');
  } catch (e) {
    fail(ctx, full(g, name), `cannot write strings: ${errText(e)}`, e);
  }
}

function writeDense(g: Group, name: string, m: DenseMatrix, ctx: WriteCtx): void {
  if (m.dtype === 'bool') {
    // h5wasm cannot write HDF5 enums: booleans are stored as uint8 (documented dtype loss)
    writeNumeric(g, name, Uint8Array.from(m.data as ArrayLike<number>, (x) => (x ? 1 : 0)), m.shape, ctx);
  } else writeNumeric(g, name, m.data, m.shape, ctx, m.dtype);
  const ds = g.get(name) as unknown as Group;
  setEncoding(ds, 'array', '0.2.0');
}

function writeSparse(g: Group, name: string, m: SparseMatrix, ctx: WriteCtx): void {
  const el = full(g, name);
  const major = m.kind === 'csr' ? m.shape[0] : m.shape[1];
  const nnz = m.data.length;
  if (m.indptr.length !== major + 1) fail(ctx, el, `indptr has length ${m.indptr.length}, expected ${major + 1}`);
  if (m.indices.length !== nnz) fail(ctx, el, `indices has ${m.indices.length} entries but data has ${nnz}`);
  if (m.indptr[major] !== nnz) fail(ctx, el, `indptr ends at ${m.indptr[major]} but data has ${nnz} values`);
  let sub: Group;
  try {
    sub = g.create_group(name);
    setEncoding(sub, m.kind === 'csr' ? 'csr_matrix' : 'csc_matrix', '0.1.0');
    sub.create_attribute('shape', BigInt64Array.from(m.shape.map((x) => BigInt(x))), [2], '<q');
  } catch (e) {
    fail(ctx, el, `cannot create sparse group: ${errText(e)}`, e);
  }
  writeNumeric(sub, 'data', m.data, [nnz], ctx, m.dtype);
  writeNumeric(sub, 'indices', m.indices, [nnz], ctx);
  const indptr = nnz > 2 ** 31 - 1 ? BigInt64Array.from(m.indptr, (x) => BigInt(x)) : Int32Array.from(m.indptr);
  writeNumeric(sub, 'indptr', indptr, [indptr.length], ctx);
}

/** Writes a dense or sparse matrix. */
export function writeMatrix(g: Group, name: string, m: Matrix, ctx: WriteCtx): void {
  if (m.kind === 'dense') writeDense(g, name, m, ctx);
  else writeSparse(g, name, m, ctx);
}

function writeColumn(g: Group, name: string, values: unknown[], info: ColumnInfo, ctx: WriteCtx, n: number): void {
  const el = full(g, name);
  if (values.length !== n) fail(ctx, el, `column has ${values.length} rows, expected ${n}`);
  switch (info.kind) {
    case 'categorical': {
      const cats = info.categories ?? [...new Set(values.filter((v) => v !== null && v !== undefined))].map((v) => v as string | number);
      const pos = new Map<unknown, number>(cats.map((c, i) => [c, i]));
      const codes = cats.length < 127 ? new Int8Array(n) : cats.length < 32767 ? new Int16Array(n) : new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) codes[i] = -1;
        else {
          const c = pos.get(v);
          if (c === undefined) fail(ctx, el, `value ${JSON.stringify(v)} at row ${i} is not among the categories`);
          codes[i] = c;
        }
      }
      let sub: Group;
      try {
        sub = g.create_group(name);
        setEncoding(sub, 'categorical', '0.2.0');
        // h5wasm cannot create HDF5 enums: `ordered` is written as an int8 scalar followed by a placeholder
        // attribute, and int8AttrsToBool (after the file is closed) turns it into the enum bool h5py writes
        sub.create_attribute('ordered', Int8Array.of(info.ordered ? 1 : 0), [], '<b');
        sub.create_attribute(BOOL_PAD, 'x', null, 'S');
      } catch (e) {
        fail(ctx, el, `cannot create categorical group: ${errText(e)}`, e);
      }
      writeNumeric(sub, 'codes', codes, [n], { ...ctx, compression: 0 });
      setEncoding(sub.get('codes') as unknown as Group, 'array', '0.2.0');
      if (cats.every((c) => typeof c === 'number')) {
        writeNumeric(sub, 'categories', Float64Array.from(cats as number[]), [cats.length], { ...ctx, compression: 0 });
        setEncoding(sub.get('categories') as unknown as Group, 'array', '0.2.0');
      } else writeStringArray(sub, 'categories', cats.map(String), ctx);
      return;
    }
    case 'string':
    case 'nullable-string':
      writeStringArray(g, name, values, ctx);
      return;
    case 'bool':
      writeDense(g, name, { kind: 'dense', shape: [n], dtype: 'bool', data: Uint8Array.from(values, (v) => (v ? 1 : 0)) }, ctx);
      return;
    case 'nullable-bool':
    case 'nullable-int':
      // masks need HDF5 booleans, which h5wasm cannot write: store as float64 with NaN for missing
      writeDense(g, name, { kind: 'dense', shape: [n], dtype: 'float64', data: Float64Array.from(values, (v) => (v === null || v === undefined ? NaN : Number(v))) }, ctx);
      return;
    case 'numeric':
    default: {
      const dtype = info.dtype ?? (ArrayBuffer.isView(values) ? typedDtype(values as unknown as NumericArray) : 'float64');
      writeDense(g, name, { kind: 'dense', shape: [n], dtype, data: toTyped(values, dtype, ctx, el) }, ctx);
    }
  }
}

const CTORS: Record<string, { new (n: number): NumericArray; from(a: ArrayLike<number>): NumericArray }> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  int64: Float64Array,
  uint64: Float64Array,
};

function typedDtype(a: NumericArray): string {
  const name = a.constructor.name.replace('Array', '').toLowerCase();
  return name in CTORS ? name : 'float64';
}

/** Converts column values to the typed array of a numpy dtype (int64 held as Float64Array until written). */
function toTyped(values: ArrayLike<unknown>, dtype: string, ctx: WriteCtx, el: string): NumericArray {
  const C = CTORS[dtype];
  if (!C) fail(ctx, el, `unsupported numeric dtype ${dtype}`);
  if (values instanceof C) return values as NumericArray;
  const isInt = /int/.test(dtype);
  const out = new C(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const x = v === null || v === undefined ? NaN : Number(v);
    if (isInt && !Number.isInteger(x)) fail(ctx, el, `value ${String(v)} at row ${i} is not an integer but the column dtype is ${dtype}`);
    out[i] = x;
  }
  return out;
}

/** Infers column metadata for a column the Frame does not describe. */
export function inferColumnInfo(values: ArrayLike<unknown>): ColumnInfo {
  if (ArrayBuffer.isView(values)) return { kind: 'numeric' };
  const arr = Array.from(values);
  if (arr.every((v) => typeof v === 'boolean')) return { kind: 'bool' };
  if (arr.every((v) => typeof v === 'number' || v === null)) return { kind: 'numeric', dtype: 'float64' };
  return { kind: 'string' };
}

/** Writes an obs/var Frame as a dataframe 0.2.0 group. */
export function writeFrame(g: Group, name: string, f: Frame, ctx: WriteCtx): void {
  const el = full(g, name);
  const n = f.table.numRows();
  const names = f.table.columnNames().filter((c) => c !== f.indexName);
  let sub: Group;
  try {
    sub = g.create_group(name);
    setEncoding(sub, 'dataframe', '0.2.0');
    sub.create_attribute('_index', f.indexName, null, 'S');
    if (names.length) sub.create_attribute('column-order', names, [names.length], 'S');
    else sub.create_attribute('column-order', new Float64Array(0), [0], '<d');
  } catch (e) {
    fail(ctx, el, `cannot create dataframe group: ${errText(e)}`, e);
  }
  if (!f.table.columnNames().includes(f.indexName)) fail(ctx, el, `index column "${f.indexName}" is not in the table`);
  writeStringArray(sub, f.indexName, f.table.array(f.indexName) as ArrayLike<unknown>, ctx);
  for (const c of names) {
    const values = f.table.array(c) as ArrayLike<unknown>;
    const info = f.columns[c] ?? inferColumnInfo(values);
    writeColumn(sub, c, ArrayBuffer.isView(values) ? (values as unknown as unknown[]) : Array.from(values), info, ctx, n);
  }
}

function isTyped(v: unknown): v is NumericArray | BigInt64Array {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

/** Writes any uns value (nested dicts, scalars, strings, arrays, matrices, frames). */
export function writeValue(g: Group, name: string, v: UnsValue | undefined, ctx: WriteCtx): void {
  const el = full(g, name);
  try {
    if (v === null || v === undefined) fail(ctx, el, 'cannot write null/undefined (anndata has no encoding for None)');
    if (typeof v === 'string') {
      const ds = g.create_dataset({ name, data: v, shape: [], dtype: 'S' });
      setEncoding(ds, 'string', '0.2.0');
    } else if (typeof v === 'number' || typeof v === 'bigint') {
      const isInt = typeof v === 'bigint' || Number.isInteger(v);
      const data = isInt ? BigInt64Array.of(BigInt(v)) : Float64Array.of(v as number);
      const ds = g.create_dataset({ name, data, shape: [], dtype: isInt ? '<q' : '<d' });
      setEncoding(ds, 'numeric-scalar', '0.2.0');
    } else if (typeof v === 'boolean') {
      // booleans are written as uint8 (h5wasm cannot write HDF5 enums)
      const ds = g.create_dataset({ name, data: Uint8Array.of(v ? 1 : 0), shape: [], dtype: '<B' });
      setEncoding(ds, 'numeric-scalar', '0.2.0');
    } else if (isTyped(v)) {
      writeNumeric(g, name, v, [v.length], ctx);
      setEncoding(g.get(name) as unknown as Group, 'array', '0.2.0');
    } else if (Array.isArray(v)) {
      if (v.every((x) => typeof x === 'string')) writeStringArray(g, name, v, ctx);
      else if (v.every((x) => typeof x === 'boolean')) {
        writeNumeric(g, name, Uint8Array.from(v as boolean[], (x) => (x ? 1 : 0)), [v.length], ctx);
        setEncoding(g.get(name) as unknown as Group, 'array', '0.2.0');
      } else if (v.every((x) => typeof x === 'number' || x === null)) {
        writeNumeric(g, name, Float64Array.from(v as (number | null)[], (x) => (x === null ? NaN : x)), [v.length], ctx);
        setEncoding(g.get(name) as unknown as Group, 'array', '0.2.0');
      } else fail(ctx, el, 'mixed-type arrays cannot be written; use strings or numbers');
    } else if (isMatrix(v)) writeMatrix(g, name, v, ctx);
    else if (isFrame(v)) writeFrame(g, name, v, ctx);
    else if (typeof v === 'object') writeDict(g, name, v as Record<string, UnsValue>, ctx);
    else fail(ctx, el, `unsupported value of type ${typeof v}`);
  } catch (e) {
    if (e instanceof AnnDataWriteError) throw e;
    fail(ctx, el, `cannot write: ${errText(e)}`, e);
  }
}

/** Writes a dict group (encoding `dict`). */
export function writeDict(g: Group, name: string, d: Record<string, UnsValue | Matrix | Frame>, ctx: WriteCtx): void {
  let sub: Group;
  try {
    sub = g.create_group(name);
    setEncoding(sub, 'dict', '0.1.0');
  } catch (e) {
    fail(ctx, full(g, name), `cannot create group: ${errText(e)}`, e);
  }
  for (const [k, v] of Object.entries(d)) writeValue(sub, k, v as UnsValue, ctx);
}

export type { WriteCtx };
