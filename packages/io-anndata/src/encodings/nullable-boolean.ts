/** `nullable-boolean` 0.1.0: pandas nullable boolean columns (values + mask); read only, see ./nullable.ts. */
import { defineEncoding } from './registry';
import { NULLABLE_READ_ONLY, nullableReader } from './nullable';

/** The `nullable-boolean` encoding. */
export const nullableBoolean = defineEncoding({
  type: 'nullable-boolean',
  version: '0.1.0',
  read: nullableReader('nullable-bool'),
  readOnly: NULLABLE_READ_ONLY,
});
