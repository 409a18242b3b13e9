/**
 * `nullable-string-array` 0.1.0: pandas string columns with missing values (values + mask), read and written; see
 * ./nullable.ts. anndata reads it from 0.11 on, so dataframes still write such columns as `string-array`s with ''
 * for missing (readable by every anndata ≥ 0.8); this writer is for callers that ask for the encoding.
 */
import { defineEncoding } from './registry';
import { nullableReader, nullableWriter } from './nullable';

/** The `nullable-string-array` encoding. */
export const nullableStringArray = defineEncoding<ArrayLike<unknown>>({
  type: 'nullable-string-array',
  version: '0.1.0',
  read: nullableReader('nullable-string'),
  write: nullableWriter('nullable-string'),
});
