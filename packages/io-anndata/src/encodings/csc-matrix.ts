/** `csc_matrix` 0.1.0: compressed sparse column matrices (scipy layout). */
import type { CscMatrix } from '../anndata';
import { checkSparseForWrite, fillSparse, sparseReader } from './sparse';
import { defineEncoding } from './registry';
import type { Group } from '../h5';

/** The `csc_matrix` encoding. */
export const cscMatrix = defineEncoding<CscMatrix>({
  type: 'csc_matrix',
  version: '0.1.0',
  read: sparseReader('csc'),
  write: {
    create(g, name, m, ctx) {
      checkSparseForWrite(g, name, m, ctx);
      return g.create_group(name);
    },
    fill: (sub, m, ctx) => fillSparse(sub as Group, m, ctx),
  },
});
