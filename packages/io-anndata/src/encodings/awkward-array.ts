/** `awkward-array` 0.1.0: skipped with a warning (no JavaScript model for ragged arrays). */
import { defineEncoding, SKIPPED } from './registry';

/** The `awkward-array` encoding. */
export const awkwardArray = defineEncoding({
  type: 'awkward-array',
  version: '0.1.0',
  read: (elem, ctx) => {
    ctx.warn(elem.path, 'skipped awkward-array element (not supported by @invae/io-anndata)');
    return SKIPPED;
  },
  readOnly: 'awkward arrays are skipped when reading, so there is no value to write',
});
