/** Reading HDF5 datasets into typed arrays, in bounded pieces (h5wasm cannot do a single read over ~2 GiB). */
import type { Dataset } from '../h5';
import { AnnDataFormatError } from '../errors';
import { assertFiltersAvailable, errText } from '../h5';
import type { NumericArray } from '../anndata';

/** Largest single h5wasm read, in bytes (h5wasm fails on one read over ~2 GiB). */
export let MAX_READ_BYTES = 256 * 1024 * 1024;

/** Changes the largest single read (for tests of the split-read path); returns the previous value. */
export function setMaxReadBytes(n: number): number {
  const prev = MAX_READ_BYTES;
  MAX_READ_BYTES = n;
  return prev;
}

/** Description of a dataset's element type. */
export interface DatasetInfo {
  shape: number[] | null;
  /** numpy-like dtype: int8…int64, uint8…uint64, float32, float64, bool, str, compound, reference, other. */
  dtype: string;
  /** Bytes per element. */
  itemSize: number;
}

/** Inspects a dataset's shape and dtype. */
export function datasetInfo(ds: Dataset, file: string): DatasetInfo {
  try {
    const m = ds.metadata;
    return { shape: m.shape, dtype: dtypeName(m as unknown as MetaLike), itemSize: m.size };
  } catch (e) {
    throw new AnnDataFormatError(`cannot read dataset metadata: ${errText(e)}`, { file, element: ds.path, cause: e });
  }
}

interface MetaLike {
  type: number;
  size: number;
  signed: boolean;
  vlen?: boolean;
  enum_type?: { type: number; members: Record<string, number> };
}

/** numpy-like dtype name from h5wasm metadata. */
export function dtypeName(m: MetaLike): string {
  switch (m.type) {
    case 0:
      return `${m.signed ? 'int' : 'uint'}${m.size * 8}`;
    case 1:
      return `float${m.size * 8}`;
    case 3:
      return 'str';
    case 6:
      return 'compound';
    case 7:
      return 'reference';
    case 8: {
      const mem = m.enum_type?.members ?? {};
      if (Object.keys(mem).length === 2 && mem.FALSE === 0 && mem.TRUE === 1) return 'bool';
      return `enum${m.size * 8}`;
    }
    case 9:
      return 'vlen';
    default:
      return 'other';
  }
}

/** Converts 64-bit integer arrays to Float64Array (exact below 2^53); other values pass through. */
export function toNumeric(v: unknown): NumericArray {
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = Number(v[i]);
    return out;
  }
  if (ArrayBuffer.isView(v)) return v as unknown as NumericArray;
  if (typeof v === 'number') return Float64Array.of(v);
  if (typeof v === 'bigint') return Float64Array.of(Number(v));
  throw new Error(`expected numeric data, got ${typeof v}`);
}

function typedCtor(dtype: string): { new (n: number): NumericArray } {
  switch (dtype) {
    case 'float32':
      return Float32Array;
    case 'float64':
    case 'int64':
    case 'uint64':
      return Float64Array;
    case 'int8':
    case 'bool':
      return Int8Array;
    case 'int16':
      return Int16Array;
    case 'int32':
      return Int32Array;
    case 'uint8':
      return Uint8Array;
    case 'uint16':
      return Uint16Array;
    case 'uint32':
      return Uint32Array;
    default:
      throw new Error(`unsupported numeric dtype ${dtype}`);
  }
}

/** Copies numbers into the typed array {@link readNumeric} uses for `dtype` (int64/uint64 → Float64Array). */
export function typedFromNumbers(dtype: string, values: ArrayLike<number>): NumericArray {
  const out = new (typedCtor(dtype))(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

/** True for dtypes {@link readNumeric} supports. */
export function isNumericDtype(dtype: string): boolean {
  return /^(u?int(8|16|32|64)|float(32|64)|bool)$/.test(dtype);
}

/**
 * Reads a numeric dataset, or rows [start, end) of its first axis, as a flat row-major typed array.
 * Large reads are split so no single h5wasm call exceeds {@link MAX_READ_BYTES}.
 */
export function readNumeric(ds: Dataset, file: string, start?: number, end?: number): NumericArray {
  const info = datasetInfo(ds, file);
  if (!isNumericDtype(info.dtype)) {
    throw new AnnDataFormatError(`expected a numeric dataset, found dtype ${info.dtype}`, { file, element: ds.path });
  }
  assertFiltersAvailable(ds, file);
  const shape = info.shape;
  if (shape === null) return new (typedCtor(info.dtype))(0);
  if (shape.length === 0) {
    try {
      return toNumeric(ds.value);
    } catch (e) {
      throw new AnnDataFormatError(`cannot read dataset: ${errText(e)}`, { file, element: ds.path, cause: e });
    }
  }
  const n0 = shape[0];
  const s = start ?? 0;
  const e = end ?? n0;
  if (s < 0 || e > n0 || s > e) {
    throw new AnnDataFormatError(`read range [${s}, ${e}) outside dataset of length ${n0}`, { file, element: ds.path });
  }
  const rowLen = shape.slice(1).reduce((a, b) => a * b, 1);
  const total = (e - s) * rowLen;
  if (total === 0) return new (typedCtor(info.dtype))(0);
  const rowsPerRead = Math.max(1, Math.floor(MAX_READ_BYTES / Math.max(1, rowLen * info.itemSize)));
  if (e - s <= rowsPerRead) {
    // one hyperslab read: h5wasm's array is returned as is (no second copy of the block)
    const arr = readSlice(ds, file, s, e);
    if (arr.length !== total) throw new AnnDataFormatError(`short read (${arr.length} values for rows ${s}..${e})`, { file, element: ds.path });
    const Ctor = typedCtor(info.dtype);
    if (arr instanceof Ctor) return arr;
    const one = new Ctor(total);
    (one as Float64Array).set(arr as Float64Array);
    return one;
  }
  const out = new (typedCtor(info.dtype))(total);
  let pos = 0;
  for (let r = s; r < e; r += rowsPerRead) {
    const r1 = Math.min(e, r + rowsPerRead);
    const arr = readSlice(ds, file, r, r1);
    if (arr.length !== (r1 - r) * rowLen) {
      throw new AnnDataFormatError(`short read (${arr.length} values for rows ${r}..${r1})`, { file, element: ds.path });
    }
    (out as Float64Array).set(arr as Float64Array, pos);
    pos += arr.length;
  }
  return out;
}

/** Rows [r, r1) of the first axis by one hyperslab read, as numbers. */
function readSlice(ds: Dataset, file: string, r: number, r1: number): NumericArray {
  let part: unknown;
  try {
    part = ds.slice([[r, r1]]);
  } catch (err) {
    throw new AnnDataFormatError(`cannot read dataset rows ${r}..${r1}: ${errText(err)}`, { file, element: ds.path, cause: err });
  }
  return toNumeric(part);
}

/** Reads a string dataset (any rank, flattened) as strings; scalars give a one-element array. */
export function readStrings(ds: Dataset, file: string): string[] {
  const info = datasetInfo(ds, file);
  assertFiltersAvailable(ds, file);
  let v: unknown;
  try {
    v = ds.value;
  } catch (e) {
    throw new AnnDataFormatError(`cannot read string dataset: ${errText(e)}`, { file, element: ds.path, cause: e });
  }
  if (info.shape === null) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.map((x) => (x === null || x === undefined ? '' : String(x)));
  throw new AnnDataFormatError(`expected strings, found dtype ${info.dtype}`, { file, element: ds.path });
}

/** Reads any dataset value via h5wasm with error wrapping (for compound, scalars, references). */
export function readRaw(ds: Dataset, file: string): unknown {
  assertFiltersAvailable(ds, file);
  try {
    return ds.value;
  } catch (e) {
    throw new AnnDataFormatError(`cannot read dataset: ${errText(e)}`, { file, element: ds.path, cause: e });
  }
}
