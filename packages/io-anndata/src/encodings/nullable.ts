/**
 * What the nullable column encodings share: values + mask reading. Writing them needs an HDF5 boolean mask, which
 * h5wasm cannot create, so their columns are written as float64 `array`s with NaN for missing
 * ({@link nullableAsFloat}; a documented dtype change, see README).
 */
import type { Dataset, Group } from '../h5';
import { InconsistentDataError } from '../errors';
import type { DenseMatrix } from '../anndata';
import { datasetInfo, readNumeric } from '../read/dataset';
import { asGroup, childDataset } from './element';
import { column, type ColumnData } from './column';
import type { ElementReader, ReadContext } from './registry';

/** Why the nullable encodings have no writer. */
export const NULLABLE_READ_ONLY =
  'its mask must be an HDF5 boolean, which h5wasm cannot write: such columns are written as float64 `array`s with NaN for missing';

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

/** A nullable integer/boolean column as the float64 array it is written as (NaN = missing). */
export function nullableAsFloat(values: ArrayLike<unknown>): DenseMatrix {
  const data = Float64Array.from(Array.from(values), (v) => (v === null || v === undefined ? NaN : Number(v)));
  return { kind: 'dense', shape: [data.length], dtype: 'float64', data };
}
