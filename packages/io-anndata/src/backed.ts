/**
 * Backed (lazy) access: obs/var and shapes without loading X; X or a layer streamed in row blocks read by
 * `indptr` slicing, so memory stays bounded by the block size whatever the matrix size.
 */
import type { Dataset, Group, H5File } from './h5';
import { safeClose } from './h5';
import { getEntity, isDataset, isGroup, openHdf5 } from './h5';
import { AnnDataFormatError, InconsistentDataError, MissingElementError } from './errors';
import type { DenseMatrix, Frame, Matrix, SparseMatrix } from './anndata';
import { makeContext } from './read/read-h5ad';
import type { ReadContext, ReadWarning } from './encodings/registry';
import { readDict } from './encodings/dict';
import { assertAnnDataRoot } from './encodings/anndata';
import { emptyFrame, peekShape, readFrameElement, readMatrixElement } from './encodings/slots';
import { checkIndptr, childDataset, sparseFormatOf, toIndices } from './encodings/sparse';
import { datasetInfo, readNumeric } from './read/dataset';
import { SKIPPED } from './encodings/registry';

/** Storage kind, shape and dtype of a matrix element, read from metadata only. */
export interface MatrixInfo {
  kind: 'dense' | 'csr' | 'csc';
  shape: number[];
  dtype: string;
  /** Stored values (sparse only). */
  nnz?: number;
  /** HDF5 filters of the data dataset (e.g. deflate, lzf). */
  filters: string[];
}

/** A block of consecutive rows [start, end) of a matrix. */
export interface RowBlock {
  start: number;
  end: number;
  /** Dense (rows × n_vars) or CSR (rows × n_vars) block, following the on-disk storage. */
  matrix: DenseMatrix | SparseMatrix;
}

/** Options of {@link openH5ad}. */
export interface OpenH5adOptions {
  /** Receives warnings about skipped elements. */
  onWarning?: (w: ReadWarning) => void;
}

/** The datasets of a CSR matrix element. */
interface CsrParts {
  dataDs: Dataset;
  indicesDs: Dataset;
  indptrDs: Dataset;
  dtype: string;
  nnz: number;
}

/** A lazily read .h5ad file. Call {@link BackedAnnData.close} when done. */
export class BackedAnnData {
  /** Number of observations. */
  readonly nObs: number;
  /** Number of variables. */
  readonly nVars: number;
  /** Cell annotations. */
  readonly obs: Frame;
  /** Gene annotations. */
  readonly var: Frame;
  private closed = false;

  /** @internal */
  constructor(
    readonly file: string,
    private readonly h5: H5File,
    private readonly ctx: ReadContext,
  ) {
    const uns: Record<string, unknown> = {};
    const consumed = new Set<string>();
    const obsEl = this.element('obs');
    const varEl = this.element('var');
    if ((obsEl && isDataset(obsEl)) || (varEl && isDataset(varEl))) {
      const u = this.element('uns');
      if (u && isGroup(u)) Object.assign(uns, readDict(u, ctx));
    }
    const xEl = this.element('X');
    const xShape = xEl ? peekShape(xEl, ctx) : null;
    const obs = obsEl ? readFrameElement(obsEl, ctx, uns, consumed) : undefined;
    const vr = varEl ? readFrameElement(varEl, ctx, uns, consumed) : undefined;
    this.nObs = obs ? obs.table.numRows() : xShape ? xShape[0] : 0;
    this.nVars = vr ? vr.table.numRows() : xShape ? xShape[1] : 0;
    if (xShape && (xShape.length !== 2 || xShape[0] !== this.nObs || xShape[1] !== this.nVars)) {
      throw new InconsistentDataError(`X has shape ${JSON.stringify(xShape)} but obs has ${this.nObs} rows and var ${this.nVars}`, {
        file,
        element: '/X',
      });
    }
    this.obs = obs ?? emptyFrame(this.nObs);
    this.var = vr ?? emptyFrame(this.nVars);
  }

  private element(p: string): Dataset | Group | null {
    this.assertOpen();
    const e = getEntity(this.h5, p, this.file);
    return e && (isDataset(e) || isGroup(e)) ? e : null;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('BackedAnnData is closed');
  }

  private matrixElement(name: string): Dataset | Group {
    const p = name === 'X' ? 'X' : name.startsWith('layers/') ? name : `layers/${name}`;
    const el = this.element(p);
    if (!el) throw new MissingElementError(`no matrix "${name}" in the file`, { file: this.file, element: `/${p}` });
    return el;
  }

  /** Whether the file has an X matrix. */
  hasX(): boolean {
    return this.element('X') !== null;
  }

  /** Names of the layers. */
  layerNames(): string[] {
    const g = this.element('layers');
    return g && isGroup(g) ? g.keys() : [];
  }

  /** Keys of obsm with their shapes (metadata only). */
  obsmShapes(): Record<string, number[]> {
    return this.mappingShapes('obsm');
  }

  /** Keys of a mapping group (obsm/varm/obsp/varp/layers) with their shapes. */
  mappingShapes(group: string): Record<string, number[]> {
    const g = this.element(group);
    const out: Record<string, number[]> = {};
    if (!g) return out;
    if (isDataset(g)) {
      // pre-0.7 compound obsm: one field per key
      const members = (g.metadata.compound_type?.members ?? []) as { name: string; array_type?: { shape?: number[] } }[];
      const n = g.metadata.shape?.[0] ?? 0;
      for (const m of members) out[m.name] = [n, ...(m.array_type?.shape ?? [1])];
      return out;
    }
    for (const k of g.keys()) {
      const c = getEntity(g, k, this.file);
      if (c && (isDataset(c) || isGroup(c))) {
        const s = peekShape(c, this.ctx);
        if (s) out[k] = s;
      }
    }
    return out;
  }

  /** Shape and dtype of a dense obsm entry (null if absent or not a dense dataset). */
  obsmInfo(key: string): { shape: number[]; dtype: string } | null {
    const g = this.element('obsm');
    if (!g || !isGroup(g)) return null;
    const c = getEntity(g, key, this.file);
    if (!c || !isDataset(c)) return null;
    const info = datasetInfo(c, this.file);
    return { shape: info.shape ?? [], dtype: info.dtype };
  }

  /** Keys of uns (top level). */
  unsKeys(): string[] {
    const g = this.element('uns');
    return g && isGroup(g) ? g.keys() : [];
  }

  /** Reads uns fully. */
  readUns(): Record<string, unknown> {
    const g = this.element('uns');
    return g && isGroup(g) ? readDict(g, this.ctx) : {};
  }

  /** Storage kind, shape and dtype of X (`'X'`) or a layer (its name), from metadata only. */
  matrixInfo(name = 'X'): MatrixInfo {
    const el = this.matrixElement(name);
    if (isDataset(el)) {
      const info = datasetInfo(el, this.file);
      return { kind: 'dense', shape: info.shape ?? [], dtype: info.dtype, filters: el.filters.map((f) => f.name || String(f.id)) };
    }
    const fmt = sparseFormatOf(el, this.file);
    if (!fmt) throw new AnnDataFormatError('matrix group is neither csr nor csc', { file: this.file, element: el.path });
    const data = childDataset(el, 'data', this.file);
    const info = datasetInfo(data, this.file);
    return {
      kind: fmt,
      shape: peekShape(el, this.ctx) ?? [],
      dtype: info.dtype,
      nnz: info.shape?.[0] ?? 0,
      filters: data.filters.map((f) => f.name || String(f.id)),
    };
  }

  /** Loads X or a layer fully into memory. */
  readMatrix(name = 'X'): Matrix {
    const m = readMatrixElement(this.matrixElement(name), this.ctx);
    if (m === SKIPPED) throw new AnnDataFormatError('matrix has an unsupported encoding', { file: this.file, element: name });
    return m;
  }

  /**
   * Yields consecutive row blocks of X (`'X'`) or a layer. CSR matrices are read by `indptr` slicing and dense
   * ones by row slicing, so only one block is in memory at a time. CSC matrices cannot be sliced by row and are
   * rejected with a typed error.
   */
  *rowBlocks(layerOrX = 'X', blockSize = 4096): Generator<RowBlock> {
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`blockSize must be a positive integer, got ${blockSize}`);
    const el = this.matrixElement(layerOrX);
    const file = this.file;
    if (isDataset(el)) {
      const info = datasetInfo(el, file);
      const shape = info.shape ?? [];
      if (shape.length !== 2) throw new InconsistentDataError(`matrix must be 2-D, has shape ${JSON.stringify(shape)}`, { file, element: el.path });
      for (let r = 0; r < shape[0]; r += blockSize) {
        const r1 = Math.min(shape[0], r + blockSize);
        const data = readNumeric(el, file, r, r1);
        yield { start: r, end: r1, matrix: { kind: 'dense', shape: [r1 - r, shape[1]], dtype: info.dtype, data } };
      }
      return;
    }
    const shape = peekShape(el, this.ctx);
    if (!shape || shape.length !== 2) throw new InconsistentDataError('sparse matrix has no valid shape', { file, element: el.path });
    const csr = this.csrParts(el, 'row blocks');
    const indptr = checkIndptr(readNumeric(csr.indptrDs, file), shape[0], csr.nnz, file, csr.indptrDs.path);
    for (let r = 0; r < shape[0]; r += blockSize) {
      const r1 = Math.min(shape[0], r + blockSize);
      yield this.csrRows(csr, shape[1], r, r1, indptr.subarray(r, r1 + 1));
    }
  }

  /**
   * Reads rows [start, end) of X (`'X'`) or a layer as one block: CSR by slicing `indptr`, `indices` and
   * `data` to those rows only, dense by row slicing. Random access for readers that visit blocks in any
   * order (e.g. block-shuffled training); CSC is rejected as in {@link rowBlocks}.
   */
  readRowRange(start: number, end: number, layerOrX = 'X'): RowBlock {
    const el = this.matrixElement(layerOrX);
    const file = this.file;
    const shape = isDataset(el) ? (datasetInfo(el, file).shape ?? []) : (peekShape(el, this.ctx) ?? []);
    if (shape.length !== 2) throw new InconsistentDataError(`matrix must be 2-D, has shape ${JSON.stringify(shape)}`, { file, element: el.path });
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > shape[0]) {
      throw new RangeError(`row range [${start}, ${end}) is outside [0, ${shape[0]}]`);
    }
    if (isDataset(el)) {
      const info = datasetInfo(el, file);
      return { start, end, matrix: { kind: 'dense', shape: [end - start, shape[1]], dtype: info.dtype, data: readNumeric(el, file, start, end) } };
    }
    const csr = this.csrParts(el, 'row ranges');
    const { nnz, indptrDs } = csr;
    const ptr = readNumeric(indptrDs, file, start, end + 1);
    if (ptr.length !== end - start + 1) throw new InconsistentDataError(`indptr is shorter than ${shape[0] + 1}`, { file, element: indptrDs.path });
    const s = Number(ptr[0]);
    const abs = new Float64Array(end - start + 1);
    for (let i = 0; i <= end - start; i++) {
      const v = Number(ptr[i]);
      if (!(v >= s) || v > nnz || (i > 0 && v < abs[i - 1])) {
        throw new InconsistentDataError(`indptr decreases or leaves [0, ${nnz}] at row ${start + i}`, { file, element: indptrDs.path });
      }
      abs[i] = v;
    }
    return this.csrRows(csr, shape[1], start, end, abs);
  }

  /** The datasets of a CSR matrix element; any other sparse format is refused (`what`: the access asked for). */
  private csrParts(el: Group, what: string): CsrParts {
    const file = this.file;
    const fmt = sparseFormatOf(el, file);
    if (fmt !== 'csr') {
      throw new AnnDataFormatError(`${what} need a dense or CSR matrix, this one is ${fmt ?? 'unknown'}`, {
        file,
        element: el.path,
        hint: 'convert the matrix to CSR (adata.X = adata.X.tocsr()) or load it fully with readMatrix',
      });
    }
    const dataDs = childDataset(el, 'data', file);
    const indicesDs = childDataset(el, 'indices', file);
    const indptrDs = childDataset(el, 'indptr', file);
    const info = datasetInfo(dataDs, file);
    const nnz = info.shape?.[0] ?? 0;
    if ((datasetInfo(indicesDs, file).shape?.[0] ?? 0) !== nnz) {
      throw new InconsistentDataError('indices and data have different lengths', { file, element: indicesDs.path });
    }
    return { dataDs, indicesDs, indptrDs, dtype: info.dtype, nnz };
  }

  /** Rows [r, r1) of a CSR matrix with `nCols` columns, given indptr[r..r1] (checked, absolute offsets). */
  private csrRows(csr: CsrParts, nCols: number, r: number, r1: number, ptr: ArrayLike<number>): RowBlock {
    const file = this.file;
    const s = ptr[0];
    const e = ptr[r1 - r];
    const data = readNumeric(csr.dataDs, file, s, e);
    const indices = toIndices(readNumeric(csr.indicesDs, file, s, e), nCols, file, csr.indicesDs.path);
    const ip = new Float64Array(r1 - r + 1);
    for (let i = 0; i <= r1 - r; i++) ip[i] = ptr[i] - s;
    return { start: r, end: r1, matrix: { kind: 'csr', shape: [r1 - r, nCols], dtype: csr.dtype, data, indices, indptr: ip } };
  }

  /** Closes the underlying file. */
  close(): void {
    if (!this.closed) {
      this.closed = true;
      safeClose(this.h5);
    }
  }
}

/** Opens an .h5ad file lazily: obs/var and shapes are read now, matrices on demand. */
export async function openH5ad(file: string, options: OpenH5adOptions = {}): Promise<BackedAnnData> {
  const h5 = await openHdf5(file);
  try {
    const ctx = makeContext(file, h5, options.onWarning);
    assertAnnDataRoot(h5, file);
    return new BackedAnnData(file, h5, ctx);
  } catch (e) {
    safeClose(h5);
    throw e;
  }
}
