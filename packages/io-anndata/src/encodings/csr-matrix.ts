/** `csr_matrix` 0.1.0: compressed sparse row matrices, from memory or from row blocks (bounded memory). */
import type { Dataset, Group } from '../h5';
import type { CsrMatrix } from '../anndata';
import { dtypeCode, gzipOptions, writeNumeric } from '../write/elements';
import { checkSparseForWrite, fillSparse, indptrForWrite, sparseReader, writeSparseShape } from './sparse';
import { defineEncoding, type WriteContext } from './registry';
import { isBlockStream, restOf, type BlockStream } from './row-blocks';

/** What the `csr_matrix` writer takes: a CSR matrix, or CSR row blocks. */
export type CsrValue = CsrMatrix | BlockStream<CsrMatrix>;

/** Appends CSR row blocks to resizable `data`/`indices` datasets, then writes `indptr`. */
function fillBlocks(sub: Group, s: BlockStream<CsrMatrix>, ctx: WriteContext): void {
  const [nr] = s.shape;
  writeSparseShape(sub, s.shape);
  const indptr = new Float64Array(nr + 1);
  let nnz = 0;
  let dataDs: Dataset | null = null;
  let indicesDs: Dataset | null = null;
  const add = (start: number, end: number, m: CsrMatrix) => {
    const k = m.data.length;
    for (let i = 0; i < end - start; i++) indptr[start + i + 1] = nnz + m.indptr[i + 1];
    if (!dataDs || !indicesDs) {
      dataDs = sub.create_dataset({ name: 'data', data: m.data as Float32Array, shape: [k], maxshape: [null], dtype: dtypeCode(m.data) ?? '<d', chunks: [65536], ...gzipOptions(ctx) });
      indicesDs = sub.create_dataset({ name: 'indices', data: m.indices, shape: [k], maxshape: [null], dtype: '<i', chunks: [65536], ...gzipOptions(ctx) });
    } else if (k > 0) {
      dataDs.resize([nnz + k]);
      dataDs.write_slice([[nnz, nnz + k]], m.data);
      indicesDs.resize([nnz + k]);
      indicesDs.write_slice([[nnz, nnz + k]], m.indices);
    }
    nnz += k;
  };
  add(s.first.start, s.first.end, s.first.matrix);
  for (const b of restOf(s)) add(b.start, b.end, b.matrix);
  const ip = indptrForWrite(indptr, nnz);
  writeNumeric(sub, 'indptr', ip, [ip.length], ctx);
}

/** The `csr_matrix` encoding. */
export const csrMatrix = defineEncoding<CsrValue>({
  type: 'csr_matrix',
  version: '0.1.0',
  read: sparseReader('csr'),
  write: {
    create(g, name, m, ctx) {
      if (!isBlockStream(m)) checkSparseForWrite(g, name, m, ctx);
      return g.create_group(name);
    },
    fill(sub, m, ctx) {
      if (isBlockStream(m)) fillBlocks(sub as Group, m, ctx);
      else fillSparse(sub as Group, m, ctx);
    },
  },
});
