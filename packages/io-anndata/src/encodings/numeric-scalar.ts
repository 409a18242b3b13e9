/** `numeric-scalar` 0.2.0: a scalar number (int64 for integers, float64 otherwise) or boolean. */
import { AnnDataFormatError } from '../errors';
import { datasetInfo, readNumeric, isNumericDtype } from '../read/dataset';
import { asDataset } from './element';
import { defineEncoding } from './registry';

/** The `numeric-scalar` encoding. Booleans are written as uint8 (h5wasm cannot write HDF5 enums). */
export const numericScalar = defineEncoding<number | bigint | boolean>({
  type: 'numeric-scalar',
  version: '0.2.0',
  read(elem, ctx) {
    const ds = asDataset(elem, ctx, 'numeric-scalar');
    const info = datasetInfo(ds, ctx.file);
    if (!isNumericDtype(info.dtype)) {
      throw new AnnDataFormatError(`numeric-scalar has dtype ${info.dtype}`, { file: ctx.file, element: ds.path });
    }
    const d = readNumeric(ds, ctx.file);
    if (d.length !== 1) throw new AnnDataFormatError('numeric-scalar is not a scalar', { file: ctx.file, element: ds.path });
    return info.dtype === 'bool' ? d[0] !== 0 : Number(d[0]);
  },
  write: {
    create(g, name, v) {
      if (typeof v === 'boolean') return g.create_dataset({ name, data: Uint8Array.of(v ? 1 : 0), shape: [], dtype: '<B' });
      const isInt = typeof v === 'bigint' || Number.isInteger(v);
      const data = isInt ? BigInt64Array.of(BigInt(v)) : Float64Array.of(v as number);
      return g.create_dataset({ name, data, shape: [], dtype: isInt ? '<q' : '<d' });
    },
  },
});
