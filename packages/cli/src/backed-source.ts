import { InvalidOptionError, MatrixFormatError, type RowDataset, type RowSource } from '@invae/core';
import { frameIndex, openH5ad, type BackedAnnData, type Frame } from '@invae/io-anndata';

/** Rows per block read from disk (CSR sliced by `indptr`). */
export const DEFAULT_BACKED_BLOCK_ROWS = 1024;

/** Options of {@link BackedRowSource} and {@link openBackedDataset}. */
export interface BackedRowsOptions {
  /** Rows per block read at once (default {@link DEFAULT_BACKED_BLOCK_ROWS}). */
  blockSize?: number;
  /** Blocks kept in memory (default 72: twice the trainer's default shuffle window of 32, plus slack). */
  cacheBlocks?: number;
}

interface CachedBlock {
  kind: 'csr' | 'dense';
  rows: number;
  data: ArrayLike<number>;
  indices?: ArrayLike<number>;
  indptr?: ArrayLike<number>;
}

/**
 * A core `RowSource` over X or a layer of an open backed .h5ad: rows are read in blocks of
 * consecutive rows (CSR sliced by `indptr`, so only the block's values are read) and the most
 * recently used blocks are kept in memory. It advertises `blockSize`, so training shuffles by block
 * and memory stays bounded by the cache whatever the file size. The file is only read.
 */
export class BackedRowSource implements RowSource {
  readonly nRows: number;
  readonly nCols: number;
  readonly blockSize: number;
  private readonly cacheBlocks: number;
  private readonly cache = new Map<number, CachedBlock>();
  /** Blocks read from disk so far (for diagnostics and tests). */
  blocksRead = 0;

  constructor(
    private readonly backed: BackedAnnData,
    private readonly matrix: string,
    options: BackedRowsOptions = {},
  ) {
    const info = backed.matrixInfo(matrix);
    if (info.kind === 'csc') {
      throw new InvalidOptionError(matrix === 'X' ? 'X' : 'layer', `${backed.file}: ${matrix} is stored as CSC, which cannot be read by rows.`, {
        hint: 'store it as CSR (adata.X = adata.X.tocsr()), or train without --backed',
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
    const blk: CachedBlock = m.kind === 'csr' ? { kind: 'csr', rows: end - start, data: m.data, indices: m.indices, indptr: m.indptr } : { kind: 'dense', rows: end - start, data: m.data as ArrayLike<number> };
    this.blocksRead++;
    this.cache.set(b, blk);
    while (this.cache.size > this.cacheBlocks) this.cache.delete(this.cache.keys().next().value!);
    return blk;
  }

  readRows(indices: ArrayLike<number>): Float32Array {
    const nCols = this.nCols;
    const out = new Float32Array(indices.length * nCols);
    for (let i = 0; i < indices.length; i++) {
      const r = indices[i]!;
      if (!(r >= 0 && r < this.nRows) || !Number.isInteger(r)) throw new MatrixFormatError(`Row index ${r} (position ${i}) is outside [0, ${this.nRows}).`);
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

/** Obs columns of a frame as plain arrays (categoricals decoded, missing = null). */
function frameColumns(f: Frame): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const name of Object.keys(f.columns)) out[name] = f.table.array(name) as unknown[];
  return out;
}

/** A backed .h5ad opened for training: the row-streamed dataset, the cell names and the file to close. */
export interface BackedDataset {
  data: RowDataset;
  rows: BackedRowSource;
  cellNames: string[];
  /** Closes the file (call when done). */
  close: () => void;
}

/**
 * Opens an .h5ad without loading X: obs and var are read now, X (or `layer`) is streamed by row
 * blocks as training reads it. Unknown layers are a clear error listing the available ones.
 */
export async function openBackedDataset(file: string, layer?: string | null, options: BackedRowsOptions = {}): Promise<BackedDataset> {
  const backed = await openH5ad(file);
  try {
    const matrix = layer ?? 'X';
    if (layer) {
      if (!backed.layerNames().includes(layer)) {
        throw new InvalidOptionError('layer', `${file} has no layer '${layer}' (layers: ${backed.layerNames().join(', ') || 'none'}).`, { hint: 'omit --layer to use X' });
      }
    } else if (!backed.hasX()) {
      throw new InvalidOptionError('X', `${file} has no X matrix.`, { hint: 'name a layer with --layer' });
    }
    const rows = new BackedRowSource(backed, matrix, options);
    const data: RowDataset = { rows, geneNames: frameIndex(backed.var), obs: frameColumns(backed.obs) as RowDataset['obs'] };
    return { data, rows, cellNames: frameIndex(backed.obs), close: () => backed.close() };
  } catch (e) {
    backed.close();
    throw e;
  }
}
