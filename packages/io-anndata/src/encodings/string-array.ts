/** `string-array` 0.2.0: 1-D variable-length UTF-8 strings (dataframe index, string columns, uns lists). */
import { readStrings } from '../read/dataset';
import { asDataset } from './element';
import { defineEncoding } from './registry';

/** The `string-array` encoding; null/undefined values are written as ''. */
export const stringArray = defineEncoding<ArrayLike<unknown>>({
  type: 'string-array',
  version: '0.2.0',
  read: (elem, ctx) => readStrings(asDataset(elem, ctx, 'string-array'), ctx.file),
  write: {
    create(g, name, values) {
      const strs = Array.from(values, (v) => (v === null || v === undefined ? '' : String(v)));
      return g.create_dataset({ name, data: strs, shape: [strs.length], dtype: 'S' });
    },
  },
});
