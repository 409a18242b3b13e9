import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../src/index';
import { simdKernels, setSimdKernelsEnabled } from '../src/wasm/kernels';
import { sparseAffineApplies, density } from '../src/nn/sparse-affine';
import { affineProduct } from '../src/nn/linear-product';
import { fastPaths } from '../src/nn/fast-paths';
import { logNbPositive } from '../src/likelihoods/negative-binomial';
import { Adam } from '../src/optim/adam';
import { log1pInput } from '../src/nn/log1p-input';
import { disposeBatch, minibatchFromRows } from '../src/data/gather';
import { Rng } from '../src/random/rng';
import { binaryModuleSource, compileKernels } from '../scripts/build-wasm.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Byte offset of a float32 tensor in the wasm engine's memory. */
function offsetOf(t: tf.Tensor): number {
  return (tf.backend() as unknown as { dataIdMap: { get(id: object): { memoryOffset: number } } }).dataIdMap.get(t.dataId).memoryOffset;
}

function heapF32(t: tf.Tensor): Float32Array {
  const k = simdKernels()!;
  return new Float32Array(k.memory.buffer, offsetOf(t), t.size);
}

/** Runs `fn` in an engine scope (tensors created inside are freed) and returns its plain result. */
function scoped<T>(fn: () => T): T {
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}

function randomMatrix(rng: Rng, rows: number, cols: number, dens: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) if (rng.uniform() < dens) out[i] = 0.25 + 3 * rng.uniform();
  return out;
}

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});
afterEach(() => setSimdKernelsEnabled(true));
afterAll(async () => {
  setSimdKernelsEnabled(true);
  await tf.setBackend('wasm');
});

describe('WebAssembly SIMD kernels', () => {
  it('the committed binaries are the compiled kernels.wat, plain and relaxed', async () => {
    const committed = readFileSync(path.join(here, '../src/wasm/kernels-binary.ts'), 'utf8');
    const expected = binaryModuleSource(await compileKernels(), await compileKernels({ relaxed: true }));
    expect(committed, 'src/wasm/kernels-binary.ts is stale: run `npm run -w @invae/core build:wasm`').toBe(expected);
  });

  it('run on the wasm engine and nowhere else', async () => {
    expect(simdKernels()).not.toBeNull();
    setSimdKernelsEnabled(false);
    expect(simdKernels()).toBeNull();
    setSimdKernelsEnabled(true);
    await tf.setBackend('cpu');
    try {
      expect(simdKernels()).toBeNull();
      const x = tf.tensor2d([[0, 1], [2, 0]]);
      expect(density(x)).toBeNull();
      expect(sparseAffineApplies(x)).toBe(false);
      x.dispose();
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('vector logarithm: within 2 ulp of ln over the float32 range, exact at 0, ∞, negatives and NaN', () => {
    const values: number[] = [];
    for (let e = -149; e <= 127; e += 0.37) values.push(2 ** e);
    values.push(1, 2, 0.5, Math.SQRT1_2, Math.SQRT2, 1 + 2 ** -23, 1 - 2 ** -24, 3.4e38, 1.4e-45, 0, -0, -1, Infinity, -Infinity, NaN);
    const src = tf.tensor1d(values);
    const dst = tf.zeros([values.length]);
    const k = simdKernels()!;
    k.logF32(offsetOf(src), offsetOf(dst), values.length); // length not a multiple of 4: the last group overlaps
    const got = heapF32(dst);
    const f32 = Float32Array.from(values);
    for (let i = 0; i < values.length; i++) {
      const v = f32[i]!;
      const want = Math.log(v);
      if (!Number.isFinite(want) || Number.isNaN(want)) {
        expect(Object.is(got[i], Math.fround(want)) || (Number.isNaN(want) && Number.isNaN(got[i]!)), `ln(${v}) = ${got[i]}`).toBe(true);
        continue;
      }
      const ulp = Math.max(Math.abs(want), 1e-30) * 2 ** -23;
      expect(Math.abs(got[i]! - want), `ln(${v}): ${got[i]} vs ${want}`).toBeLessThanOrEqual(2 * ulp + 1e-45);
    }
    tf.dispose([src, dst]);
  });

  it('NB log-likelihood: the SIMD pass equals the JavaScript kernels in value and gradients (widths 4, 5, 7, 37, 200)', () => {
    const rng = new Rng(3);
    for (const g of [4, 5, 7, 37, 200]) {
      const b = 6;
      const x = new Float32Array(b * g);
      const mu = new Float32Array(b * g);
      const th = new Float32Array(g);
      for (let j = 0; j < g; j++) th[j] = Math.exp(-3 + 8 * rng.uniform());
      for (let i = 0; i < b * g; i++) {
        const u = rng.uniform();
        x[i] = u < 0.5 ? 0 : u < 0.9 ? Math.floor(1 + 12 * rng.uniform()) : u < 0.97 ? Math.floor(20 + 500 * rng.uniform()) : 0.5 + 5 * rng.uniform();
        mu[i] = u < 0.02 ? 0 : Math.exp(-18 + 24 * rng.uniform());
      }
      const run = (simd: boolean) => {
        setSimdKernelsEnabled(simd);
        return scoped(() => {
          const xt = tf.tensor2d(x, [b, g]);
          const w = tf.tensor1d(Array.from({ length: b }, (_, i) => 1 + i));
          const f = (m: tf.Tensor, t: tf.Tensor) => tf.sum(tf.mul(logNbPositive(xt, m, t), w));
          const value = logNbPositive(xt, tf.tensor2d(mu, [b, g]), tf.tensor1d(th)).dataSync();
          const [dm, dt] = tf.grads(f)([tf.tensor2d(mu, [b, g]), tf.tensor1d(th)]);
          return { value: Float64Array.from(value), dm: Float64Array.from(dm!.dataSync()), dt: Float64Array.from(dt!.dataSync()) };
        });
      };
      const s = run(true);
      const j = run(false);
      for (let r = 0; r < b; r++) expect(Math.abs(s.value[r]! - j.value[r]!), `g ${g} row ${r}: ${s.value[r]} vs ${j.value[r]}`).toBeLessThan(2e-6 * Math.abs(j.value[r]!) + 1e-3);
      for (let i = 0; i < b * g; i++) expect(Math.abs(s.dm[i]! - j.dm[i]!), `g ${g} dmu[${i}]`).toBeLessThan(1e-5 * Math.abs(j.dm[i]!) + 1e-6);
      for (let i = 0; i < g; i++) expect(Math.abs(s.dt[i]! - j.dt[i]!), `g ${g} dtheta[${i}]: ${s.dt[i]} vs ${j.dt[i]}`).toBeLessThan(1e-4 * Math.abs(j.dt[i]!) + 1e-3);
    }
  });

  it('sparse affine layer: value, dW and db equal the dense product (widths with and without tails, empty rows)', () => {
    const rng = new Rng(5);
    for (const [rows, inDim, n, dens] of [
      [9, 13, 37, 0.3],
      [16, 64, 128, 0.1],
      [5, 4, 3, 0.6],
      [7, 50, 32, 0.05],
    ] as const) {
      const xv = randomMatrix(rng, rows, inDim, dens);
      xv.fill(0, 0, inDim); // an all-zero row
      const wv = Float32Array.from({ length: n * inDim }, () => rng.uniform() - 0.5);
      const bv = Float32Array.from({ length: n }, () => rng.uniform() - 0.5);
      const dy = Float32Array.from({ length: rows * n }, () => rng.uniform() - 0.5);
      const run = (sparse: boolean) => {
        const prev = fastPaths.sparseInput;
        fastPaths.sparseInput = sparse;
        try {
          return scoped(() => {
            const x = tf.tensor2d(xv, [rows, inDim]);
            if (sparse) expect(sparseAffineApplies(x)).toBe(true);
            const w = tf.tensor2d(wv, [n, inDim]);
            const b = tf.tensor1d(bv);
            const up = tf.tensor2d(dy, [rows, n]);
            const f = (wt: tf.Tensor, bt: tf.Tensor) => tf.sum(tf.mul(affineProduct(x, wt as tf.Tensor2D, bt as tf.Tensor1D, { inputGrad: false }), up));
            const y = affineProduct(x, w, b, { inputGrad: false }).dataSync();
            const [dW, db] = tf.grads(f)([w, b]);
            return [Float64Array.from(y), Float64Array.from(dW!.dataSync()), Float64Array.from(db!.dataSync())];
          });
        } finally {
          fastPaths.sparseInput = prev;
        }
      };
      const s = run(true);
      const d = run(false);
      s.forEach((arr, k) => {
        for (let i = 0; i < arr.length; i++) expect(Math.abs(arr[i]! - d[k]![i]!), `${['y', 'dW', 'db'][k]}[${i}] (${rows}×${inDim}→${n})`).toBeLessThan(1e-5 * (1 + Math.abs(d[k]![i]!)));
      });
    }
  });

  it('is chosen by density: sparse inputs take the sparse products, dense ones the engine product', () => {
    const dense = tf.ones([8, 16]) as tf.Tensor2D;
    const sparse = tf.tensor2d(randomMatrix(new Rng(1), 8, 16, 0.1), [8, 16]);
    expect(density(dense)).toBe(1);
    expect(sparseAffineApplies(dense)).toBe(false);
    expect(sparseAffineApplies(sparse)).toBe(true);
    tf.dispose([dense, sparse]);
  });

  it('log1p input: within 2 ulp of log1p (tiny fractions and large counts too) and the same Σx as the JavaScript pass', () => {
    const rng = new Rng(11);
    const [b, g, c] = [5, 23, 3];
    const xs = randomMatrix(rng, b, g, 0.5).map((v, i) => (i % 7 === 0 && v > 0 ? 10 ** (-7 + 5 * rng.uniform()) : i % 11 === 0 && v > 0 ? Math.round(v * 3000) : v));
    const x = tf.tensor2d(xs, [b, g]);
    const u = tf.tensor2d(Float32Array.from({ length: b * c }, (_, i) => i % 2), [b, c]);
    const s = log1pInput(x, u);
    setSimdKernelsEnabled(false);
    const j = log1pInput(x, u);
    setSimdKernelsEnabled(true);
    const [si, ji, sl, jl] = [s.input.dataSync(), j.input.dataSync(), s.library.dataSync(), j.library.dataSync()];
    for (let i = 0; i < si.length; i++) expect(Math.abs(si[i]! - ji[i]!), `input[${i}]: ${si[i]} vs ${ji[i]}`).toBeLessThanOrEqual(2.5e-7 * Math.abs(ji[i]!));
    expect(Array.from(sl)).toEqual(Array.from(jl));
    tf.dispose([x, u, s.input, s.library, j.input, j.library]);
  });

  it('log1p input over a minibatch\'s non-zeros: groups of four integer counts below 4096 come from the table, with the bits of the scan', () => {
    // a row's non-zeros go four at a time, then one by one (with the formula): row 0 two groups of table
    // counts; row 1 a group with 4096 (beyond the table), then a tail of three; row 2 groups with a
    // fraction, with a tiny value, then one of table counts (4095: its last entry), and a large count
    const g = 16;
    const rows = [
      [1, 2, 3, 4, 0, 0, 7, 0, 0, 9, 10, 11, 0, 0, 0, 0],
      [4095, 4096, 12, 13, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 5, 0],
      [2.5, 1, 1, 1, 1e-7, 3, 3, 3, 4095, 6, 6, 6, 70000, 0, 0, 0],
    ];
    const b = rows.length;
    const xs = Float32Array.from(rows.flat());
    const batch = minibatchFromRows(Int32Array.from({ length: b }, (_, i) => i), { values: xs, nCols: g }, null, null);
    const viaCsr = log1pInput(batch.x, null);
    const x = tf.tensor2d(xs, [b, g]);
    const scanned = log1pInput(x, null);
    expect(Array.from(viaCsr.input.dataSync())).toEqual(Array.from(scanned.input.dataSync()));
    expect(Array.from(viaCsr.library.dataSync())).toEqual(Array.from(scanned.library.dataSync()));
    // the kernel with a marked table (entry k = 1000 + k): exactly the all-table groups read it
    scoped(() => {
      const k = simdKernels()!;
      const table = tf.range(1000, 1000 + 4096, 1, 'float32');
      const out = tf.zeros([b, g]);
      const lib = tf.zeros([b]);
      k.log1pInput(offsetOf(batch.x), 0, offsetOf(out), offsetOf(lib), b, g, 0, offsetOf(batch.nonZeros!.packed), offsetOf(table));
      const got = heapF32(out);
      const ref = scanned.input.dataSync();
      const fromTable: number[][] = [[0, 1, 2, 3, 6, 9, 10, 11], [], [40, 41, 42, 43]];
      for (let r = 0; r < b; r++) {
        for (let j = 0; j < g; j++) {
          const i = r * g + j;
          const expected = fromTable[r]!.includes(i) ? 1000 + xs[i]! : ref[i]!;
          expect(got[i], `row ${r}, gene ${j}`).toBe(expected);
        }
      }
    });
    disposeBatch(batch);
    tf.dispose([viaCsr.input, viaCsr.library, scanned.input, scanned.library, x]);
  });

  it('Adam: the float32 SIMD update equals the double-precision JavaScript one to float32 resolution', () => {
    const rng = new Rng(9);
    for (const size of [7, 1003]) {
      const init = Float32Array.from({ length: size }, () => rng.uniform() - 0.5);
      const grads = [0, 1, 2].map(() => Float32Array.from({ length: size }, () => 2 * rng.uniform() - 1));
      const run = (simd: boolean) => {
        setSimdKernelsEnabled(simd);
        const v = tf.variable(tf.tensor1d(init));
        const opt = new Adam([v], { learningRate: 0.01, weightDecay: 0.1 });
        for (const g of grads) tf.tidy(() => opt.applyGradients([tf.tensor1d(g)]));
        const out = Float64Array.from(v.dataSync());
        opt.dispose();
        v.dispose();
        return out;
      };
      const s = run(true);
      const j = run(false);
      for (let i = 0; i < size; i++) expect(Math.abs(s[i]! - j[i]!), `size ${size} [${i}]`).toBeLessThan(1e-6 * (1 + Math.abs(j[i]!)));
    }
  });
});
