import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../src/index';
import { fastPaths } from '../src/nn/fast-paths';
import { sparseAffine, threadedSparseLimits, threadedSparseStats } from '../src/nn/sparse-affine';
import { fusedThreads } from '../src/fused/threads';
import { Rng } from '../src/random/rng';
import { buildCountsCsr, nonZeroStats, setKnownNonZeros } from '../src/nn/counts-csr';

const LIMITS = { ...threadedSparseLimits };
const SWITCHES = { ...fastPaths };

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});
afterEach(() => {
  Object.assign(fastPaths, SWITCHES);
  Object.assign(threadedSparseLimits, LIMITS);
});
afterAll(() => fusedThreads().close());

const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

/** Forward values and the W, b gradients of Σ up ⊙ (x · Wᵀ + b) on the sparse products. */
function evaluate(xs: Float32Array, ws: Float32Array, bs: Float32Array, ups: Float32Array, rows: number, inDim: number, n: number, csrCols = 0) {
  return tf.tidy(() => {
    const x = tf.tensor2d(xs, [rows, inDim]);
    if (csrCols > 0) {
      // the non-zeros of the first csrCols columns known (as for a minibatch's counts); the rest scanned
      const csr = buildCountsCsr(tf.slice(x, [0, 0], [rows, csrCols]))!;
      setKnownNonZeros(x, { csr, csrCols, nnz: null });
    }
    const w = tf.tensor2d(ws, [n, inDim]);
    const b = tf.tensor1d(bs);
    const up = tf.tensor2d(ups, [rows, n]);
    const y = sparseAffine(x, w, b).dataSync().slice() as Float32Array;
    const [dw, db] = tf.grads((wv: tf.Tensor, bv: tf.Tensor) => tf.sum(tf.mul(sparseAffine(x, wv as tf.Tensor2D, bv as tf.Tensor1D), up)))([w, b]);
    return { y, dw: dw!.dataSync().slice() as Float32Array, db: db!.dataSync().slice() as Float32Array };
  });
}

describe('sparse first-layer products on the fused threads', () => {
  for (const [rows, inDim, n, csrCols] of [[37, 150, 70, 0], [64, 40, 128, 0], [50, 210, 96, 200], [33, 64, 40, 64]] as const) {
    it(`give the single-thread kernels' values bit for bit (rows ${rows}, in ${inDim}, out ${n}, ${csrCols ? `non-zeros of ${csrCols} columns known` : 'non-zeros found'}) on 1, 2 and 3 threads`, () => {
      const rng = new Rng(rows + n);
      const xs = Float32Array.from({ length: rows * inDim }, () => (rng.uniform() < 0.6 ? 0 : 4 * rng.uniform()));
      const ws = Float32Array.from({ length: n * inDim }, () => rng.uniform() - 0.5);
      const bs = Float32Array.from({ length: n }, () => rng.uniform() - 0.5);
      const ups = Float32Array.from({ length: rows * n }, () => rng.uniform() - 0.5);
      fastPaths.threadedSparse = false;
      const single = evaluate(xs, ws, bs, ups, rows, inDim, n, csrCols);
      fastPaths.threadedSparse = true;
      threadedSparseLimits.minMacs = 0;
      for (const threads of [1, 2, 3]) {
        fusedThreads(threads);
        const before = { ...threadedSparseStats };
        const scans = nonZeroStats.scans;
        const r = evaluate(xs, ws, bs, ups, rows, inDim, n, csrCols);
        // a known pattern spares the scans: one per staging otherwise (the gradient reuses its forward pass's)
        expect(nonZeroStats.scans - scans, 'scans for non-zeros').toBe(csrCols ? 0 : 2);
        expect(threadedSparseStats.forward - before.forward, 'threaded forward products').toBe(2);
        expect(threadedSparseStats.grad - before.grad, 'threaded gradient products').toBe(1);
        expect(threadedSparseStats.reusedInput - before.reusedInput, 'gradient on the forward pass\'s staged input').toBe(1);
        expect(same(r.y, single.y), `forward, ${threads} threads`).toBe(true);
        expect(same(r.dw, single.dw), `dW, ${threads} threads`).toBe(true);
        expect(same(r.db, single.db), `db, ${threads} threads`).toBe(true);
      }
    });
  }

  it('a gradient after another use of the pool (another input\'s forward product, another kernel) stages its input again: the same bits', () => {
    const rng = new Rng(5);
    const [rows, inDim, n] = [40, 90, 33];
    const make = () => Float32Array.from({ length: rows * inDim }, () => (rng.uniform() < 0.6 ? 0 : 4 * rng.uniform()));
    const [xa, xb] = [make(), make()];
    const ws = Float32Array.from({ length: n * inDim }, () => rng.uniform() - 0.5);
    const bs = Float32Array.from({ length: n }, () => rng.uniform() - 0.5);
    const ups = Float32Array.from({ length: rows * n }, () => rng.uniform() - 0.5);
    threadedSparseLimits.minMacs = 0;
    fusedThreads(2);
    const want = evaluate(xa, ws, bs, ups, rows, inDim, n);
    const got = tf.tidy(() => {
      const [x, other] = [tf.tensor2d(xa, [rows, inDim]), tf.tensor2d(xb, [rows, inDim])];
      const [w, b, up] = [tf.tensor2d(ws, [n, inDim]), tf.tensor1d(bs), tf.tensor2d(ups, [rows, n])];
      const before = { ...threadedSparseStats };
      const [dw, db] = tf.grads((wv: tf.Tensor, bv: tf.Tensor) => {
        const y = sparseAffine(x, wv as tf.Tensor2D, bv as tf.Tensor1D);
        // another input's forward product resets the pool between x's forward product and its gradient
        sparseAffine(other, wv as tf.Tensor2D, bv as tf.Tensor1D);
        return tf.sum(tf.mul(y, up));
      })([w, b]);
      // the pool reset and overwritten by another kernel after x's forward product
      const [dw2] = tf.grads((wv: tf.Tensor) => {
        const y = sparseAffine(x, wv as tf.Tensor2D, b);
        const pool = fusedThreads();
        pool.reset();
        pool.view(pool.alloc(4 * rows * inDim), 4 * rows * inDim).fill(3);
        return tf.sum(tf.mul(y, up));
      })([w]);
      expect(same(dw2!.dataSync() as Float32Array, want.dw)).toBe(true);
      expect(threadedSparseStats.reusedInput - before.reusedInput).toBe(0);
      return { dw: dw!.dataSync().slice() as Float32Array, db: db!.dataSync().slice() as Float32Array };
    });
    expect(same(got.dw, want.dw)).toBe(true);
    expect(same(got.db, want.db)).toBe(true);
  });
});
