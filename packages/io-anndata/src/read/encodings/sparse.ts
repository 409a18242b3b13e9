/** Readers for csr_matrix / csc_matrix groups, with full consistency checks. */
import type { Dataset, Group } from '../../h5';
import { AnnDataFormatError, InconsistentDataError, MissingElementError } from '../../errors';
import { getEntity, isDataset, isGroup } from '../../h5';
import type { NumericArray, SparseMatrix } from '../../anndata';
import { readNumberListAttr, readAttr } from '../attrs';
import { datasetInfo, readNumeric } from '../dataset';
import { registerReader, type ReadContext } from '../registry';

/** Opens a required child dataset of a group. */
export function childDataset(g: Group, name: string, file: string): Dataset {
  const c = getEntity(g, name, file);
  if (!c) throw new MissingElementError(`missing "${name}"`, { file, element: `${g.path}/${name}` });
  if (!isDataset(c)) throw new AnnDataFormatError(`"${name}" must be a dataset`, { file, element: `${g.path}/${name}` });
  return c;
}

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

function sparseReader(format: 'csr' | 'csc') {
  return (elem: Dataset | Group, ctx: ReadContext): SparseMatrix => {
    if (!isGroup(elem)) throw new AnnDataFormatError(`${format}_matrix must be a group`, { file: ctx.file, element: elem.path });
    const shape = readNumberListAttr(elem, 'shape', ctx.file) ?? readNumberListAttr(elem, 'h5sparse_shape', ctx.file);
    return readSparseGroup(elem, format, shape, ctx);
  };
}

/** Reads the sparse format of a group: from encoding-type or the legacy h5sparse_format attribute. */
export function sparseFormatOf(g: Group, file: string): 'csr' | 'csc' | null {
  const t = readAttr(g, 'encoding-type', file) ?? readAttr(g, 'h5sparse_format', file);
  if (t === 'csr_matrix' || t === 'csr') return 'csr';
  if (t === 'csc_matrix' || t === 'csc') return 'csc';
  return null;
}

registerReader('csr_matrix', '0.1.0', sparseReader('csr'));
registerReader('csc_matrix', '0.1.0', sparseReader('csc'));
