import { InvalidOptionError } from '../errors';
import { Rng, checkSeed, deriveSeed } from '../random/rng';
import { shuffleInPlace } from '../random/permutation';

/** Options of {@link MinibatchSampler}. */
export interface MinibatchOptions {
  /** Rows to draw from: a count (rows 0..n−1) or an explicit index list (e.g. the training split). */
  rows: number | ArrayLike<number>;
  /** Rows per batch (≥ 1). */
  batchSize: number;
  /** Shuffle every epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffling; epoch e uses a stream derived from (seed, e). Default 0. */
  seed?: number;
  /** Drop a last, smaller batch (default false, as torch's DataLoader). */
  dropLast?: boolean;
  /**
   * Shuffle by block, for data stored in blocks of consecutive rows (see `RowSource.blockSize`):
   * every epoch the blocks (`size` rows each, by row index) are permuted, taken `window` at a time,
   * and the rows of each window shuffled together. A minibatch then touches at most 2·`window`
   * blocks. Unset: rows are shuffled over the whole data.
   */
  blocks?: { size: number; window: number };
}

/**
 * Splits rows into minibatches of row indices, reshuffled every epoch. The order of epoch `e` depends
 * only on (seed, e), so training can resume at any epoch and get the same batches.
 */
export class MinibatchSampler {
  private readonly rows: Int32Array;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly blocks: { size: number; window: number } | null;

  constructor(options: MinibatchOptions) {
    const { rows, batchSize } = options;
    if (typeof rows === 'number') {
      if (!Number.isSafeInteger(rows) || rows < 0 || rows > 0x7fffffff) throw new InvalidOptionError('rows', `rows must be a non-negative integer, got ${rows}.`);
      this.rows = new Int32Array(rows);
      for (let i = 0; i < rows; i++) this.rows[i] = i;
    } else {
      this.rows = Int32Array.from(rows);
      for (let i = 0; i < this.rows.length; i++) {
        if (this.rows[i] !== rows[i] || rows[i]! < 0) throw new InvalidOptionError('rows', `Row index ${rows[i]} at position ${i} is not a non-negative integer.`);
      }
    }
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new InvalidOptionError('batchSize', `batchSize must be a positive integer, got ${batchSize}.`);
    }
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? true;
    this.seed = checkSeed(options.seed ?? 0);
    this.dropLast = options.dropLast ?? false;
    const b = options.blocks;
    if (b) {
      if (!Number.isSafeInteger(b.size) || b.size < 1) throw new InvalidOptionError('blocks.size', `blocks.size must be a positive integer, got ${b.size}.`);
      if (!Number.isSafeInteger(b.window) || b.window < 1) throw new InvalidOptionError('blocks.window', `blocks.window must be a positive integer, got ${b.window}.`);
    }
    this.blocks = b ? { size: b.size, window: b.window } : null;
  }

  /** Number of rows sampled from. */
  get nRows(): number {
    return this.rows.length;
  }

  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    const n = this.rows.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The row order of epoch `epoch` (0-based): a seeded permutation, or the given order without shuffling. */
  epochOrder(epoch: number): Int32Array {
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new InvalidOptionError('epoch', `epoch must be a non-negative integer, got ${epoch}.`);
    if (this.shuffle && this.blocks) return this.blockOrder(new Rng(deriveSeed(this.seed, epoch)), this.blocks);
    const order = this.rows.slice();
    if (this.shuffle) shuffleInPlace(new Rng(deriveSeed(this.seed, epoch)), order);
    return order;
  }

  /** Block-shuffled order: blocks permuted, rows shuffled within windows of `window` blocks. */
  private blockOrder(rng: Rng, blocks: { size: number; window: number }): Int32Array {
    const rows = this.rows;
    let maxRow = -1;
    for (let i = 0; i < rows.length; i++) if (rows[i]! > maxRow) maxRow = rows[i]!;
    const nBlocks = Math.floor(maxRow / blocks.size) + 1;
    // rows grouped by block (counting sort, keeping the given order within a block)
    const start = new Int32Array(nBlocks + 1);
    for (let i = 0; i < rows.length; i++) start[Math.floor(rows[i]! / blocks.size) + 1]!++;
    for (let b = 0; b < nBlocks; b++) start[b + 1]! += start[b]!;
    const grouped = new Int32Array(rows.length);
    const fill = start.slice(0, nBlocks);
    for (let i = 0; i < rows.length; i++) grouped[fill[Math.floor(rows[i]! / blocks.size)]!++] = rows[i]!;
    const used: number[] = [];
    for (let b = 0; b < nBlocks; b++) if (start[b + 1]! > start[b]!) used.push(b);
    const blockOrder = shuffleInPlace(rng, Int32Array.from(used));
    const order = new Int32Array(rows.length);
    let k = 0;
    for (let w = 0; w < blockOrder.length; w += blocks.window) {
      const from = k;
      for (let j = w; j < Math.min(blockOrder.length, w + blocks.window); j++) {
        const b = blockOrder[j]!;
        order.set(grouped.subarray(start[b]!, start[b + 1]!), k);
        k += start[b + 1]! - start[b]!;
      }
      shuffleInPlace(rng, order.subarray(from, k));
    }
    return order;
  }

  /** Yields the batches (row indices) of epoch `epoch`. */
  *batches(epoch: number): Generator<Int32Array, void, undefined> {
    const order = this.epochOrder(epoch);
    const nb = this.batchesPerEpoch;
    for (let b = 0; b < nb; b++) yield order.subarray(b * this.batchSize, Math.min(order.length, (b + 1) * this.batchSize));
  }
}
