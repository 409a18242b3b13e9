/** Readers for dataframe (0.1.0 / 0.2.0), categorical, and the nullable column encodings. */
import * as aq from 'arquero';
import type { Dataset, Group } from '../../h5';
import { AnnDataFormatError, CategoricalCodeError, InconsistentDataError, MissingElementError } from '../../errors';
import { errText, getEntity, isDataset, isGroup } from '../../h5';
import type { ColumnInfo, DenseMatrix, Frame, NumericArray } from '../../anndata';
import { isMatrix } from '../../anndata';
import { readAttr, readStringListAttr } from '../attrs';
import { datasetInfo, readNumeric } from '../dataset';
import { registerReader, SKIPPED, type ReadContext } from '../registry';
import { childDataset } from './sparse';

/** A decoded dataframe column: its values (for the arquero table) and metadata. */
export interface ColumnData {
  readonly __column: true;
  info: ColumnInfo;
  values: ArrayLike<unknown>;
}

/** Builds a {@link ColumnData}. */
export function column(info: ColumnInfo, values: ArrayLike<unknown>): ColumnData {
  return { __column: true, info, values };
}

/** True if a value is a {@link ColumnData}. */
export function isColumnData(v: unknown): v is ColumnData {
  return typeof v === 'object' && v !== null && (v as ColumnData).__column === true;
}

/** Decodes categorical codes against categories, checking the range; -1 means missing. */
export function decodeCategorical(
  codes: NumericArray,
  categories: (string | number)[],
  ordered: boolean,
  codesDtype: string,
  file: string,
  element: string,
): ColumnData {
  const n = categories.length;
  const values: (string | number | null)[] = new Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c === -1) values[i] = null;
    else if (c >= 0 && c < n && Number.isInteger(c)) values[i] = categories[c];
    else {
      throw new CategoricalCodeError(`categorical code ${c} at row ${i} is out of range for ${n} categories`, { file, element });
    }
  }
  return column({ kind: 'categorical', dtype: codesDtype, categories, ordered }, values);
}

function toCategoryList(v: unknown, file: string, element: string): (string | number)[] {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'number' || typeof x === 'string' ? x : String(x)));
  if (isMatrix(v) && v.kind === 'dense') return Array.from(v.data as ArrayLike<number>);
  throw new AnnDataFormatError('categories must be a string or numeric array', { file, element });
}

function truthy(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.toLowerCase() === 'true';
  if (ArrayBuffer.isView(v)) return (v as unknown as ArrayLike<number>)[0] !== 0;
  return false;
}

function readCategorical(elem: Dataset | Group, ctx: ReadContext): ColumnData {
  if (!isGroup(elem)) throw new AnnDataFormatError('categorical must be a group', { file: ctx.file, element: elem.path });
  const codesDs = childDataset(elem, 'codes', ctx.file);
  const catsDs = childDataset(elem, 'categories', ctx.file);
  const cats = toCategoryList(ctx.read(catsDs), ctx.file, catsDs.path);
  const ordered = truthy(readAttr(elem, 'ordered', ctx.file));
  const codesDtype = datasetInfo(codesDs, ctx.file).dtype;
  return decodeCategorical(readNumeric(codesDs, ctx.file), cats, ordered, codesDtype, ctx.file, codesDs.path);
}

/** Reads an anndata 0.7 categorical: codes dataset whose `categories` attribute references `__categories/<col>`. */
export function readLegacyRefCategorical(ds: Dataset, ref: unknown, ctx: ReadContext): ColumnData {
  let target: unknown;
  try {
    target = ds.dereference(ref as Parameters<Dataset['dereference']>[0]);
  } catch (e) {
    throw new AnnDataFormatError(`cannot resolve the categories reference: ${errText(e)}`, { file: ctx.file, element: ds.path, cause: e });
  }
  if (!isDataset(target)) {
    throw new AnnDataFormatError('categories reference does not point to a dataset', { file: ctx.file, element: ds.path });
  }
  const cats = toCategoryList(ctx.read(target), ctx.file, target.path);
  const ordered = truthy(readAttr(target, 'ordered', ctx.file) ?? readAttr(ds, 'ordered', ctx.file));
  const info = datasetInfo(ds, ctx.file);
  return decodeCategorical(readNumeric(ds, ctx.file), cats, ordered, info.dtype, ctx.file, ds.path);
}

function readNullable(kind: 'nullable-int' | 'nullable-bool' | 'nullable-string') {
  return (elem: Dataset | Group, ctx: ReadContext): ColumnData => {
    if (!isGroup(elem)) throw new AnnDataFormatError(`${kind} must be a group`, { file: ctx.file, element: elem.path });
    const valuesDs = childDataset(elem, 'values', ctx.file);
    const maskDs = childDataset(elem, 'mask', ctx.file);
    const mask = readNumeric(maskDs, ctx.file);
    const vinfo = datasetInfo(valuesDs, ctx.file);
    const raw: ArrayLike<unknown> = kind === 'nullable-string' ? (ctx.read(valuesDs) as string[]) : readNumeric(valuesDs, ctx.file);
    if (raw.length !== mask.length) {
      throw new InconsistentDataError(`mask has ${mask.length} entries but values has ${raw.length}`, { file: ctx.file, element: elem.path });
    }
    const out: unknown[] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      if (mask[i]) out[i] = null;
      else out[i] = kind === 'nullable-bool' ? raw[i] !== 0 : raw[i];
    }
    return column({ kind, dtype: vinfo.dtype }, out);
  };
}

/** Converts whatever a column element decoded to into a {@link ColumnData}. */
export function toColumn(v: unknown, file: string, element: string): ColumnData {
  if (isColumnData(v)) return v;
  if (Array.isArray(v)) return column({ kind: 'string', dtype: 'str' }, v.map((x) => (x === null ? null : String(x))));
  if (isMatrix(v) && v.kind === 'dense') {
    const d = v as DenseMatrix;
    if (d.shape.length !== 1) throw new InconsistentDataError(`dataframe column must be 1-D, has shape ${JSON.stringify(d.shape)}`, { file, element });
    if (d.dtype === 'bool') return column({ kind: 'bool', dtype: 'bool' }, Array.from(d.data, (x) => x !== 0));
    return column({ kind: 'numeric', dtype: d.dtype }, d.data);
  }
  throw new AnnDataFormatError('unsupported dataframe column', { file, element });
}

/** Builds a Frame from an index and decoded columns, checking lengths. */
export function buildFrame(
  index: string[],
  indexName: string,
  cols: [string, ColumnData][],
  file: string,
  element: string,
): Frame {
  const data: Record<string, ArrayLike<unknown>> = { [indexName]: index };
  const columns: Record<string, ColumnInfo> = {};
  for (const [name, c] of cols) {
    if (c.values.length !== index.length) {
      throw new InconsistentDataError(`column "${name}" has ${c.values.length} rows but the index has ${index.length}`, {
        file,
        element: `${element}/${name}`,
      });
    }
    if (name === indexName) continue;
    data[name] = c.values;
    columns[name] = c.info;
  }
  return { table: aq.table(data as Record<string, unknown[]>), indexName, columns };
}

function readIndex(g: Group, name: string, ctx: ReadContext): string[] {
  const el = getEntity(g, name, ctx.file);
  if (!el || !(isDataset(el) || isGroup(el))) {
    throw new MissingElementError(`dataframe index "${name}" not found`, { file: ctx.file, element: `${g.path}/${name}` });
  }
  const v = ctx.read(el);
  if (Array.isArray(v)) return v.map((x) => String(x));
  if (isMatrix(v) && v.kind === 'dense') return Array.from(v.data as ArrayLike<number>, (x) => String(x));
  if (isColumnData(v)) return Array.from(v.values, (x) => String(x));
  throw new AnnDataFormatError('dataframe index must be a 1-D array', { file: ctx.file, element: el.path });
}

/** Reads one column element of a dataframe group (handles the 0.7 reference categoricals). */
export function readColumnElement(g: Group, name: string, ctx: ReadContext): ColumnData | typeof SKIPPED {
  const el = getEntity(g, name, ctx.file);
  if (!el || !(isDataset(el) || isGroup(el))) {
    throw new MissingElementError(`dataframe column "${name}" listed in column-order is missing`, {
      file: ctx.file,
      element: `${g.path}/${name}`,
    });
  }
  if (isDataset(el)) {
    let ref = readAttr(el, 'categories', ctx.file);
    if (Array.isArray(ref) && ref.length === 1) ref = ref[0];
    if (ref !== null && typeof ref === 'object' && 'ref_data' in (ref as object)) return readLegacyRefCategorical(el, ref, ctx);
  }
  const v = ctx.read(el);
  if (v === SKIPPED) return SKIPPED;
  return toColumn(v, ctx.file, el.path);
}

function readDataframe(elem: Dataset | Group, ctx: ReadContext): Frame {
  if (!isGroup(elem)) throw new AnnDataFormatError('dataframe must be a group', { file: ctx.file, element: elem.path });
  const indexAttr = readAttr(elem, '_index', ctx.file);
  const indexName = typeof indexAttr === 'string' ? indexAttr : '_index';
  const index = readIndex(elem, indexName, ctx);
  const order = readStringListAttr(elem, 'column-order', ctx.file) ?? elem.keys().filter((k) => k !== indexName && k !== '__categories');
  const cols: [string, ColumnData][] = [];
  for (const name of order) {
    const c = readColumnElement(elem, name, ctx);
    if (c !== SKIPPED) cols.push([name, c]);
  }
  return buildFrame(index, indexName, cols, ctx.file, elem.path);
}

registerReader('dataframe', '0.2.0', readDataframe);
registerReader('dataframe', '0.1.0', readDataframe);
registerReader('categorical', '0.2.0', readCategorical);
registerReader('nullable-integer', '0.1.0', readNullable('nullable-int'));
registerReader('nullable-boolean', '0.1.0', readNullable('nullable-bool'));
registerReader('nullable-string-array', '0.1.0', readNullable('nullable-string'));
