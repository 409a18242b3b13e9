import { tf } from '../tf';
import { defineJsKernel, jsKernelsAvailable } from './js-kernel';
import { simdKernelsFor } from '../wasm/kernels';

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
