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
    const order = this.rows.slice();
    if (this.shuffle) shuffleInPlace(new Rng(deriveSeed(this.seed, epoch)), order);
    return order;
  }

  /** Yields the batches (row indices) of epoch `epoch`. */
  *batches(epoch: number): Generator<Int32Array, void, undefined> {
    const order = this.epochOrder(epoch);
    const nb = this.batchesPerEpoch;
    for (let b = 0; b < nb; b++) yield order.subarray(b * this.batchSize, Math.min(order.length, (b + 1) * this.batchSize));
  }
}
