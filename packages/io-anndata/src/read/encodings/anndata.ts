/** Readers for the `anndata` root group and `raw`, covering the ≥0.8, 0.7 and pre-0.7 layouts. */
import type { Dataset, Group } from '../../h5';
import { AnnDataFormatError, InconsistentDataError, MissingElementError, NotAnnDataError } from '../../errors';
import { getEntity, isDataset, isGroup } from '../../h5';
import type { AlignedMapping, AnnData, DenseMatrix, Frame, Matrix, RawData, UnsValue } from '../../anndata';
import { isFrame, isMatrix } from '../../anndata';
import { readLegacyCompoundMapping, readLegacyFrame } from '../legacy';
import { registerReader, SKIPPED, type ReadContext } from '../registry';
import { readDict } from './basic';
import { isColumnData } from './dataframe';
import { readSparseGroup, sparseFormatOf } from './sparse';
import { readAttr, readNumberListAttr } from '../attrs';
import * as aq from 'arquero';

/** What to load from the root group. */
export interface RootReadOptions {
  /** Load X (default true). */
  X?: boolean;
  /** Throw MissingElementError when X is absent (default false). */
  requireX?: boolean;
  /** Load layers (default true). */
  layers?: boolean;
  /** Load raw.X (default: same as X). */
  rawX?: boolean;
}

function child(g: Group, name: string, ctx: ReadContext): Dataset | Group | null {
  const c = getEntity(g, name, ctx.file);
  if (c === null) return null;
  if (isDataset(c) || isGroup(c)) return c;
  ctx.warn(`${g.path}/${name}`, 'skipped element that is neither a group nor a dataset');
  return null;
}

/** Reads a matrix element (dense dataset, encoded sparse group, or legacy h5sparse group). */
export function readMatrixElement(elem: Dataset | Group, ctx: ReadContext): Matrix | typeof SKIPPED {
  if (isGroup(elem)) {
    const fmt = sparseFormatOf(elem, ctx.file);
    if (fmt) {
      const shape = readNumberListAttr(elem, 'shape', ctx.file) ?? readNumberListAttr(elem, 'h5sparse_shape', ctx.file);
      return readSparseGroup(elem, fmt, shape, ctx);
    }
  }
  const v = ctx.read(elem);
  if (v === SKIPPED) return SKIPPED;
  if (isMatrix(v)) return v;
  throw new AnnDataFormatError('expected a dense or sparse matrix', { file: ctx.file, element: elem.path });
}

export function readFrameElement(elem: Dataset | Group, ctx: ReadContext, uns: Record<string, unknown>, consumed: Set<string>): Frame {
  if (isDataset(elem) && elem.metadata.type === 6) return readLegacyFrame(elem, uns, consumed, ctx);
  const v = ctx.read(elem);
  if (isFrame(v)) return v;
  throw new AnnDataFormatError('expected a dataframe', { file: ctx.file, element: elem.path });
}

export function emptyFrame(n: number): Frame {
  return { table: aq.table({ _index: Array.from({ length: n }, (_, i) => String(i)) }), indexName: '_index', columns: {} };
}

function matrixShape(m: Matrix | Frame): number[] {
  if (isFrame(m)) return [m.table.numRows()];
  return m.shape;
}

function readMapping(
  g: Group,
  name: string,
  ctx: ReadContext,
  rows: number,
  cols: number | null,
  allowFrames: boolean,
): AlignedMapping {
  const el = child(g, name, ctx);
  const out: AlignedMapping = {};
  if (!el) return out;
  if (isDataset(el)) {
    if (el.metadata.type === 6) return readLegacyCompoundMapping(el, rows, ctx);
    throw new AnnDataFormatError(`${name} must be a group`, { file: ctx.file, element: el.path });
  }
  for (const key of el.keys()) {
    const c = child(el, key, ctx);
    if (!c) continue;
    let v: Matrix | Frame | typeof SKIPPED;
    if (allowFrames && isGroup(c) && !sparseFormatOf(c, ctx.file)) {
      const r = ctx.read(c);
      if (r === SKIPPED) continue;
      if (!isFrame(r) && !isMatrix(r)) {
        ctx.warn(c.path, 'skipped element that is not a matrix or dataframe');
        continue;
      }
      v = r;
    } else v = readMatrixElement(c, ctx);
    if (v === SKIPPED) continue;
    const shape = matrixShape(v);
    if (shape[0] !== rows || (cols !== null && shape[1] !== cols)) {
      throw new InconsistentDataError(
        `shape ${JSON.stringify(shape)} does not match the expected ${cols === null ? `first dimension ${rows}` : `[${rows}, ${cols}]`}`,
        { file: ctx.file, element: c.path },
      );
    }
    out[key] = v;
  }
  return out;
}

/** Makes dict values plain: 1-D arrays → typed arrays / boolean[], categorical columns → their values. */
export function simplifyUns(v: unknown): UnsValue {
  if (isColumnData(v)) return Array.from(v.values) as UnsValue;
  if (isMatrix(v) && v.kind === 'dense' && v.shape.length === 1) {
    const d = v as DenseMatrix;
    if (d.dtype === 'bool') return Array.from(d.data, (x) => x !== 0);
    // int64 stays int64 (BigInt64Array) so a rewrite keeps the dtype
    if (d.dtype === 'int64' || d.dtype === 'uint64') return BigInt64Array.from(d.data as Float64Array, (x) => BigInt(x));
    return d.data;
  }
  if (isMatrix(v) || isFrame(v)) return v;
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
    const out: Record<string, UnsValue> = {};
    for (const [k, x] of Object.entries(v)) out[k] = simplifyUns(x);
    return out;
  }
  return v as UnsValue;
}

function readRawGroup(g: Group, ctx: ReadContext, nObs: number, opts: RootReadOptions): RawData {
  const uns: Record<string, unknown> = {};
  const varEl = child(g, 'var', ctx);
  const varFrame = varEl ? readFrameElement(varEl, ctx, uns, new Set()) : undefined;
  const xEl = (opts.rawX ?? opts.X) === false ? null : child(g, 'X', ctx);
  const X = xEl ? readMatrixElement(xEl, ctx) : undefined;
  const nVars = varFrame ? varFrame.table.numRows() : X && X !== SKIPPED ? X.shape[1] : 0;
  if (X && X !== SKIPPED && (X.shape[0] !== nObs || X.shape[1] !== nVars)) {
    throw new InconsistentDataError(`raw X has shape ${JSON.stringify(X.shape)}, expected [${nObs}, ${nVars}]`, {
      file: ctx.file,
      element: xEl!.path,
    });
  }
  return {
    X: X === SKIPPED ? undefined : X,
    var: varFrame ?? emptyFrame(nVars),
    varm: readMapping(g, 'varm', ctx, nVars, null, true),
  };
}

/**
 * Throws {@link NotAnnDataError} for a root group with none of X, obs, var and no anndata encoding attribute
 * (any other HDF5 file would otherwise read as an empty 0 × 0 AnnData).
 */
export function assertAnnDataRoot(root: Group, file: string): void {
  const t = readAttr(root, 'encoding-type', file);
  if (t === 'anndata') return;
  const keys = root.keys();
  if (keys.includes('X') || keys.includes('obs') || keys.includes('var')) return;
  const shown = keys.slice(0, 8).join(', ') + (keys.length > 8 ? ', …' : '');
  throw new NotAnnDataError(`not an AnnData file: no X, obs or var (top-level elements: ${shown || 'none'})`, { file, element: root.path });
}

/** Reads a whole AnnData from a root group of any supported layout. */
export function readAnnDataRoot(root: Group, ctx: ReadContext, opts: RootReadOptions = {}): AnnData {
  const unsEl = child(root, 'uns', ctx);
  const unsRaw: Record<string, unknown> = unsEl && isGroup(unsEl) ? readDict(unsEl, ctx) : {};
  const consumed = new Set<string>();
  const obsEl = child(root, 'obs', ctx);
  const varEl = child(root, 'var', ctx);
  const xEl = child(root, 'X', ctx);
  if (!xEl && opts.requireX) throw new MissingElementError('the file has no X matrix', { file: ctx.file, element: '/X' });
  let X: Matrix | undefined;
  if (xEl && opts.X !== false) {
    const m = readMatrixElement(xEl, ctx);
    if (m !== SKIPPED) X = m;
    if (X && X.shape.length !== 2) throw new InconsistentDataError(`X must be 2-D, has shape ${JSON.stringify(X.shape)}`, { file: ctx.file, element: xEl.path });
  }
  let xShape: number[] | null = X ? X.shape : null;
  if (!xShape && xEl) xShape = peekShape(xEl, ctx);
  const obs = obsEl ? readFrameElement(obsEl, ctx, unsRaw, consumed) : undefined;
  const vr = varEl ? readFrameElement(varEl, ctx, unsRaw, consumed) : undefined;
  const nObs = obs ? obs.table.numRows() : xShape ? xShape[0] : 0;
  const nVars = vr ? vr.table.numRows() : xShape ? xShape[1] : 0;
  if (xShape && (xShape[0] !== nObs || xShape[1] !== nVars)) {
    throw new InconsistentDataError(`X has shape ${JSON.stringify(xShape)} but obs has ${nObs} rows and var ${nVars}`, {
      file: ctx.file,
      element: '/X',
    });
  }
  const layers = opts.layers === false ? {} : (readMapping(root, 'layers', ctx, nObs, nVars, false) as Record<string, Matrix>);
  const obsm = readMapping(root, 'obsm', ctx, nObs, null, true);
  const varm = readMapping(root, 'varm', ctx, nVars, null, true);
  const obsp = readMapping(root, 'obsp', ctx, nObs, nObs, false) as Record<string, Matrix>;
  const varp = readMapping(root, 'varp', ctx, nVars, nVars, false) as Record<string, Matrix>;
  const uns: Record<string, UnsValue> = {};
  for (const [k, v] of Object.entries(unsRaw)) if (!consumed.has(k)) uns[k] = simplifyUns(v);
  moveAdjacency(uns, obsp);
  const adata: AnnData = {
    nObs,
    nVars,
    X,
    obs: obs ?? emptyFrame(nObs),
    var: vr ?? emptyFrame(nVars),
    layers,
    obsm,
    varm,
    obsp,
    varp,
    uns,
  };
  const rawEl = child(root, 'raw', ctx);
  if (rawEl && isGroup(rawEl)) adata.raw = readRawGroup(rawEl, ctx, nObs, opts);
  else if (root.keys().includes('raw.X') || root.keys().includes('raw.var')) {
    // pre-0.7: raw stored as root-level raw.X / raw.var / raw.varm
    const rawVarEl = child(root, 'raw.var', ctx);
    const rawVar = rawVarEl ? readFrameElement(rawVarEl, ctx, unsRaw, consumed) : undefined;
    const rawXEl = (opts.rawX ?? opts.X) === false ? null : child(root, 'raw.X', ctx);
    const rawX = rawXEl ? readMatrixElement(rawXEl, ctx) : undefined;
    const nv = rawVar ? rawVar.table.numRows() : rawX && rawX !== SKIPPED ? rawX.shape[1] : 0;
    adata.raw = { X: rawX === SKIPPED ? undefined : rawX, var: rawVar ?? emptyFrame(nv), varm: readMapping(root, 'raw.varm', ctx, nv, null, true) };
  }
  return adata;
}

/**
 * Files of anndata < 0.7 (scanpy < 1.5) kept the neighbour graphs in `uns/neighbors/{distances,connectivities}`;
 * like anndata's reader, they are moved to `obsp`.
 */
function moveAdjacency(uns: Record<string, UnsValue>, obsp: Record<string, Matrix>): void {
  const n = uns.neighbors;
  if (typeof n !== 'object' || n === null || Array.isArray(n) || ArrayBuffer.isView(n) || isMatrix(n) || isFrame(n)) return;
  const nb = n as Record<string, UnsValue>;
  for (const k of ['distances', 'connectivities']) {
    const m = nb[k];
    if (isMatrix(m) && m.shape.length === 2) {
      obsp[k] = m;
      delete nb[k];
    }
  }
}

/** Shape of a matrix element without reading its data. */
export function peekShape(el: Dataset | Group, ctx: ReadContext): number[] | null {
  if (isDataset(el)) return el.metadata.shape;
  return readNumberListAttr(el, 'shape', ctx.file) ?? readNumberListAttr(el, 'h5sparse_shape', ctx.file);
}

registerReader('anndata', '0.1.0', (elem, ctx) => {
  if (!isGroup(elem)) throw new AnnDataFormatError('anndata must be a group', { file: ctx.file, element: elem.path });
  return readAnnDataRoot(elem, ctx);
});
registerReader('raw', '0.1.0', (elem, ctx) => {
  if (!isGroup(elem)) throw new AnnDataFormatError('raw must be a group', { file: ctx.file, element: elem.path });
  return readRawGroup(elem, ctx, (peekShape(child(elem, 'X', ctx) ?? elem, ctx) ?? [0])[0], {});
});
