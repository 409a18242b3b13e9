import { tf } from '../tf';
import { defineJsKernel, jsKernelsAvailable, uninitializedTensor } from './js-kernel';
import { engineView, simdKernels, simdKernelsFor } from '../wasm/kernels';
import { MatrixFormatError } from '../data/errors';

// The non-zeros of a minibatch's counts, found once per minibatch and handed to every kernel that
// visits only the non-zero counts (the encoder input's log1p, the sparse first layer and its weight
// gradient, the NB likelihood's count terms and their gradient), instead of each kernel scanning the
// dense counts again. A kernel finds them by its input tensor (see knownNonZeros): kernels whose
// input carries none scan it as before.

/** The non-zeros of a `[rows, cols]` float32 tensor, as a CSR pattern on the engine. */
export interface CountsCsr {
  readonly rows: number;
  readonly cols: number;
  /** Number of non-zero values. */
  readonly nnz: number;
  /**
   * The pattern as int32 words stored in a float32 tensor (so that the kernels read it in place on
   * the engine): row offsets `[rows + 1]`, then each row's column indices in increasing order (`nnz`
   * used of a capacity of `rows · cols`). Owned by whoever built it (a minibatch).
   */
  readonly packed: tf.Tensor1D;
}

/** What is known of a data tensor's non-zeros without scanning it. */
export interface KnownNonZeros {
  /** The non-zeros of the tensor's first `csrCols` columns; columns from `csrCols` on are scanned (few: covariates). */
  readonly csr: CountsCsr;
  readonly csrCols: number;
  /** All non-zeros of the tensor, or null where not counted (engines without the SIMD kernels). */
  readonly nnz: number | null;
}

/**
 * Counters for tests and profiling: `builds` counts CSR patterns built ({@link buildCountsCsr}),
 * `scans` the kernel calls that scanned dense counts for their non-zeros because none were known.
 */
export const nonZeroStats = { builds: 0, scans: 0 };

const known = new WeakMap<object, KnownNonZeros>();

/** The non-zeros recorded for `t` (by its data), if any. */
export function knownNonZeros(t: tf.Tensor): KnownNonZeros | undefined {
  return known.get(t.dataId);
}

/** Records the non-zeros of `t`: the kernels that read `t` then use them instead of scanning it. */
export function setKnownNonZeros(t: tf.Tensor, info: KnownNonZeros): void {
  known.set(t.dataId, info);
}

/** JavaScript builder (engines without the SIMD kernels): the same words as the `buildCsr` kernel. */
function buildCsrJs(x: Float32Array, rows: number, cols: number, words: Int32Array): void {
  const idx = rows + 1;
  let k = 0;
  words[0] = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let j = 0; j < cols; j++) {
      // each index written, the count advanced past it only for a non-zero (no branch to mispredict)
      words[idx + k] = j;
      k += ((x[base + j] !== 0) as unknown as number) | 0;
    }
    words[r + 1] = k;
  }
}

let builder: ReturnType<typeof defineJsKernel> | null = null;
/** The number of non-zeros the builder kernel found in its last call (its body runs synchronously). */
let builtNnz = 0;

function builderKernel() {
  if (!builder) {
    builder = defineJsKernel({
      name: 'InvaeCountsCsr',
      inputs: ['x'],
      outputShapes: ([x]) => [[x![0]! + 1 + x![0]! * x![1]!]],
      body: ([x], [out], [xs]) => {
        const [rows, cols] = [xs![0]!, xs![1]!];
        const k = simdKernelsFor([x!, out!]);
        const words = new Int32Array(out!.buffer, out!.byteOffset, out!.length);
        if (k) k.buildCsr(x!.byteOffset, rows, cols, out!.byteOffset);
        else buildCsrJs(x!, rows, cols, words);
        builtNnz = words[rows]!;
      },
    });
  }
  return builder;
}

/**
 * Finds the non-zeros of the counts `x` (float32 `[rows, cols]`) once and records them for `x` (see
 * {@link knownNonZeros}); the caller owns the returned pattern's tensor. Null on engines that run no
 * JavaScript kernels (nothing there reads the pattern).
 */
export function buildCountsCsr(x: tf.Tensor2D): CountsCsr | null {
  if (!jsKernelsAvailable() || x.dtype !== 'float32' || x.rank !== 2) return null;
  const [rows, cols] = x.shape;
  const packed = builderKernel()([x])[0] as tf.Tensor1D;
  // the last row offset, as the kernel wrote it (no read back from the engine)
  const nnz = builtNnz;
  nonZeroStats.builds++;
  const csr: CountsCsr = { rows, cols, nnz, packed };
  setKnownNonZeros(x, { csr, csrCols: cols, nnz });
  return csr;
}

/** The int32 words of a packed pattern as seen by a kernel body (a float32 view of them). */
export function csrWords(view: Float32Array): Int32Array {
  return new Int32Array(view.buffer, view.byteOffset, view.length);
}

let fromEntries: ReturnType<typeof defineJsKernel> | null = null;
/** What the entries kernel returned in its last call: the number of non-zeros, or −1 (a column index out of range). */
let entriesResult = 0;

function entriesKernel() {
  if (!fromEntries) {
    fromEntries = defineJsKernel({
      name: 'InvaeCountsFromEntries',
      // staged entries: row starts [rows + 1], column indices [n] (i32 words), values [n]
      inputs: ['entries'],
      outputShapes: (_, { rows, cols, n }) => [[rows!, cols!], [rows! + 2 + n!]],
      body: ([entries], [x, out], _, { rows, cols, n }) => {
        const k = simdKernelsFor([entries!, x!, out!]);
        if (!k) throw new Error('InvaeCountsFromEntries: runs only with the SIMD kernels (see countsFromStoredEntries)');
        const at = entries!.byteOffset;
        entriesResult = k.csrRowsDense(at + 4 * (rows! + 1 + n!), at + 4 * (rows! + 1), at, rows!, cols!, x!.byteOffset, out!.byteOffset);
      },
    });
  }
  return fromEntries;
}

/**
 * A minibatch's dense counts `[rows, cols]` (float32, on the engine) and their non-zeros, from the
 * stored entries of its rows: `write(starts, cols, values)` puts row i's `n` entries in all at
 * `starts[i]` … `starts[i + 1] − 1` (see `RowSource.readStoredEntries`), straight into the engine's
 * memory; one SIMD kernel then writes the counts and lists their non-zeros (no scan of the dense
 * counts where a row's columns increase and its values are non-zero). Records the non-zeros for the
 * counts as {@link buildCountsCsr} does; the caller owns both tensors. Null where the SIMD kernels do
 * not run (then nothing is called).
 */
export function countsFromStoredEntries(rows: number, cols: number, n: number, write: (starts: Int32Array, cols: Int32Array, values: Float32Array) => void): { x: tf.Tensor2D; csr: CountsCsr } | null {
  if (!simdKernels() || !Number.isSafeInteger(n) || n < 0) return null;
  // not zeroed: the kernel reads the starts (checked below) and the entries between them, which `write` wrote
  const staged = uninitializedTensor([rows + 1 + 2 * n]);
  try {
    const view = engineView(staged);
    if (!view) return null;
    const words = new Int32Array(view.buffer, view.byteOffset, rows + 1 + n);
    const starts = words.subarray(0, rows + 1);
    // nothing allocates on the engine while the entries are written, so the views stay valid
    write(starts, words.subarray(rows + 1), view.subarray(rows + 1 + n));
    for (let r = 0; r < rows; r++) {
      if (!(starts[r]! <= starts[r + 1]!)) throw new MatrixFormatError(`Stored entries: row ${r} starts at ${starts[r]} after the next row's ${starts[r + 1]}.`);
    }
    if (starts[0] !== 0 || starts[rows]! > n) throw new MatrixFormatError(`Stored entries: rows span ${starts[0]} … ${starts[rows]}, expected 0 … at most ${n}.`);
    const [x, packed] = entriesKernel()([staged], { rows, cols, n }) as [tf.Tensor2D, tf.Tensor1D];
    const nnz = entriesResult;
    if (nnz < 0) {
      tf.dispose([x, packed]);
      throw new MatrixFormatError(`Stored entries: a column index is outside [0, ${cols}).`);
    }
    nonZeroStats.builds++;
    const csr: CountsCsr = { rows, cols, nnz, packed };
    setKnownNonZeros(x, { csr, csrCols: cols, nnz });
    return { x, csr };
  } finally {
    staged.dispose();
  }
}
