/** `categorical` 0.2.0: codes + categories (+ `ordered`); also the reference categoricals of anndata 0.7. */
import type { Dataset, Group } from '../h5';
import { AnnDataFormatError, CategoricalCodeError } from '../errors';
import { errText, isDataset } from '../h5';
import type { ColumnInfo, NumericArray } from '../anndata';
import { isMatrix } from '../anndata';
import { readAttr } from '../read/attrs';
import { datasetInfo, readNumeric } from '../read/dataset';
import { BOOL_PAD } from '../write/bool-attr';
import { asGroup, childDataset } from './element';
import { column, type ColumnData } from './column';
import { denseArray } from './dense-array';
import { stringArray } from './string-array';
import { childPath, defineEncoding, writeElement, writeFail, type ReadContext, type WriteContext } from './registry';

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
  const g = asGroup(elem, ctx, 'categorical');
  const codesDs = childDataset(g, 'codes', ctx.file);
  const catsDs = childDataset(g, 'categories', ctx.file);
  const cats = toCategoryList(ctx.read(catsDs), ctx.file, catsDs.path);
  const ordered = truthy(readAttr(g, 'ordered', ctx.file));
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

/** An encoded categorical, as the writer takes it (see {@link encodeCategorical}). */
export interface EncodedCategorical {
  codes: Int8Array | Int16Array | Int32Array;
  categories: (string | number)[];
  ordered: boolean;
}

/**
 * Encodes column values as codes against `info.categories` (default: the distinct values in order of appearance);
 * null/undefined → -1. A value that is not a category is a typed error at `element`.
 */
export function encodeCategorical(values: ArrayLike<unknown>, info: ColumnInfo, ctx: WriteContext, element: string): EncodedCategorical {
  const n = values.length;
  const all = Array.from(values);
  const cats = info.categories ?? [...new Set(all.filter((v) => v !== null && v !== undefined))].map((v) => v as string | number);
  const pos = new Map<unknown, number>(cats.map((c, i) => [c, i]));
  const codes = cats.length < 127 ? new Int8Array(n) : cats.length < 32767 ? new Int16Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = all[i];
    if (v === null || v === undefined) codes[i] = -1;
    else {
      const c = pos.get(v);
      if (c === undefined) writeFail(ctx, element, `value ${JSON.stringify(v)} at row ${i} is not among the categories`);
      codes[i] = c;
    }
  }
  return { codes, categories: cats, ordered: info.ordered ?? false };
}

/** The `categorical` encoding. */
export const categorical = defineEncoding<EncodedCategorical>({
  type: 'categorical',
  version: '0.2.0',
  read: readCategorical,
  write: {
    create: (g, name) => g.create_group(name),
    fill(elem, v, ctx) {
      const sub = elem as Group;
      // h5wasm cannot create HDF5 enums: `ordered` is written as an int8 scalar followed by a placeholder
      // attribute, and int8AttrsToBool (after the file is closed) turns it into the enum bool h5py writes
      try {
        sub.create_attribute('ordered', Int8Array.of(v.ordered ? 1 : 0), [], '<b');
        sub.create_attribute(BOOL_PAD, 'x', null, 'S');
      } catch (e) {
        writeFail(ctx, childPath(sub, 'ordered'), `cannot write the ordered flag: ${errText(e)}`, e);
      }
      const plain = { ...ctx, compression: 0 };
      writeElement(sub, 'codes', denseArray, v.codes, plain);
      const cats = v.categories;
      if (cats.every((c) => typeof c === 'number')) writeElement(sub, 'categories', denseArray, Float64Array.from(cats as number[]), plain);
      else writeElement(sub, 'categories', stringArray, cats.map(String), ctx);
    },
  },
});
