/** Readers for dict, array, string-array, string, numeric-scalar, rec-array, and skipped encodings. */
import type { Dataset, Group } from '../../h5';
import { AnnDataFormatError } from '../../errors';
import { getEntity, isDataset, isGroup } from '../../h5';
import type { DenseMatrix } from '../../anndata';
import { datasetInfo, readNumeric, readRaw, readStrings, isNumericDtype } from '../dataset';
import { registerReader, SKIPPED, type ReadContext } from '../registry';
import { hasAttr } from '../attrs';

function asDataset(elem: Dataset | Group, ctx: ReadContext, what: string): Dataset {
  if (!isDataset(elem)) throw new AnnDataFormatError(`${what} must be a dataset`, { file: ctx.file, element: elem.path });
  return elem;
}

function asGroup(elem: Dataset | Group, ctx: ReadContext, what: string): Group {
  if (!isGroup(elem)) throw new AnnDataFormatError(`${what} must be a group`, { file: ctx.file, element: elem.path });
  return elem;
}

/** Reads the children of a group into a plain object, dropping skipped ones. */
export function readDict(elem: Dataset | Group, ctx: ReadContext): Record<string, unknown> {
  const g = asGroup(elem, ctx, 'dict');
  const out: Record<string, unknown> = {};
  for (const key of g.keys()) {
    const child = getEntity(g, key, ctx.file);
    if (!isDataset(child) && !isGroup(child)) {
      ctx.warn(`${g.path}/${key}`, 'skipped element that is neither a group nor a dataset (link or datatype)');
      continue;
    }
    const v = ctx.read(child);
    if (v !== SKIPPED) out[key] = v;
  }
  return out;
}

/** Reads a compound dataset column-wise: field name → array of values. */
export function readCompound(ds: Dataset, ctx: ReadContext): Record<string, unknown[]> {
  const members = (ds.metadata.compound_type?.members ?? []) as { name: string }[];
  const rows = readRaw(ds, ctx.file);
  const out: Record<string, unknown[]> = {};
  for (const m of members) out[m.name] = [];
  const list = Array.isArray(rows) ? rows : [];
  for (const row of list) {
    const r = row as unknown[];
    members.forEach((m, i) => out[m.name].push(normalizeScalar(r[i])));
  }
  return out;
}

function normalizeScalar(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  return v;
}

/** Reads an `array` element: numeric → DenseMatrix (scalars → number), strings → string[], compound → record. */
export function readArray(elem: Dataset | Group, ctx: ReadContext): unknown {
  const ds = asDataset(elem, ctx, 'array');
  const info = datasetInfo(ds, ctx.file);
  if (info.dtype === 'str') {
    if (info.shape && info.shape.length === 0) return readStrings(ds, ctx.file)[0];
    const strs = readStrings(ds, ctx.file);
    // anndata < 0.7 stored string scalars as one-element fixed-length byte-string arrays; anndata reads them as str
    if (strs.length === 1 && info.shape?.length === 1 && !ds.metadata.vlen && !hasAttr(ds, 'encoding-type')) return strs[0];
    return strs;
  }
  if (info.dtype === 'compound') return readCompound(ds, ctx);
  if (!isNumericDtype(info.dtype)) {
    ctx.warn(ds.path, `skipped dataset of unsupported dtype ${info.dtype}`);
    return SKIPPED;
  }
  const data = readNumeric(ds, ctx.file);
  if (info.shape && info.shape.length === 0) {
    return info.dtype === 'bool' ? data[0] !== 0 : Number(data[0]);
  }
  const m: DenseMatrix = { kind: 'dense', shape: info.shape ?? [0], dtype: info.dtype, data };
  return m;
}

function readStringArray(elem: Dataset | Group, ctx: ReadContext): string[] {
  return readStrings(asDataset(elem, ctx, 'string-array'), ctx.file);
}

function readString(elem: Dataset | Group, ctx: ReadContext): string {
  const s = readStrings(asDataset(elem, ctx, 'string'), ctx.file);
  return s[0] ?? '';
}

function readNumericScalar(elem: Dataset | Group, ctx: ReadContext): number | boolean {
  const ds = asDataset(elem, ctx, 'numeric-scalar');
  const info = datasetInfo(ds, ctx.file);
  if (!isNumericDtype(info.dtype)) {
    throw new AnnDataFormatError(`numeric-scalar has dtype ${info.dtype}`, { file: ctx.file, element: ds.path });
  }
  const d = readNumeric(ds, ctx.file);
  if (d.length !== 1) throw new AnnDataFormatError('numeric-scalar is not a scalar', { file: ctx.file, element: ds.path });
  return info.dtype === 'bool' ? d[0] !== 0 : Number(d[0]);
}

function readRecArray(elem: Dataset | Group, ctx: ReadContext): Record<string, unknown[]> {
  return readCompound(asDataset(elem, ctx, 'rec-array'), ctx);
}

function skipWithWarning(kind: string) {
  return (elem: Dataset | Group, ctx: ReadContext) => {
    ctx.warn(elem.path, `skipped ${kind} element (not supported by @invae/io-anndata)`);
    return SKIPPED;
  };
}

registerReader('dict', '0.1.0', readDict);
registerReader('array', '0.2.0', readArray);
registerReader('string-array', '0.2.0', readStringArray);
registerReader('string', '0.2.0', readString);
registerReader('numeric-scalar', '0.2.0', readNumericScalar);
registerReader('rec-array', '0.2.0', readRecArray);
registerReader('awkward-array', '0.1.0', skipWithWarning('awkward-array'));
