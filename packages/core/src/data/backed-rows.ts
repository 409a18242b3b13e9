import { InvalidOptionError } from '../errors';
import type { BackedAnnDataLike } from './anndata';
import { MatrixFormatError } from './errors';
import type { CountMatrix, IndexArray, NumericArray } from './matrix';
import { checkRowIndices, type RowSource } from './row-source';

/** Rows per block read from disk (CSR sliced by `indptr`). */
export const DEFAULT_BACKED_BLOCK_ROWS = 1024;

/** Options of {@link BackedRowSource}. */
export interface BackedRowsOptions {
  /** Rows per block read at once (default {@link DEFAULT_BACKED_BLOCK_ROWS}). */
  blockSize?: number;
  /** Blocks kept in memory (default 72: twice the trainer's default shuffle window of 32, plus slack). */
  cacheBlocks?: number;
}

interface CachedBlock {
  kind: 'csr' | 'dense';
  rows: number;
  data: NumericArray;
  indices?: IndexArray;
  indptr?: IndexArray;
}

/**
 * A {@link RowSource} over X or a layer of a backed AnnData (e.g. `openH5ad` of `@invae/io-anndata`):
 * rows are read in blocks of consecutive rows (CSR sliced by `indptr`, so only the block's values are
 * read) and the most recently used blocks are kept in memory. It advertises `blockSize`, so training
 * shuffles by block and memory stays bounded by the cache whatever the file size. The file is only read.
 */
export class BackedRowSource implements RowSource {
  /** Rows (cells). */
  readonly nRows: number;
  /** Columns (genes). */
  readonly nCols: number;
  /** Rows per block read from the file. */
  readonly blockSize: number;
  private readonly cacheBlocks: number;
  private readonly cache = new Map<number, CachedBlock>();
  /** Blocks read from disk so far (for diagnostics and tests). */
  blocksRead = 0;

  /**
   * @param backed the open file.
   * @param matrix `X` or a layer name.
   * @throws InvalidOptionError for a CSC matrix (not readable by rows) or a bad block/cache size.
   */
  constructor(
    private readonly backed: BackedAnnDataLike,
    private readonly matrix: string,
    options: BackedRowsOptions = {},
  ) {
    const info = backed.matrixInfo(matrix);
    if (info.kind === 'csc') {
      throw new InvalidOptionError(matrix === 'X' ? 'X' : 'layer', `${backed.file}: ${matrix} is stored as CSC, which cannot be read by rows.`, {
        hint: 'store it as CSR (adata.X = adata.X.tocsr()), or load the file into memory (readH5ad; invae train without --backed)',
      });
    }
    this.nRows = info.shape[0] ?? 0;
    this.nCols = info.shape[1] ?? 0;
    const bs = options.blockSize ?? DEFAULT_BACKED_BLOCK_ROWS;
    const cb = options.cacheBlocks ?? 72;
    if (!Number.isSafeInteger(bs) || bs < 1) throw new InvalidOptionError('blockSize', `blockSize must be a positive integer, got ${bs}.`);
    if (!Number.isSafeInteger(cb) || cb < 1) throw new InvalidOptionError('cacheBlocks', `cacheBlocks must be a positive integer, got ${cb}.`);
    this.blockSize = bs;
    this.cacheBlocks = cb;
  }

  private block(b: number): CachedBlock {
    const hit = this.cache.get(b);
    if (hit) {
      // most recently used last
      this.cache.delete(b);
      this.cache.set(b, hit);
      return hit;
    }
    const start = b * this.blockSize;
    const end = Math.min(this.nRows, start + this.blockSize);
    const m = this.backed.readRowRange(start, end, this.matrix).matrix;
    const blk: CachedBlock = m.kind === 'csr' ? { kind: 'csr', rows: end - start, data: m.data, indices: m.indices, indptr: m.indptr } : { kind: 'dense', rows: end - start, data: m.data };
    this.blocksRead++;
    this.cache.set(b, blk);
    while (this.cache.size > this.cacheBlocks) this.cache.delete(this.cache.keys().next().value!);
    return blk;
  }

  /**
   * The rows [start, end) as stored (CSR or dense), not densified: one block through the cache when
   * the range is exactly a block, else read from the file at once. The result must not be modified.
   */
  readRowRange(start: number, end: number): CountMatrix {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end <= this.nRows)) {
      throw new MatrixFormatError(`Row range [${start}, ${end}) is not within [0, ${this.nRows}].`);
    }
    const b = Math.floor(start / this.blockSize);
    if (start === b * this.blockSize && end === Math.min(this.nRows, start + this.blockSize) && end > start) {
      const blk = this.block(b);
      return blk.kind === 'csr'
        ? { kind: 'csr', shape: [blk.rows, this.nCols], data: blk.data, indices: blk.indices!, indptr: blk.indptr! }
        : { kind: 'dense', shape: [blk.rows, this.nCols], data: blk.data };
    }
    const m = this.backed.readRowRange(start, end, this.matrix).matrix;
    if (m.kind === 'csc') throw new MatrixFormatError(`${this.matrix} read as CSC; rows cannot be read from it.`);
    return m;
  }

  /** The rows `indices`, densified, row-major (blocks read from the file as needed). */
  readRows(indices: ArrayLike<number>): Float32Array {
    checkRowIndices(indices, this.nRows);
    const nCols = this.nCols;
    const out = new Float32Array(indices.length * nCols);
    for (let i = 0; i < indices.length; i++) {
      const r = indices[i]!;
      const b = Math.floor(r / this.blockSize);
      const blk = this.block(b);
      const local = r - b * this.blockSize;
      const base = i * nCols;
      if (blk.kind === 'csr') {
        const { data, indices: cols, indptr } = blk as Required<CachedBlock>;
        for (let k = indptr[local]!; k < indptr[local + 1]!; k++) out[base + cols[k]!]! += data[k]!;
      } else {
        const d = blk.data;
        for (let c = 0; c < nCols; c++) out[base + c] = d[local * nCols + c]!;
      }
    }
    return out;
  }
}
