/** `nullable-integer` 0.1.0: pandas nullable integer columns (values + mask), read and written; see ./nullable.ts. */
import { defineEncoding } from './registry';
import { nullableReader, nullableWriter } from './nullable';

/** The `nullable-integer` encoding. */
export const nullableInteger = defineEncoding<ArrayLike<unknown>>({
  type: 'nullable-integer',
  version: '0.1.0',
  read: nullableReader('nullable-int'),
  write: nullableWriter('nullable-int'),
});
