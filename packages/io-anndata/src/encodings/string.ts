/** `string` 0.2.0: a scalar string. */
import { readStrings } from '../read/dataset';
import { asDataset } from './element';
import { defineEncoding } from './registry';

/** The `string` encoding. */
export const stringScalar = defineEncoding<string>({
  type: 'string',
  version: '0.2.0',
  read: (elem, ctx) => readStrings(asDataset(elem, ctx, 'string'), ctx.file)[0] ?? '',
  write: {
    create: (g, name, v) => g.create_dataset({ name, data: v, shape: [], dtype: 'S' }),
  },
});
