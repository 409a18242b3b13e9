/** `nullable-string-array` 0.1.0: pandas string columns with missing values (values + mask); read only. */
import { defineEncoding } from './registry';
import { nullableReader } from './nullable';

/** The `nullable-string-array` encoding. */
export const nullableStringArray = defineEncoding({
  type: 'nullable-string-array',
  version: '0.1.0',
  read: nullableReader('nullable-string'),
  readOnly: "its mask must be an HDF5 boolean, which h5wasm cannot write: such columns are written as `string-array`s with '' for missing",
});
