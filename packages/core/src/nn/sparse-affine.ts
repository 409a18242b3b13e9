import { tf } from '../tf';
import { defineJsKernel } from './js-kernel';
import { engineOffset, simdKernels, simdKernelsFor } from '../wasm/kernels';
import { knownNonZeros, nonZeroStats } from './counts-csr';
import { fastPaths } from './fast-paths';
import { fusedThreads, threadedLimit, threadsAvailable, type SplitTask } from '../fused/threads';

// The affine map x · Wᵀ + b of a layer whose input is data with many zeros (an encoder's first
// layer: log-counts and one-hot covariates), computed on the non-zeros of x only: forward
// Σ_{c: x_c ≠ 0} x_c · Wᵀ[c, :], and the weight gradient dWᵀ[c, :] = Σ_rows x_c · dy over the same
// non-zeros. Runs with the SIMD kernels on the wasm engine (see sparseAffineApplies).

/**
 * Input density (non-zeros / elements) up to which the sparse products are used: below the
 * crossover measured on the wasm engine (256 × 2012 → 128, forward plus weight gradient, random
 * inputs: sparse faster up to ~0.9 density, as the engine's dense path also transposes x and W and
 * re-packs W every step). A/B a whole training run with `INVAE_SIMD=0 npm run bench:perf`.
 */
export const SPARSE_AFFINE_MAX_DENSITY = 0.75;

/** Dense fallback of the forward kernel (engines without the SIMD kernels; never chosen by sparseAffineApplies). */
function affineRows(x: Float32Array, w: Float32Array, bias: Float32Array, y: Float32Array, rows: number, inDim: number, n: number): void {
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < n; o++) {
      let s = bias[o]!;
      for (let c = 0; c < inDim; c++) s += x[r * inDim + c]! * w[o * inDim + c]!;
      y[r * n + o] = s;
    }
  }
}

/** Dense fallback of the gradient kernel. */
function affineGradRows(x: Float32Array, dy: Float32Array, dW: Float32Array, db: Float32Array, rows: number, inDim: number, n: number): void {
  dW.fill(0);
  db.fill(0);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < n; o++) {
      const d = dy[r * n + o]!;
      db[o] = db[o]! + d;
      for (let c = 0; c < inDim; c++) dW[o * inDim + c] = dW[o * inDim + c]! + d * x[r * inDim + c]!;
    }
  }
}

/** Rows per chunk of the threaded forward product (fixed: the chunks, not the threads, are the unit of work). */
const CHUNK_ROWS = 16;

/** Smallest rows × in × out that runs on the fused threads (internal: tests lower it). */
export const threadedSparseLimits = { minMacs: threadedLimit(1 << 20) };

/** Number of threaded forward and gradient products (tests check which path ran). */
export const threadedSparseStats = { forward: 0, grad: 0, reusedInput: 0 };

function threadedSparseApplies(rows: number, inDim: number, n: number): boolean {
  return fastPaths.threadedSparse && rows * inDim * n >= threadedSparseLimits.minMacs && threadsAvailable();
}

type Pool = ReturnType<typeof fusedThreads>;
interface Staged {
  xa: number;
  csr: number;
  csrCols: number;
}

/** The input the last forward product staged, valid while its pool is not reset (see {@link stagedFor}). */
let lastStaged: { pool: Pool; resets: number; x: Float32Array; nz: Float32Array | null; staged: Staged } | null = null;

/**
 * Copies x and its non-zeros (the packed CSR `nz` of its first `csrCols` columns, its used words only;
 * found here by `buildCsr` when null) into the pool; returns their byte offsets and the columns the CSR covers.
 */
function stageInput(pool: Pool, x: Float32Array, rows: number, inDim: number, nz: Float32Array | null, csrCols: number): Staged {
  const xa = pool.alloc(rows * inDim);
  pool.write(xa, x);
  if (nz) {
    // row offsets [rows + 1], then the nnz column indices (the rest of the capacity is unused)
    const used = rows + 1 + new Int32Array(nz.buffer, nz.byteOffset, rows + 1)[rows]!;
    const csr = pool.alloc(used);
    pool.write(csr, nz.subarray(0, used));
    return { xa, csr, csrCols };
  }
  const csr = pool.alloc(rows + 1 + rows * inDim);
  nonZeroStats.scans++;
  pool.call('buildCsr', xa, rows, inDim, csr);
  return { xa, csr, csrCols: inDim };
}

/**
 * The staging of the same x (and non-zeros) by the last forward product, when the pool has not been
 * reset since (the gradient of a layer follows its forward pass; a data tensor is never written in
 * place and, alive for its gradient, keeps its memory); else null.
 */
function stagedFor(pool: Pool, x: Float32Array, nz: Float32Array | null): Staged | null {
  const s = lastStaged;
  if (!s || s.pool !== pool || s.resets !== pool.resets) return null;
  const same = (a: Float32Array | null, b: Float32Array | null) => (a === null || b === null ? a === b : a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.length === b.length);
  return same(s.x, x) && same(s.nz, nz) ? s.staged : null;
}

/** The forward product on the fused threads (rows in fixed chunks; each row's sum as the single-thread kernel's). Returns false where it does not apply. */
function forwardThreaded(x: Float32Array, w: Float32Array, b: Float32Array, y: Float32Array, rows: number, inDim: number, n: number, nz: Float32Array | null, csrCols: number): boolean {
  if (!threadedSparseApplies(rows, inDim, n)) return false;
  threadedSparseStats.forward++;
  const pool = fusedThreads();
  const chunks = Math.ceil(rows / CHUNK_ROWS);
  pool.reset();
  const input = stageInput(pool, x, rows, inDim, nz, csrCols);
  lastStaged = { pool, resets: pool.resets, x, nz, staged: input };
  const [wa, wta, ba, ya, idx] = [pool.alloc(n * inDim), pool.alloc(n * inDim), pool.alloc(n), pool.alloc(rows * n), pool.alloc(chunks * inDim)];
  pool.write(wa, w);
  pool.write(ba, b);
  pool.call('transpose', wa, n, inDim, wta);
  pool.run([{ kernel: 'sparseAffineCsrChunks', args: [input.xa, rows, inDim, wta, ba, ya, n, idx, input.csr, input.csrCols, CHUNK_ROWS, 0, 0], splitAt: 11, units: chunks }]);
  y.set(pool.view(ya, rows * n));
  return true;
}

/**
 * dW and db on the fused threads: dWᵀ split by input columns (each thread adds its columns' non-zeros,
 * rows in order, then writes them transposed into dW) and db by outputs, each element's sum as the
 * single-thread kernel's. Returns false where it does not apply.
 */
function gradThreaded(x: Float32Array, dy: Float32Array, dW: Float32Array, db: Float32Array, rows: number, inDim: number, n: number, nz: Float32Array | null, csrCols: number): boolean {
  if (!threadedSparseApplies(rows, inDim, n)) return false;
  threadedSparseStats.grad++;
  const pool = fusedThreads();
  // x as its forward product staged it (the gradient's buffers then go above), else staged anew
  let input = stagedFor(pool, x, nz);
  if (input) threadedSparseStats.reusedInput++;
  else {
    pool.reset();
    input = stageInput(pool, x, rows, inDim, nz, csrCols);
  }
  const [dya, idx, dwt, dwa, dba] = [pool.alloc(rows * n), pool.alloc(inDim), pool.alloc(inDim * n), pool.alloc(n * inDim), pool.alloc(n)];
  pool.write(dya, dy);
  const tasks: SplitTask[] = [
    { kernel: 'sparseAffineGradCsrCols', args: [input.xa, rows, inDim, dya, n, dwt, input.csr, input.csrCols, idx, 0, 0], splitAt: 9, units: inDim, align: 16 },
    // the same split as the line above: each thread transposes the rows of dWᵀ it wrote
    { kernel: 'transposeRows', args: [dwt, inDim, n, dwa, 0, 0], splitAt: 4, units: inDim, align: 16 },
    { kernel: 'colSums', args: [dya, n, rows, dba, 0, 0], splitAt: 4, units: n, align: 4 },
  ];
  pool.run(tasks);
  dW.set(pool.view(dwa, n * inDim));
  db.set(pool.view(dba, n));
  return true;
}

type Kernel = ReturnType<typeof defineJsKernel>;
let forwardKernels: [Kernel, Kernel] | null = null;
let gradKernels: [Kernel, Kernel] | null = null;

/**
 * The kernels without (index 0) and with (index 1) the non-zeros of x given as an extra input `nz`
 * (a packed CSR pattern of x's first `csrCols` columns, see `counts-csr`), which spares the scan of x.
 */
function kernels() {
  if (!forwardKernels) {
    const forward = (withCsr: boolean) =>
      defineJsKernel({
        name: withCsr ? 'InvaeSparseAffineCsr' : 'InvaeSparseAffine',
        inputs: withCsr ? ['x', 'w', 'b', 'nz'] : ['x', 'w', 'b'],
        outputShapes: ([x, w]) => [[x![0]!, w![0]!]],
        // Wᵀ [in, out] and one row's column indices
        scratch: ([x, w]) => [x![1]! * w![0]!, x![1]!],
        body: ([x, w, b, nz], [y], [xs, ws], { csrCols }, [wt, idx]) => {
          const [rows, inDim, n] = [xs![0]!, xs![1]!, ws![0]!];
          if (forwardThreaded(x!, w!, b!, y!, rows, inDim, n, nz ?? null, csrCols ?? inDim)) return;
          const k = simdKernelsFor(nz ? [x!, w!, b!, y!, wt!, idx!, nz] : [x!, w!, b!, y!, wt!, idx!]);
          if (!k) return affineRows(x!, w!, b!, y!, rows, inDim, n);
          if (!nz) nonZeroStats.scans++;
          k.transpose(w!.byteOffset, n, inDim, wt!.byteOffset);
          k.sparseAffine(x!.byteOffset, rows, inDim, wt!.byteOffset, b!.byteOffset, y!.byteOffset, n, idx!.byteOffset, nz ? nz.byteOffset : 0, nz ? csrCols! : 0);
        },
      });
    const grad = (withCsr: boolean) =>
      defineJsKernel({
        name: withCsr ? 'InvaeSparseAffineGradCsr' : 'InvaeSparseAffineGrad',
        inputs: withCsr ? ['x', 'dy', 'nz'] : ['x', 'dy'],
        outputShapes: ([x, dy]) => [[dy![1]!, x![1]!], [dy![1]!]],
        scratch: ([x, dy]) => [x![1]! * dy![1]!, x![1]!],
        body: ([x, dy, nz], [dW, db], [xs, dys], { csrCols }, [dwt, idx]) => {
          const [rows, inDim, n] = [xs![0]!, xs![1]!, dys![1]!];
          if (gradThreaded(x!, dy!, dW!, db!, rows, inDim, n, nz ?? null, csrCols ?? inDim)) return;
          const k = simdKernelsFor(nz ? [x!, dy!, dW!, db!, dwt!, idx!, nz] : [x!, dy!, dW!, db!, dwt!, idx!]);
          if (!k) return affineGradRows(x!, dy!, dW!, db!, rows, inDim, n);
          if (!nz) nonZeroStats.scans++;
          k.sparseAffineGrad(x!.byteOffset, rows, inDim, dy!.byteOffset, n, dwt!.byteOffset, db!.byteOffset, idx!.byteOffset, nz ? nz.byteOffset : 0, nz ? csrCols! : 0);
          k.transpose(dwt!.byteOffset, inDim, n, dW!.byteOffset);
        },
      });
    forwardKernels = [forward(false), forward(true)];
    gradKernels = [grad(false), grad(true)];
  }
  return { forward: forwardKernels, grad: gradKernels! };
}

/**
 * Fraction of non-zero values of `x` (on the wasm engine: known for minibatch counts and the encoder
 * input built from them, see `counts-csr`, else counted in place), or null where it cannot be counted cheaply.
 */
export function density(x: tf.Tensor): number | null {
  const k = simdKernels();
  if (!k || x.dtype !== 'float32' || x.size === 0) return null;
  const known = knownNonZeros(x)?.nnz;
  if (known !== undefined && known !== null) return known / x.size;
  const offset = engineOffset(x);
  if (offset !== null) nonZeroStats.scans++;
  return offset === null ? null : k.countNonZero(offset, x.size) / x.size;
}

/**
 * Whether {@link sparseAffine} should compute `x · Wᵀ + b`: the SIMD kernels run on this engine and
 * `x` (float32, `[B, in]`) has at most {@link SPARSE_AFFINE_MAX_DENSITY} non-zeros.
 */
export function sparseAffineApplies(x: tf.Tensor2D, maxDensity = SPARSE_AFFINE_MAX_DENSITY): boolean {
  if (x.rank !== 2) return false;
  const d = density(x);
  return d !== null && d <= maxDensity;
}

/**
 * `x · Wᵀ + b` (weight `[out, in]`, bias `[out]`) for a data input `x` `[B, in]`, on the non-zeros of
 * `x`, with gradients for W and b (none for x: differentiating with respect to it is an error). Use
 * where {@link sparseAffineApplies}.
 */
export function sparseAffine(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  const k = kernels();
  // the non-zeros of x when known (a minibatch's; alive until its gradient step is done)
  const known = knownNonZeros(x);
  const nz = known ? [known.csr.packed] : [];
  const attrs: Record<string, number> = known ? { csrCols: known.csrCols } : {};
  const which = known ? 1 : 0;
  const f = tf.customGrad(((wv: tf.Tensor2D, bv: tf.Tensor1D, save: tf.GradSaveFunc) => {
    save([x]);
    return {
      value: k.forward[which]!([x, wv, bv, ...nz], attrs)[0]!,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => k.grad[which]!([saved[0]!, dy, ...nz], attrs),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;
  return f(w, b);
}
