import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../src/index';
import { FusedThreads, defaultThreadCount, sliceOf, type SplitTask } from '../src/fused/threads';
import { isMainThread } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { affineBackward, affineForward, threadedAffine } from '../src/fused/affine';
import { Rng } from '../src/random/rng';
import { compileGemm, gemmModuleSource } from '../scripts/build-wasm.mjs';
import { WasmThreadPool } from '@invae/common';
import { GEMM_WASM_BASE64 } from '../src/fused/gemm-binary';
import { KERNELS, type KernelName } from '../src/fused/threads';
import { relaxedSimd } from '../src/wasm/relaxed-simd';
import { cpuHasFma, fmaF32 } from './support/fma';

const here = path.dirname(fileURLToPath(import.meta.url));

function randomArray(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 2 * rng.uniform() - 1;
  return out;
}

/** x · Wᵀ + b, dx = dy · W, dW = dyᵀ · x, db = Σ dy in float64. */
function reference(x: Float32Array, w: Float32Array, b: Float32Array, dy: Float32Array, m: number, k: number, n: number) {
  const y = new Float64Array(m * n);
  const dx = new Float64Array(m * k);
  const dw = new Float64Array(n * k);
  const db = new Float64Array(n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = b[j]!;
      for (let p = 0; p < k; p++) s += x[i * k + p]! * w[j * k + p]!;
      y[i * n + j] = s;
      const d = dy[i * n + j]!;
      db[j] += d;
      for (let p = 0; p < k; p++) {
        dx[i * k + p] += d * w[j * k + p]!;
        dw[j * k + p] += d * x[i * k + p]!;
      }
    }
  return { y, dx, dw, db };
}

function maxRelErr(a: ArrayLike<number>, ref: Float64Array): number {
  let scale = 0;
  for (const v of ref) scale = Math.max(scale, Math.abs(v));
  let e = 0;
  for (let i = 0; i < ref.length; i++) e = Math.max(e, Math.abs(a[i]! - ref[i]!));
  return e / (scale || 1);
}

let pools: FusedThreads[] = [];

/** Pack B [k, n] (row-major at `b`) into panels, then C [m, n] = A [m, k] · B, split by panels of C's columns. */
function productTasksFor(a: number, b: number, packed: number, c: number, m: number, n: number, k: number): SplitTask[] {
  const units = Math.ceil(n / 8);
  return [
    { kernel: 'packPanels', args: [b, n, 1, k, n, packed, 0, 0], splitAt: 6, units },
    { kernel: 'gemm', args: [a, k, 1, packed, c, n, 0, n, k, 0, m, 0, 0], splitAt: 11, units },
  ];
}

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  pools = [new FusedThreads(1), new FusedThreads(2), new FusedThreads(3)];
});
afterAll(() => {
  for (const p of pools) p.close();
});

describe('fused gemm kernels', () => {
  it('the committed gemm-binary.ts is compiled from gemm.wat', async () => {
    const committed = readFileSync(path.join(here, '../src/fused/gemm-binary.ts'), 'utf8');
    const expected = gemmModuleSource(await compileGemm(), await compileGemm(undefined, { relaxed: true }));
    expect(committed, 'src/fused/gemm-binary.ts is stale: run `npm run -w @invae/core build:wasm`').toBe(expected);
  });

  it('uses INVAE_THREADS threads when set, else two cores on the main thread and one in a worker (a data-parallel replica)', () => {
    const saved = process.env.INVAE_THREADS;
    try {
      process.env.INVAE_THREADS = '3';
      expect(defaultThreadCount()).toBe(3);
      delete process.env.INVAE_THREADS;
      expect(defaultThreadCount()).toBe(isMainThread ? Math.min(2, availableParallelism()) : 1);
    } finally {
      if (saved === undefined) delete process.env.INVAE_THREADS;
      else process.env.INVAE_THREADS = saved;
    }
  });

  it('splits units into contiguous aligned slices covering everything once', () => {
    for (const [units, align, threads] of [[250, 1, 2], [2000, 4, 3], [7, 4, 4], [1, 1, 2]] as const) {
      let next = 0;
      for (let t = 0; t < threads; t++) {
        const [lo, hi] = sliceOf(units, align, threads, t);
        if (hi > lo) {
          expect(lo).toBe(next);
          if (hi < units) expect(hi % align).toBe(0);
          next = hi;
        }
      }
      expect(next).toBe(units);
    }
  });

  // shapes with leftover rows (m % 4) and a partial last panel (n % 8, k % 8)
  for (const [m, k, n] of [[37, 13, 21], [64, 128, 200], [5, 3, 9]] as const) {
    it(`affine forward and gradients equal a float64 reference (m ${m}, k ${k}, n ${n}), bit-identical on 1, 2 and 3 threads`, () => {
      const rng = new Rng(m * 1000 + n);
      const xs = randomArray(rng, m * k);
      const ws = randomArray(rng, n * k);
      const bs = randomArray(rng, n);
      const dys = randomArray(rng, m * n);
      const ref = reference(xs, ws, bs, dys, m, k, n);
      const results = pools.map((pool) =>
        tf.tidy(() => {
          const x = tf.tensor2d(xs, [m, k]);
          const w = tf.tensor2d(ws, [n, k]);
          const b = tf.tensor1d(bs);
          const dy = tf.tensor2d(dys, [m, n]);
          const y = affineForward(pool, x, w, b).dataSync().slice();
          const g = affineBackward(pool, dy, x, w, true);
          return { y, dx: g.dx!.dataSync().slice(), dw: g.dw.dataSync().slice(), db: g.db.dataSync().slice() };
        }),
      );
      const r = results[0]!;
      expect(maxRelErr(r.y, ref.y)).toBeLessThan(1e-6);
      expect(maxRelErr(r.dx, ref.dx)).toBeLessThan(1e-6);
      expect(maxRelErr(r.dw, ref.dw)).toBeLessThan(1e-6);
      expect(maxRelErr(r.db, ref.db)).toBeLessThan(1e-6);
      for (const other of results.slice(1)) {
        expect(Buffer.from(other.y.buffer).equals(Buffer.from(r.y.buffer))).toBe(true);
        expect(Buffer.from(other.dx.buffer).equals(Buffer.from(r.dx.buffer))).toBe(true);
        expect(Buffer.from(other.dw.buffer).equals(Buffer.from(r.dw.buffer))).toBe(true);
        expect(Buffer.from(other.db.buffer).equals(Buffer.from(r.db.buffer))).toBe(true);
      }
    });
  }

  // full panels (n % 8 = 0 part) take packPanels' copy paths, the last partial one its tested path
  for (const [k, n] of [[13, 21], [128, 200], [3, 8], [40, 5]] as const) {
    it(`packPanels lays out B [${k}, ${n}] (row-major and as a transpose) in panels of 8 columns, zeros beyond n, bits kept`, () => {
      const pool = pools[0]!;
      const rng = new Rng(k * 100 + n);
      const vals = randomArray(rng, k * n);
      vals[0] = NaN;
      vals[1 % vals.length] = -0;
      const panelsN = Math.ceil(n / 8);
      for (const transposed of [false, true]) {
        pool.reset();
        const src = pool.alloc(k * n);
        const dst = pool.alloc(panelsN * 8 * k);
        // B[p, j] = vals[p·n + j], stored as B itself (sp = n, sj = 1) or as Bᵀ [n, k] (sp = 1, sj = k)
        const stored = new Float32Array(k * n);
        for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) stored[transposed ? j * k + p : p * n + j] = vals[p * n + j]!;
        pool.write(src, stored);
        pool.view(dst, panelsN * 8 * k).fill(7);
        const [sp, sj] = transposed ? [1, k] : [n, 1];
        pool.call('packPanels', src, sp, sj, k, n, dst, 0, panelsN);
        const want = new Float32Array(panelsN * 8 * k);
        for (let jb = 0; jb < panelsN; jb++)
          for (let p = 0; p < k; p++)
            for (let c = 0; c < 8; c++) want[8 * k * jb + 8 * p + c] = 8 * jb + c < n ? vals[p * n + 8 * jb + c]! : 0;
        const got = pool.view(dst, want.length).slice();
        expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer)), transposed ? 'transposed' : 'row-major').toBe(true);
      }
    });
  }

  it('gemm computes every element as the in-order float32 sum of float32 products (+ bias), each product rounded (plain binary) or fused into the sum (relaxed), for row-major and transposed A', () => {
    const plain = new WasmThreadPool({ name: 'plain', bytes: Buffer.from(GEMM_WASM_BASE64, 'base64'), kernels: KERNELS, threads: 1 });
    const fused = relaxedSimd() && cpuHasFma() === true;
    const rounded = (a: number, b: number, s: number): number => Math.fround(s + Math.fround(a * b));
    const cases: [WasmThreadPool<KernelName>, (a: number, b: number, s: number) => number][] = [[plain, rounded]];
    if (fused) cases.push([pools[0]!, fmaF32]);
    for (const [pool, madd] of cases) {
      for (const [m, k, n] of [[11, 9, 19], [6, 4, 8], [13, 37, 10]] as const) {
        const rng = new Rng(m * 7 + k * 3 + n);
        const av = randomArray(rng, m * k);
        const bv = randomArray(rng, k * n);
        const bias = randomArray(rng, n);
        const f = Math.fround;
        const want = new Float32Array(m * n);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p < k; p++) s = madd(av[i * k + p]!, bv[p * n + j]!, s);
            want[i * n + j] = f(s + bias[j]!);
          }
        const panelsN = Math.ceil(n / 8);
        for (const transposed of [false, true]) {
          pool.reset();
          const a = pool.alloc(m * k);
          const b = pool.alloc(k * n);
          const bb = pool.alloc(panelsN * 8);
          const packed = pool.alloc(panelsN * 8 * k);
          const c = pool.alloc(m * n);
          const aStored = new Float32Array(m * k);
          for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) aStored[transposed ? p * m + i : i * k + p] = av[i * k + p]!;
          pool.write(a, aStored);
          pool.write(b, bv);
          pool.write(bb, bias);
          pool.call('packPanels', b, n, 1, k, n, packed, 0, panelsN);
          const [si, sp] = transposed ? [1, m] : [k, 1];
          pool.call('gemm', a, si, sp, packed, c, n, bb, n, k, 0, m, 0, panelsN);
          const got = pool.view(c, m * n).slice();
          expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer)), `m ${m} k ${k} n ${n}${transposed ? ' transposed' : ''}`).toBe(true);
        }
      }
    }
    plain.close();
  });

  it('start runs tasks on the worker threads only while the caller goes on; finish (or the next run) waits; the bits are those of run', () => {
    const [m, k, n] = [70, 40, 90];
    const rng = new Rng(11);
    const av = randomArray(rng, m * k);
    const bv = randomArray(rng, k * n);
    const panelsN = Math.ceil(n / 8);
    const outputs = pools.map((pool) => {
      pool.reset();
      const a = pool.alloc(m * k);
      const b = pool.alloc(k * n);
      const packed = pool.alloc(panelsN * 8 * k);
      const [c1, c2, c3] = [pool.alloc(m * n), pool.alloc(m * n), pool.alloc(m * n)];
      pool.write(a, av);
      pool.write(b, bv);
      const tasks = (c: number) => productTasksFor(a, b, packed, c, m, n, k);
      pool.run(tasks(c1));
      pool.start(tasks(c2));
      expect(pool.busy).toBe(pool.threads > 1);
      pool.finish();
      expect(pool.busy).toBe(false);
      pool.finish(); // nothing under way: returns
      pool.start(tasks(c3));
      // the next run waits for the started one first (their memory overlaps only in the inputs)
      pool.run([{ kernel: 'colSums', args: [a, k, m, pool.alloc(k), 0, 0], splitAt: 4, units: k, align: 4 }]);
      expect(pool.busy).toBe(false);
      return [c1, c2, c3].map((c) => pool.view(c, m * n).slice());
    });
    const ref = outputs[0]![0]!;
    for (const o of outputs) for (const c of o) expect(Buffer.from(c.buffer).equals(Buffer.from(ref.buffer))).toBe(true);
  });

  it('threadedAffine is a taped op: its gradients equal those of the tensor-op formulation', () => {
    const rng = new Rng(7);
    const [m, k, n] = [33, 24, 50];
    const x = tf.tensor2d(randomArray(rng, m * k), [m, k]);
    const w = tf.tensor2d(randomArray(rng, n * k), [n, k]);
    const b = tf.tensor1d(randomArray(rng, n));
    const up = tf.tensor2d(randomArray(rng, m * n), [m, n]);
    const loss = (f: (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D) =>
      tf.grads((xv: tf.Tensor, wv: tf.Tensor, bv: tf.Tensor) => tf.sum(tf.mul(f(xv as tf.Tensor2D, wv as tf.Tensor2D, bv as tf.Tensor1D), up)));
    const fused = loss((xv, wv, bv) => threadedAffine(xv, wv, bv, { pool: pools[1] }))([x, w, b]);
    const plain = loss((xv, wv, bv) => tf.add(tf.matMul(xv, wv, false, true), bv) as tf.Tensor2D)([x, w, b]);
    for (let i = 0; i < 3; i++) {
      const a = fused[i]!.dataSync();
      const e = plain[i]!.dataSync();
      expect(maxRelErr(a, Float64Array.from(e))).toBeLessThan(1e-5);
    }
    const data = tf.grads((wv: tf.Tensor, bv: tf.Tensor) => tf.sum(tf.mul(threadedAffine(x, wv as tf.Tensor2D, bv as tf.Tensor1D, { inputGrad: false, pool: pools[0] }), up)))([w, b]);
    expect(maxRelErr(data[0]!.dataSync(), Float64Array.from(plain[1]!.dataSync()))).toBeLessThan(1e-5);
    tf.dispose([x, w, b, up, ...fused, ...plain, ...data]);
  });
});
