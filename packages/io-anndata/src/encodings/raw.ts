/** `raw` 0.1.0: an AnnData's raw X, var and varm. */
import type { Group } from '../h5';
import { InconsistentDataError } from '../errors';
import type { RawData, UnsValue } from '../anndata';
import { asGroup } from './element';
import { dataframe } from './dataframe';
import { dict, writeMatrix } from './dict';
import { defineEncoding, SKIPPED, writeElement, type ReadContext } from './registry';
import { child, emptyFrame, peekShape, readFrameElement, readMapping, readMatrixElement } from './slots';

/** Reads a raw group; raw.X is left out when `loadX` is false. */
export function readRawGroup(g: Group, ctx: ReadContext, nObs: number, loadX: boolean): RawData {
  const uns: Record<string, unknown> = {};
  const varEl = child(g, 'var', ctx);
  const varFrame = varEl ? readFrameElement(varEl, ctx, uns, new Set()) : undefined;
  const xEl = loadX ? child(g, 'X', ctx) : null;
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

/** The `raw` encoding. */
export const raw = defineEncoding<RawData>({
  type: 'raw',
  version: '0.1.0',
  read(elem, ctx) {
    const g = asGroup(elem, ctx, 'raw');
    return readRawGroup(g, ctx, (peekShape(child(g, 'X', ctx) ?? g, ctx) ?? [0])[0], true);
  },
  write: {
    create: (g, name) => g.create_group(name),
    fill(elem, r, ctx) {
      const g = elem as Group;
      if (r.X) writeMatrix(g, 'X', r.X, ctx);
      writeElement(g, 'var', dataframe, r.var, ctx);
      writeElement(g, 'varm', dict, r.varm as Record<string, UnsValue>, ctx);
    },
  },
});
