/** `dataframe` 0.2.0 (and 0.1.0, read only): obs/var and dataframes in obsm/uns, one element per column. */
import * as aq from 'arquero';
import type { Dataset, Group } from '../h5';
import { AnnDataFormatError, InconsistentDataError, MissingElementError } from '../errors';
import { getEntity, isDataset, isGroup } from '../h5';
import type { ColumnInfo, DenseMatrix, Frame, NumericArray } from '../anndata';
import { isMatrix } from '../anndata';
import { readAttr, readStringListAttr } from '../read/attrs';
import { typedFromNumbers } from '../read/dataset';
import { asGroup } from './element';
import { column, isColumnData, type ColumnData } from './column';
import { categorical, encodeCategorical, readLegacyRefCategorical } from './categorical';
import { denseArray } from './dense-array';
import { nullableBoolean } from './nullable-boolean';
import { nullableInteger } from './nullable-integer';
import { stringArray } from './string-array';
import { childPath, defineEncoding, SKIPPED, writeElement, writeFail, type ReadContext, type WriteContext } from './registry';

export { column, isColumnData, type ColumnData };

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
  const g = asGroup(elem, ctx, 'dataframe');
  const indexAttr = readAttr(g, '_index', ctx.file);
  const indexName = typeof indexAttr === 'string' ? indexAttr : '_index';
  const index = readIndex(g, indexName, ctx);
  const order = readStringListAttr(g, 'column-order', ctx.file) ?? g.keys().filter((k) => k !== indexName && k !== '__categories');
  const cols: [string, ColumnData][] = [];
  for (const name of order) {
    const c = readColumnElement(g, name, ctx);
    if (c !== SKIPPED) cols.push([name, c]);
  }
  return buildFrame(index, indexName, cols, ctx.file, g.path);
}

/** Infers column metadata for a column the Frame does not describe. */
export function inferColumnInfo(values: ArrayLike<unknown>): ColumnInfo {
  if (ArrayBuffer.isView(values)) return { kind: 'numeric' };
  const arr = Array.from(values);
  if (arr.every((v) => typeof v === 'boolean')) return { kind: 'bool' };
  if (arr.every((v) => typeof v === 'number' || v === null)) return { kind: 'numeric', dtype: 'float64' };
  return { kind: 'string' };
}

const NUMERIC_DTYPES = new Set(['float32', 'float64', 'int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32', 'int64', 'uint64']);

function typedDtype(a: NumericArray): string {
  const name = a.constructor.name.replace('Array', '').toLowerCase();
  return NUMERIC_DTYPES.has(name) ? name : 'float64';
}

/** Converts column values to the typed array of a numpy dtype (int64 held as Float64Array until written). */
function toTyped(values: ArrayLike<unknown>, dtype: string, ctx: WriteContext, el: string): NumericArray {
  if (!NUMERIC_DTYPES.has(dtype)) writeFail(ctx, el, `unsupported numeric dtype ${dtype}`);
  const out = typedFromNumbers(dtype, []);
  if (ArrayBuffer.isView(values) && values.constructor === out.constructor) return values as unknown as NumericArray;
  const isInt = /int/.test(dtype);
  const nums = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const x = v === null || v === undefined ? NaN : Number(v);
    if (isInt && !Number.isInteger(x)) writeFail(ctx, el, `value ${String(v)} at row ${i} is not an integer but the column dtype is ${dtype}`);
    nums[i] = x;
  }
  return typedFromNumbers(dtype, nums);
}

/** Writes one column: categorical, string-array, nullable-integer/-boolean, or array (bool → uint8). */
function writeColumn(g: Group, name: string, values: ArrayLike<unknown>, info: ColumnInfo, ctx: WriteContext, n: number): void {
  const el = childPath(g, name);
  if (values.length !== n) writeFail(ctx, el, `column has ${values.length} rows, expected ${n}`);
  switch (info.kind) {
    case 'categorical':
      writeElement(g, name, categorical, encodeCategorical(values, info, ctx, el), ctx);
      return;
    case 'string':
    case 'nullable-string':
      writeElement(g, name, stringArray, values, ctx);
      return;
    case 'bool':
      writeElement(g, name, denseArray, { kind: 'dense', shape: [n], dtype: 'bool', data: Uint8Array.from(Array.from(values), (v) => (v ? 1 : 0)) }, ctx);
      return;
    case 'nullable-bool':
      writeElement(g, name, nullableBoolean, values, ctx);
      return;
    case 'nullable-int':
      writeElement(g, name, nullableInteger, values, ctx);
      return;
    case 'numeric':
    default: {
      const dtype = info.dtype ?? (ArrayBuffer.isView(values) ? typedDtype(values as unknown as NumericArray) : 'float64');
      writeElement(g, name, denseArray, { kind: 'dense', shape: [n], dtype, data: toTyped(values, dtype, ctx, el) } as DenseMatrix, ctx);
    }
  }
}

/** The `dataframe` encoding (0.1.0 files are read by the same reader). */
export const dataframe = defineEncoding<Frame>({
  type: 'dataframe',
  version: '0.2.0',
  readsAlso: ['0.1.0'],
  read: readDataframe,
  write: {
    create(g, name, f, ctx) {
      if (!f.table.columnNames().includes(f.indexName)) writeFail(ctx, childPath(g, name), `index column "${f.indexName}" is not in the table`);
      return g.create_group(name);
    },
    fill(elem, f, ctx) {
      const sub = elem as Group;
      const n = f.table.numRows();
      const names = f.table.columnNames().filter((c) => c !== f.indexName);
      sub.create_attribute('_index', f.indexName, null, 'S');
      if (names.length) sub.create_attribute('column-order', names, [names.length], 'S');
      else sub.create_attribute('column-order', new Float64Array(0), [0], '<d');
      writeElement(sub, f.indexName, stringArray, f.table.array(f.indexName) as ArrayLike<unknown>, ctx);
      for (const c of names) {
        const values = f.table.array(c) as ArrayLike<unknown>;
        writeColumn(sub, c, values, f.columns[c] ?? inferColumnInfo(values), ctx, n);
      }
    },
  },
});
