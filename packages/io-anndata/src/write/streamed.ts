/**
 * Matrices supplied as row blocks (X larger than memory, or X and layers carried over by updateH5ad's rebuild):
 * the blocks are checked as they come and written by the `array` or `csr_matrix` encoding, chosen by the first block.
 */
import type { Group } from '../h5';
import { AnnDataWriteError } from '../errors';
import type { CsrMatrix, DenseMatrix } from '../anndata';
import type { RowBlock } from '../backed';
import { csrMatrix } from '../encodings/csr-matrix';
import { denseArray } from '../encodings/dense-array';
import { childPath, writeElement, type WriteContext } from '../encodings/registry';
import type { Block, BlockStream } from '../encodings/row-blocks';

/**
 * A matrix supplied as consecutive row blocks (dense or CSR), so X larger than memory can be written; also used
 * when updateH5ad rebuilds a file without loading X.
 */
export interface StreamedMatrix {
  /** [n_obs, n_vars] of the whole matrix. */
  shape: [number, number];
  /** Returns the blocks, in row order, covering all rows. */
  blocks: () => Iterable<RowBlock>;
}

/** The blocks of `src`, each checked (order, shape, one kind, CSR consistency); throws at the end unless all rows came. */
function* checkedBlocks(src: StreamedMatrix, ctx: WriteContext, el: string): Generator<RowBlock> {
  const [nr, nc] = src.shape;
  let next = 0;
  let kind: string | null = null;
  for (const b of src.blocks()) {
    const m = b.matrix;
    const bad = (msg: string) => new AnnDataWriteError(`row block [${b.start}, ${b.end}): ${msg}`, { file: ctx.file, element: el });
    if (b.start !== next || b.end < b.start || b.end > nr) throw bad(`expected a block starting at row ${next} within ${nr} rows`);
    if (m.shape[0] !== b.end - b.start || m.shape[1] !== nc) throw bad(`block shape ${JSON.stringify(m.shape)} should be [${b.end - b.start}, ${nc}]`);
    if (kind !== null && m.kind !== kind) throw bad(`mixes ${kind} and ${m.kind} blocks`);
    kind = m.kind;
    if (m.kind === 'dense' && m.data.length !== (b.end - b.start) * nc) throw bad('dense data length does not match its shape');
    if (m.kind === 'csc') throw new AnnDataWriteError('streamed blocks must be dense or csr', { file: ctx.file, element: el });
    if (m.kind === 'csr') {
      const rows = b.end - b.start;
      if (m.indptr.length !== rows + 1 || m.indptr[0] !== 0 || m.indptr[rows] !== m.data.length || m.indices.length !== m.data.length) {
        throw bad('inconsistent indptr/indices/data');
      }
      for (let i = 0; i < m.indices.length; i++) if (m.indices[i] < 0 || m.indices[i] >= nc) throw bad(`column index ${m.indices[i]} out of range`);
    }
    next = b.end;
    yield b;
  }
  if (next !== nr) throw new AnnDataWriteError(`row blocks covered ${next} of ${nr} rows`, { file: ctx.file, element: el });
}

/** Writes a streamed matrix as `name` under `g`: dense blocks as `array`, CSR blocks as `csr_matrix`. */
export function writeStreamed(g: Group, name: string, src: StreamedMatrix, ctx: WriteContext): void {
  const el = childPath(g, name);
  const rest = checkedBlocks(src, ctx, el);
  const first = rest.next();
  if (first.done) {
    // zero rows
    const empty: DenseMatrix = { kind: 'dense', shape: [src.shape[0], src.shape[1]], dtype: 'float32', data: new Float32Array(0) };
    writeElement(g, name, denseArray, empty, ctx);
    return;
  }
  if (first.value.matrix.kind === 'dense') {
    const s: BlockStream<DenseMatrix> = { stream: true, shape: src.shape, first: first.value as Block<DenseMatrix>, rest: rest as Iterator<Block<DenseMatrix>> };
    writeElement(g, name, denseArray, s, ctx);
  } else {
    const s: BlockStream<CsrMatrix> = { stream: true, shape: src.shape, first: first.value as Block<CsrMatrix>, rest: rest as Iterator<Block<CsrMatrix>> };
    writeElement(g, name, csrMatrix, s, ctx);
  }
}
