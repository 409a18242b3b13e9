/** `nullable-integer` 0.1.0: pandas nullable integer columns (values + mask); read only, see ./nullable.ts. */
import { defineEncoding } from './registry';
import { NULLABLE_READ_ONLY, nullableReader } from './nullable';

/** The `nullable-integer` encoding. */
export const nullableInteger = defineEncoding({
  type: 'nullable-integer',
  version: '0.1.0',
  read: nullableReader('nullable-int'),
  readOnly: NULLABLE_READ_ONLY,
});
