/**
 * Every encoding io-anndata knows, each declared in its own module with its reader and writer, added to the
 * registry here (the one list; importing this module is what makes the readers available).
 */
import { addEncodings, type Encoding } from './registry';
import { anndata } from './anndata';
import { awkwardArray } from './awkward-array';
import { categorical } from './categorical';
import { cscMatrix } from './csc-matrix';
import { csrMatrix } from './csr-matrix';
import { dataframe } from './dataframe';
import { denseArray } from './dense-array';
import { dict } from './dict';
import { nullableBoolean } from './nullable-boolean';
import { nullableInteger } from './nullable-integer';
import { nullableStringArray } from './nullable-string-array';
import { numericScalar } from './numeric-scalar';
import { raw } from './raw';
import { recArray } from './rec-array';
import { stringScalar } from './string';
import { stringArray } from './string-array';

/** The encodings, in the order they are declared. */
export const ENCODINGS: readonly Encoding<any>[] = [
  anndata,
  raw,
  dict,
  denseArray,
  stringArray,
  stringScalar,
  numericScalar,
  csrMatrix,
  cscMatrix,
  dataframe,
  categorical,
  nullableInteger,
  nullableBoolean,
  nullableStringArray,
  recArray,
  awkwardArray,
];

addEncodings(ENCODINGS);

export { anndata, dict, dataframe, csrMatrix, cscMatrix, denseArray, stringArray, stringScalar, numericScalar, categorical, raw };
