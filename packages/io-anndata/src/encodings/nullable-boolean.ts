/** `nullable-boolean` 0.1.0: pandas nullable boolean columns (values + mask), read and written; see ./nullable.ts. */
import { defineEncoding } from './registry';
import { nullableReader, nullableWriter } from './nullable';

/** The `nullable-boolean` encoding. */
export const nullableBoolean = defineEncoding<ArrayLike<unknown>>({
  type: 'nullable-boolean',
  version: '0.1.0',
  read: nullableReader('nullable-bool'),
  write: nullableWriter('nullable-bool'),
});
