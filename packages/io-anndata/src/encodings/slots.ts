/** Readers of AnnData's slots (matrices, frames, aligned mappings) shared by the `anndata` and `raw` encodings. */
import * as aq from 'arquero';
import type { Dataset, Group } from '../h5';
import { AnnDataFormatError, InconsistentDataError } from '../errors';
import { getEntity, isDataset, isGroup } from '../h5';
import type { AlignedMapping, Frame, Matrix } from '../anndata';
import { isFrame, isMatrix } from '../anndata';
import { readLegacyCompoundMapping, readLegacyFrame } from '../read/legacy';
import { SKIPPED, type ReadContext } from './registry';
import { readSparseGroup, sparseFormatOf, sparseShapeOf } from './sparse';

/** A child dataset or group (null when absent; links and datatypes are skipped with a warning). */
export function child(g: Group, name: string, ctx: ReadContext): Dataset | Group | null {
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
    if (fmt) return readSparseGroup(elem, fmt, sparseShapeOf(elem, ctx.file), ctx);
  }
  const v = ctx.read(elem);
  if (v === SKIPPED) return SKIPPED;
  if (isMatrix(v)) return v;
  throw new AnnDataFormatError('expected a dense or sparse matrix', { file: ctx.file, element: elem.path });
}

/** Reads obs/var (or raw/var): a dataframe element, or a compound dataset of anndata < 0.7. */
export function readFrameElement(elem: Dataset | Group, ctx: ReadContext, uns: Record<string, unknown>, consumed: Set<string>): Frame {
  if (isDataset(elem) && elem.metadata.type === 6) return readLegacyFrame(elem, uns, consumed, ctx);
  const v = ctx.read(elem);
  if (isFrame(v)) return v;
  throw new AnnDataFormatError('expected a dataframe', { file: ctx.file, element: elem.path });
}

/** A frame of `n` rows named 0…n-1 and no columns (for files without obs/var). */
export function emptyFrame(n: number): Frame {
  return { table: aq.table({ _index: Array.from({ length: n }, (_, i) => String(i)) }), indexName: '_index', columns: {} };
}

function matrixShape(m: Matrix | Frame): number[] {
  if (isFrame(m)) return [m.table.numRows()];
  return m.shape;
}

/** Reads an aligned mapping group (obsm, layers…), checking each entry's shape against [rows, cols]. */
export function readMapping(
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

/** Shape of a matrix element without reading its data. */
export function peekShape(el: Dataset | Group, ctx: ReadContext): number[] | null {
  if (isDataset(el)) return el.metadata.shape;
  return sparseShapeOf(el, ctx.file);
}

