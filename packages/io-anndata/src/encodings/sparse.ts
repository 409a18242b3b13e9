/**
 * What `csr_matrix` and `csc_matrix` share: reading a sparse group with full consistency checks (also the legacy
 * h5sparse layout of anndata < 0.7) and writing one from memory.
 */
import type { Dataset, Group } from '../h5';
import { AnnDataFormatError, InconsistentDataError } from '../errors';
import { isGroup } from '../h5';
import type { NumericArray, SparseMatrix } from '../anndata';
import { readNumberListAttr, readAttr } from '../read/attrs';
import { datasetInfo, readNumeric } from '../read/dataset';
import { writeNumeric } from '../write/elements';
import { childDataset } from './element';
import { childPath, writeFail, type ElementReader, type ReadContext, type WriteContext } from './registry';

export { childDataset };

/** Converts an index array to Int32Array, checking each index lies in [0, bound). */
export function toIndices(a: NumericArray, bound: number, file: string, element: string): Int32Array {
  const out = a instanceof Int32Array ? a : new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!(v >= 0 && v < bound) || !Number.isInteger(v)) {
      throw new InconsistentDataError(`index ${v} at position ${i} is outside [0, ${bound})`, { file, element });
    }
    if (out !== a) out[i] = v;
  }
  return out;
}

/** Checks an indptr array: length major+1, starts at 0, non-decreasing, ends at nnz. Returns it as Float64Array. */
export function checkIndptr(a: NumericArray, major: number, nnz: number, file: string, element: string): Float64Array {
  if (a.length !== major + 1) {
    throw new InconsistentDataError(`indptr has length ${a.length}, expected ${major + 1}`, { file, element });
  }
  const out = a instanceof Float64Array ? a : Float64Array.from(a as ArrayLike<number>);
  if (out[0] !== 0) throw new InconsistentDataError(`indptr[0] is ${out[0]}, expected 0`, { file, element });
  for (let i = 1; i < out.length; i++) {
    if (out[i] < out[i - 1]) throw new InconsistentDataError(`indptr decreases at position ${i}`, { file, element });
  }
  if (out[out.length - 1] !== nnz) {
    throw new InconsistentDataError(`indptr ends at ${out[out.length - 1]} but there are ${nnz} stored values`, { file, element });
  }
  return out;
}

/** Shape of a sparse group: its `shape` attribute, or `h5sparse_shape` (anndata < 0.7). */
export function sparseShapeOf(g: Group, file: string): number[] | null {
  return readNumberListAttr(g, 'shape', file) ?? readNumberListAttr(g, 'h5sparse_shape', file);
}

/** Reads a sparse group given its format and shape (shared by the ≥0.7 and the legacy h5sparse layouts). */
export function readSparseGroup(g: Group, format: 'csr' | 'csc', shape: number[] | null, ctx: ReadContext): SparseMatrix {
  const file = ctx.file;
  if (!shape || shape.length !== 2 || shape.some((x) => !Number.isInteger(x) || x < 0)) {
    throw new InconsistentDataError(`sparse matrix has invalid shape ${JSON.stringify(shape)}`, { file, element: g.path });
  }
  const dataDs = childDataset(g, 'data', file);
  const indicesDs = childDataset(g, 'indices', file);
  const indptrDs = childDataset(g, 'indptr', file);
  const dataInfo = datasetInfo(dataDs, file);
  const nnz = dataInfo.shape?.[0] ?? 0;
  const nIdx = datasetInfo(indicesDs, file).shape?.[0] ?? 0;
  if (nIdx !== nnz) {
    throw new InconsistentDataError(`indices has ${nIdx} entries but data has ${nnz}`, { file, element: `${g.path}/indices` });
  }
  const [nr, nc] = shape;
  const major = format === 'csr' ? nr : nc;
  const minor = format === 'csr' ? nc : nr;
  const indptr = checkIndptr(readNumeric(indptrDs, file), major, nnz, file, `${g.path}/indptr`);
  const indices = toIndices(readNumeric(indicesDs, file), minor, file, `${g.path}/indices`);
  const data = readNumeric(dataDs, file);
  return { kind: format, shape: [nr, nc], dtype: dataInfo.dtype, data, indices, indptr };
}

/** The reader of a sparse encoding. */
export function sparseReader(format: 'csr' | 'csc'): ElementReader {
  return (elem: Dataset | Group, ctx: ReadContext): SparseMatrix => {
    if (!isGroup(elem)) throw new AnnDataFormatError(`${format}_matrix must be a group`, { file: ctx.file, element: elem.path });
    return readSparseGroup(elem, format, sparseShapeOf(elem, ctx.file), ctx);
  };
}

/** Reads the sparse format of a group: from encoding-type or the legacy h5sparse_format attribute. */
export function sparseFormatOf(g: Group, file: string): 'csr' | 'csc' | null {
  const t = readAttr(g, 'encoding-type', file) ?? readAttr(g, 'h5sparse_format', file);
  if (t === 'csr_matrix' || t === 'csr') return 'csr';
  if (t === 'csc_matrix' || t === 'csc') return 'csc';
  return null;
}

/** Writes the `shape` attribute of a sparse group (int64, as scipy/anndata do). */
export function writeSparseShape(g: Group, shape: [number, number]): void {
  g.create_attribute('shape', BigInt64Array.from(shape.map((x) => BigInt(x))), [2], '<q');
}

/** indptr as written: int32 when it fits, int64 otherwise. */
export function indptrForWrite(indptr: ArrayLike<number>, nnz: number): Int32Array | BigInt64Array {
  return nnz > 2 ** 31 - 1 ? BigInt64Array.from(indptr, (x) => BigInt(x)) : Int32Array.from(indptr);
}

/** Checks an in-memory sparse matrix before its group is created. */
export function checkSparseForWrite(g: Group, name: string, m: SparseMatrix, ctx: WriteContext): void {
  const el = childPath(g, name);
  const major = m.kind === 'csr' ? m.shape[0] : m.shape[1];
  const nnz = m.data.length;
  if (m.indptr.length !== major + 1) writeFail(ctx, el, `indptr has length ${m.indptr.length}, expected ${major + 1}`);
  if (m.indices.length !== nnz) writeFail(ctx, el, `indices has ${m.indices.length} entries but data has ${nnz}`);
  if (m.indptr[major] !== nnz) writeFail(ctx, el, `indptr ends at ${m.indptr[major]} but data has ${nnz} values`);
}

/** Writes the shape attribute and the data/indices/indptr datasets of an in-memory sparse matrix. */
export function fillSparse(sub: Group, m: SparseMatrix, ctx: WriteContext): void {
  writeSparseShape(sub, m.shape);
  const nnz = m.data.length;
  writeNumeric(sub, 'data', m.data, [nnz], ctx, m.dtype);
  writeNumeric(sub, 'indices', m.indices, [nnz], ctx);
  const indptr = indptrForWrite(m.indptr, nnz);
  writeNumeric(sub, 'indptr', indptr, [indptr.length], ctx);
}
