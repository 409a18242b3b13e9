/** `writeH5ad` (new file) and `updateH5ad` (add/replace obsm and uns entries of an existing file). */
import fs from 'node:fs';
import type { Group, H5File } from '../h5';
import { safeClose } from '../h5';
import { errText, getEntity, isGroup, loadH5Writer, openHdf5 } from '../h5';
import { AnnDataWriteError, InconsistentDataError } from '../errors';
import type { AnnData, DenseMatrix, Frame, Matrix, UnsValue } from '../anndata';
import { isFrame } from '../anndata';
import { writeAtomically } from './atomic';
import { int8AttrsToBool, int8DatasetsToBool } from './bool-attr';
import { assertValueNames, forDtype, type WriteCtx, type WriteOptions } from './elements';
import type { StreamedMatrix } from './streamed';
import { openH5ad } from '../backed';
import { readH5ad } from '../read/read-h5ad';
import { anndata, dict } from '../encodings/index';
import { writeElement, writeInto } from '../encodings/registry';
import { writeValue } from '../encodings/dict';

export type { WriteOptions, StreamedMatrix };

function checkShapes(adata: AnnData, file: string): void {
  const bad = (element: string, msg: string) => new AnnDataWriteError(msg, { file, element, hint: 'fix the shapes of the AnnData passed to writeH5ad' });
  if (adata.obs.table.numRows() !== adata.nObs) throw bad('/obs', `obs has ${adata.obs.table.numRows()} rows, nObs is ${adata.nObs}`);
  if (adata.var.table.numRows() !== adata.nVars) throw bad('/var', `var has ${adata.var.table.numRows()} rows, nVars is ${adata.nVars}`);
  const m2 = (m: Matrix | Frame, el: string, r: number, c: number | null) => {
    const s = isFrame(m) ? [m.table.numRows()] : m.shape;
    if (s[0] !== r || (c !== null && s[1] !== c)) throw bad(el, `shape ${JSON.stringify(s)} does not match [${r}${c === null ? ', …' : `, ${c}`}]`);
  };
  if (adata.X) m2(adata.X, '/X', adata.nObs, adata.nVars);
  for (const [k, m] of Object.entries(adata.layers)) m2(m, `/layers/${k}`, adata.nObs, adata.nVars);
  for (const [k, m] of Object.entries(adata.obsm)) m2(m, `/obsm/${k}`, adata.nObs, null);
  for (const [k, m] of Object.entries(adata.varm)) m2(m, `/varm/${k}`, adata.nVars, null);
  for (const [k, m] of Object.entries(adata.obsp)) m2(m, `/obsp/${k}`, adata.nObs, adata.nObs);
  for (const [k, m] of Object.entries(adata.varp)) m2(m, `/varp/${k}`, adata.nVars, adata.nVars);
  checkNames(adata, file);
}

/** Every key and column name becomes an HDF5 name: checked before anything is written. */
function checkNames(adata: Pick<AnnData, 'obs' | 'var' | 'layers' | 'obsm' | 'varm' | 'obsp' | 'varp' | 'uns' | 'raw'>, file: string): void {
  assertValueNames(adata.obs, '/obs', file);
  assertValueNames(adata.var, '/var', file);
  for (const k of ['layers', 'obsm', 'varm', 'obsp', 'varp', 'uns'] as const) assertValueNames(adata[k], `/${k}`, file);
  if (adata.raw) {
    assertValueNames(adata.raw.var, '/raw/var', file);
    assertValueNames(adata.raw.varm, '/raw/varm', file);
  }
}

/**
 * Writes an HDF5 file atomically: `h5lib` opens the temporary file (`'w'`: new; `'copy'`: a byte copy of `file`,
 * opened for appending), `body` writes into it, then the file is closed, its boolean attributes fixed
 * ({@link int8AttrsToBool}) and its boolean datasets ({@link int8DatasetsToBool}), and it is renamed onto `file`.
 */
async function writeH5Atomically(file: string, init: 'new' | 'copy', body: (h5: H5File) => void): Promise<void> {
  const h5lib = await loadH5Writer();
  await writeAtomically(file, (tmp) => {
    if (init === 'copy') fs.copyFileSync(file, tmp);
    let h5: H5File;
    try {
      h5 = new h5lib.File(tmp, init === 'copy' ? 'a' : 'w');
    } catch (e) {
      throw new AnnDataWriteError(`${init === 'copy' ? 'cannot open the copy for writing' : 'cannot create file'}: ${errText(e)}`, { file, cause: e });
    }
    try {
      body(h5);
    } finally {
      safeClose(h5);
    }
    int8AttrsToBool(tmp);
    int8DatasetsToBool(tmp);
  });
}

/** Overwrites the values of an existing dense dataset of identical shape and dtype, in row slices. */
function overwriteDense(g: Group, name: string, m: DenseMatrix, ctx: WriteCtx): void {
  const el = g.path === '/' ? `/${name}` : `${g.path}/${name}`;
  try {
    const ds = g.get(name) as unknown as { write_slice(r: number[][], d: unknown): void };
    const rowLen = m.shape.slice(1).reduce((a, b) => a * b, 1);
    const rowsPer = Math.max(1, Math.floor((64 * 1024 * 1024) / Math.max(1, rowLen * m.data.BYTES_PER_ELEMENT)));
    const data = forDtype(m.data, m.dtype);
    for (let r = 0; r < m.shape[0]; r += rowsPer) {
      const r1 = Math.min(m.shape[0], r + rowsPer);
      ds.write_slice([[r, r1]], data.subarray(r * rowLen, r1 * rowLen));
    }
  } catch (e) {
    throw new AnnDataWriteError(`cannot overwrite dataset: ${errText(e)}`, { file: ctx.file, element: el, cause: e });
  }
}

/**
 * Writes `adata` to a new .h5ad file readable by anndata/scanpy. Numeric arrays are gzip-compressed.
 * `streamX` / `streamLayers` supply X / layers as row blocks (bounded memory) instead of in `adata`.
 * The file is written to a temporary file in the same folder and renamed into place, so a failure leaves any
 * existing file untouched and no partial file behind.
 */
export async function writeH5ad(
  file: string,
  adata: AnnData,
  options: WriteOptions & { streamX?: StreamedMatrix; streamLayers?: Record<string, StreamedMatrix> } = {},
): Promise<void> {
  for (const [k, s] of Object.entries(options.streamLayers ?? {})) {
    if (k in adata.layers) throw new AnnDataWriteError(`layer '${k}' is given both in adata.layers and in options.streamLayers`, { file, element: `/layers/${k}` });
    if (s.shape[0] !== adata.nObs || s.shape[1] !== adata.nVars) {
      throw new AnnDataWriteError(`streamed layer '${k}' has shape [${s.shape[0]}, ${s.shape[1]}], expected [${adata.nObs}, ${adata.nVars}]`, { file, element: `/layers/${k}` });
    }
  }
  assertValueNames(options.streamLayers ?? {}, '/layers', file);
  if (options.streamX) {
    const [r, c] = options.streamX.shape;
    if (adata.X) throw new AnnDataWriteError('give either adata.X or options.streamX, not both', { file, element: '/X' });
    if (r !== adata.nObs || c !== adata.nVars) {
      throw new AnnDataWriteError(`streamX shape [${r}, ${c}] does not match [${adata.nObs}, ${adata.nVars}]`, { file, element: '/X' });
    }
  }
  checkShapes(adata, file);
  const ctx: WriteCtx = { file, compression: options.compression ?? 4 };
  await writeH5Atomically(file, 'new', (h5) => writeInto(h5, anndata, { adata, streamed: { ...(options.streamX ? { X: options.streamX } : {}), ...(options.streamLayers ? { layers: options.streamLayers } : {}) } }, ctx));
}

/** Entries to add or replace with {@link updateH5ad}. */
export interface H5adUpdate {
  /** obsm entries (n_obs rows each). */
  obsm?: Record<string, Matrix | Frame>;
  /** uns entries (nested dicts allowed). */
  uns?: Record<string, UnsValue>;
}

/** How {@link updateH5ad} applied the update. */
export interface UpdateReport {
  /** `in-place`: the file was copied and the new entries added (X untouched); `rebuilt`: replaced entries forced a rewrite. */
  mode: 'in-place' | 'rebuilt';
  /** obsm keys whose existing dataset (same shape and dtype) was overwritten in place. */
  overwritten: string[];
  /** When rebuilt: columns of the file whose dtype changed because h5wasm cannot write booleans (see README). */
  dtypeChanges: string[];
}

const WRITABLE_DTYPES = new Set(['float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32']);

/**
 * Adds or replaces obsm/uns entries of an existing .h5ad file, atomically (temp copy + rename). New keys, and
 * obsm arrays replacing one of identical shape and dtype, are written into a byte copy of the file without
 * re-encoding X. h5wasm cannot unlink HDF5 objects, so any other replacement rebuilds the file, streaming X and
 * layers in row blocks (bounded memory); elements the reader cannot carry over make that an error, and dtype
 * changes forced by h5wasm (booleans) are listed in the report.
 */
export async function updateH5ad(file: string, update: H5adUpdate, options: WriteOptions = {}): Promise<UpdateReport> {
  const ctx: WriteCtx = { file, compression: options.compression ?? 4 };
  assertValueNames(update.obsm ?? {}, '/obsm', file);
  assertValueNames(update.uns ?? {}, '/uns', file);
  const backed = await openH5ad(file, { onWarning: () => {} });
  let needRebuild = false;
  let nObs: number;
  const overwrite = new Set<string>();
  try {
    nObs = backed.nObs;
    const obsmKeys = Object.keys(backed.obsmShapes());
    const unsKeys = backed.unsKeys();
    for (const [k, m] of Object.entries(update.obsm ?? {})) {
      const rows = isFrame(m) ? m.table.numRows() : m.shape[0];
      if (rows !== nObs) {
        throw new InconsistentDataError(`obsm "${k}" has ${rows} rows but the file has ${nObs} observations`, { file, element: `/obsm/${k}` });
      }
      if (obsmKeys.includes(k)) {
        // same shape and dtype: overwrite the existing dataset's values in place
        const info = backed.obsmInfo(k);
        if (
          info &&
          !isFrame(m) &&
          m.kind === 'dense' &&
          m.dtype !== undefined &&
          WRITABLE_DTYPES.has(m.dtype) &&
          info.dtype === m.dtype &&
          JSON.stringify(info.shape) === JSON.stringify(m.shape)
        )
          overwrite.add(k);
        else needRebuild = true;
      }
    }
    for (const k of Object.keys(update.uns ?? {})) if (unsKeys.includes(k)) needRebuild = true;
  } finally {
    backed.close();
  }
  const probe = await openHdf5(file);
  try {
    const obsm = getEntity(probe, 'obsm', file);
    const uns = getEntity(probe, 'uns', file);
    const root = probe.attrs;
    if ((obsm && !isGroup(obsm)) || (uns && !isGroup(uns)) || !('encoding-type' in root)) needRebuild = true; // legacy layouts
  } finally {
    safeClose(probe);
  }
  if (!needRebuild) {
    await writeH5Atomically(file, 'copy', (h5) => {
      const ensure = (name: string): Group => {
        const g = getEntity(h5, name, file);
        if (g && isGroup(g)) return g;
        return writeElement(h5, name, dict, {}, ctx) as Group;
      };
      if (update.obsm && Object.keys(update.obsm).length) {
        const g = ensure('obsm');
        for (const [k, m] of Object.entries(update.obsm)) {
          if (overwrite.has(k)) overwriteDense(g, k, m as DenseMatrix, ctx);
          else writeValue(g, k, m, ctx);
        }
      }
      if (update.uns && Object.keys(update.uns).length) {
        const g = ensure('uns');
        for (const [k, v] of Object.entries(update.uns)) writeValue(g, k, v, ctx);
      }
    });
    return { mode: 'in-place', overwritten: [...overwrite], dtypeChanges: [] };
  }
  // rebuild: annotations in memory, X and layers streamed
  const skipped: string[] = [];
  const adata = await readH5ad(file, { X: false, layers: false, rawX: true, onWarning: (w) => skipped.push(`${w.element} (${w.message})`) });
  if (skipped.length) {
    throw new AnnDataWriteError(`replacing existing entries requires rewriting the file, but these elements cannot be carried over: ${skipped.join('; ')}`, {
      file,
      hint: 'add the entries under new keys instead (that needs no rewrite), or convert the file with Python anndata first',
    });
  }
  const dtypeChanges: string[] = [];
  const walkUns = (v: unknown, where: string) => {
    if (typeof v === 'boolean' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'boolean'))) {
      dtypeChanges.push(`${where}: bool → uint8`);
    } else if (v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) && !isFrame(v) && !('kind' in v && 'data' in v)) {
      for (const [k, x] of Object.entries(v)) if (!(where === 'uns' && update.uns && k in update.uns)) walkUns(x, `${where}/${k}`);
    }
  };
  walkUns(adata.uns, 'uns');
  const frames: [string, Frame | undefined][] = [
    ['obs', adata.obs],
    ['var', adata.var],
    ['raw/var', adata.raw?.var],
  ];
  for (const [where, f] of frames)
    for (const [c, info] of Object.entries(f?.columns ?? {})) {
      if (info.kind === 'bool') dtypeChanges.push(`${where}/${c}: bool → uint8`);
    }
  Object.assign(adata.obsm, update.obsm ?? {});
  Object.assign(adata.uns, update.uns ?? {});
  const src = await openH5ad(file, { onWarning: () => {} });
  try {
    const streamOf = (name: string): StreamedMatrix | Matrix => {
      const info = src.matrixInfo(name);
      if (info.kind === 'csc') return src.readMatrix(name);
      return { shape: [info.shape[0], info.shape[1]], blocks: () => src.rowBlocks(name, 4096) };
    };
    const streamed: { X?: StreamedMatrix; layers: Record<string, StreamedMatrix> } = { layers: {} };
    if (src.hasX()) {
      const s = streamOf('X');
      if ('blocks' in s) streamed.X = s;
      else adata.X = s;
    }
    for (const l of src.layerNames()) {
      const s = streamOf(l);
      if ('blocks' in s) streamed.layers[l] = s;
      else adata.layers[l] = s;
    }
    checkShapes(adata, file);
    await writeH5Atomically(file, 'new', (h5) => writeInto(h5, anndata, { adata, streamed }, ctx));
  } finally {
    src.close();
  }
  return { mode: 'rebuilt', overwritten: [], dtypeChanges };
}
