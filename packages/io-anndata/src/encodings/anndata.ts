/** `anndata` 0.1.0: the root group, read in the ≥0.8, 0.7 and pre-0.7 layouts, written in the 0.8 layout. */
import * as aq from 'arquero';
import type { Group } from '../h5';
import { InconsistentDataError, MissingElementError, NotAnnDataError } from '../errors';
import { isGroup } from '../h5';
import type { AnnData, DenseMatrix, Matrix, UnsValue } from '../anndata';
import { isFrame, isMatrix } from '../anndata';
import { readAttr } from '../read/attrs';
import { writeStreamed, type StreamedMatrix } from '../write/streamed';
import { isColumnData } from './column';
import { dataframe } from './dataframe';
import { dict, readDict, writeMatrix } from './dict';
import { asGroup } from './element';
import { raw, readRawGroup } from './raw';
import { defineEncoding, SKIPPED, writeElement, type ReadContext } from './registry';
import { child, emptyFrame, peekShape, readFrameElement, readMapping, readMatrixElement } from './slots';

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
  if (rawEl && isGroup(rawEl)) adata.raw = readRawGroup(rawEl, ctx, nObs, (opts.rawX ?? opts.X) !== false);
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

/** What the `anndata` writer takes: the AnnData, and X / layers to write from row blocks instead of memory. */
export interface AnnDataWriteValue {
  adata: AnnData;
  streamed?: { X?: StreamedMatrix; layers?: Record<string, StreamedMatrix> };
}

/** The `anndata` encoding (the root group; written with writeInto). */
export const anndata = defineEncoding<AnnDataWriteValue>({
  type: 'anndata',
  version: '0.1.0',
  read: (elem, ctx) => readAnnDataRoot(asGroup(elem, ctx, 'anndata'), ctx),
  write: {
    create: (g, name) => g.create_group(name),
    fill(elem, { adata, streamed = {} }, ctx) {
      const g = elem as Group;
      if (streamed.X) writeStreamed(g, 'X', streamed.X, ctx);
      else if (adata.X) writeMatrix(g, 'X', adata.X, ctx);
      writeElement(g, 'obs', dataframe, adata.obs, ctx);
      writeElement(g, 'var', dataframe, adata.var, ctx);
      const layers = writeElement(g, 'layers', dict, adata.layers, ctx) as Group;
      for (const [k, s] of Object.entries(streamed.layers ?? {})) writeStreamed(layers, k, s, ctx);
      for (const slot of ['obsm', 'varm', 'obsp', 'varp'] as const) writeElement(g, slot, dict, adata[slot] as Record<string, UnsValue>, ctx);
      writeElement(g, 'uns', dict, adata.uns, ctx);
      if (adata.raw) writeElement(g, 'raw', raw, adata.raw, ctx);
    },
  },
});
