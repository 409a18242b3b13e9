/**
 * What the nullable column encodings share: values + mask, read and written. The mask (and a nullable boolean's
 * values) must be HDF5 booleans, which h5wasm cannot create: they are written as int8 datasets marked with a
 * placeholder attribute, and `int8DatasetsToBool` (after the file is closed) turns them into the enum bool h5py
 * writes, as anndata (pandas) requires.
 */
import type { Dataset, Group } from '../h5';
import { errText } from '../h5';
import { InconsistentDataError } from '../errors';
import { BOOL_PAD } from '../write/bool-attr';
import { datasetInfo, readNumeric } from '../read/dataset';
import { asGroup, childDataset } from './element';
import { column, type ColumnData } from './column';
import { childPath, writeFail, type ElementReader, type EncodingWriter, type ReadContext, type WriteContext } from './registry';

/** Writes a 1-D int8 dataset of 0/1 that becomes an HDF5 boolean once the file is closed (see the module comment). */
function writeBoolDataset(g: Group, name: string, bits: Int8Array, ctx: WriteContext): void {
  try {
    const ds = g.create_dataset({ name, data: bits, shape: [bits.length], dtype: '<b' });
    ds.create_attribute(BOOL_PAD, 'x', null, 'S');
  } catch (e) {
    writeFail(ctx, childPath(g, name), `cannot write the boolean dataset: ${errText(e)}`, e);
  }
}

const isMissing = (v: unknown) => v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));

/**
 * The writer of a nullable encoding: `values` (missing entries as 0, false or '') and `mask` (true = missing).
 * Integer values are written as int64; a value that is not an integer is refused.
 */
export function nullableWriter(kind: 'nullable-int' | 'nullable-bool' | 'nullable-string'): EncodingWriter<ArrayLike<unknown>> {
  return {
    create: (g, name) => g.create_group(name),
    fill(elem, values, ctx) {
      const g = elem as Group;
      const n = values.length;
      const mask = new Int8Array(n);
      for (let i = 0; i < n; i++) mask[i] = isMissing(values[i]) ? 1 : 0;
      if (kind === 'nullable-string') {
        const strs = Array.from(values, (v, i) => (mask[i] ? '' : String(v)));
        try {
          g.create_dataset({ name: 'values', data: strs, shape: [n], dtype: 'S' });
        } catch (e) {
          writeFail(ctx, childPath(g, 'values'), `cannot write the values: ${errText(e)}`, e);
        }
      } else if (kind === 'nullable-bool') {
        writeBoolDataset(g, 'values', Int8Array.from(Array.from(values), (v, i) => (!mask[i] && v ? 1 : 0)), ctx);
      } else {
        const data = new BigInt64Array(n);
        for (let i = 0; i < n; i++) {
          if (mask[i]) continue;
          const v = values[i];
          const x = typeof v === 'bigint' ? v : Number(v);
          if (typeof x === 'number' && !Number.isSafeInteger(x)) writeFail(ctx, childPath(g, 'values'), `value ${String(v)} at row ${i} is not an integer (nullable-integer holds integers and missing values)`);
          data[i] = BigInt(x);
        }
        try {
          g.create_dataset({ name: 'values', data, shape: [n], dtype: '<q' });
        } catch (e) {
          writeFail(ctx, childPath(g, 'values'), `cannot write the values: ${errText(e)}`, e);
        }
      }
      writeBoolDataset(g, 'mask', mask, ctx);
    },
  };
}

/** The reader of a nullable encoding (values where the mask is false, null where it is true). */
export function nullableReader(kind: 'nullable-int' | 'nullable-bool' | 'nullable-string'): ElementReader {
  return (elem: Dataset | Group, ctx: ReadContext): ColumnData => {
    const g = asGroup(elem, ctx, kind);
    const valuesDs = childDataset(g, 'values', ctx.file);
    const maskDs = childDataset(g, 'mask', ctx.file);
    const mask = readNumeric(maskDs, ctx.file);
    const vinfo = datasetInfo(valuesDs, ctx.file);
    const raw: ArrayLike<unknown> = kind === 'nullable-string' ? (ctx.read(valuesDs) as string[]) : readNumeric(valuesDs, ctx.file);
    if (raw.length !== mask.length) {
      throw new InconsistentDataError(`mask has ${mask.length} entries but values has ${raw.length}`, { file: ctx.file, element: g.path });
    }
    const out: unknown[] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      if (mask[i]) out[i] = null;
      else out[i] = kind === 'nullable-bool' ? raw[i] !== 0 : raw[i];
    }
    return column({ kind, dtype: vinfo.dtype }, out);
  };
}
