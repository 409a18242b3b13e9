import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FusedThreads } from '../src/fused/threads';
import { CHUNK_ROWS, LOG_FACTORIAL_SMALL, STRIDE, lgammaRatioTable } from '../src/likelihoods/nb-fused';
import { digammaDiff, lgammaRatio, logFactorial, logFactorials } from '../src/likelihoods/special-f64';

// gemm.wat's f64 special functions (lnΓ ratios, ψ differences, ln x!) with the host's Math.log
// against likelihoods/special-f64.ts: the same operations in the same order give the same bits.

let pool: FusedThreads;
beforeAll(() => {
  pool = new FusedThreads(2);
});
afterAll(() => pool.close());

/** Counts that take every branch: 0, table and small integers, the 1e250 rescaling, large integers (table and lnΓ), non-integers. */
const X = [0, 1, 2, 7, 16, 17, 40, 64, 65, 300, 4095, 4096, 1e5, 0.5, 3.25, 63.5, 1e-3, 2.5e4 + 0.5];
/** Dispersions: tiny, below and above the recurrence's 10, large (rescaling with x = 64), and invalid (≤ 0: NaN). */
const THETA = [1e-4, 0.3, 1, 9.99, 10, 57.1, 1e6, 0, -1];

function sameBits(a: number, b: number): boolean {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
}

describe('gemm.wat special functions', () => {
  it('the NB exception kernels give special-f64\'s values bit for bit, every branch', () => {
    // row r holds one count, X[r / g] at gene r % g (θ = THETA[r % g]), listed as its row's only exception
    const g = THETA.length;
    const b = X.length * g;
    const chunks = Math.ceil(b / CHUNK_ROWS);
    pool.reset();
    const [x, theta, rows, exc, counts, lf, dy, out] = [pool.alloc(b * g), pool.alloc(g), pool.alloc(2 * b), pool.alloc(b * g), pool.alloc(chunks), pool.alloc(2 * 4096), pool.alloc(b), pool.alloc(2 * b * g)];
    const xs = new Float32Array(b * g).fill(1);
    const ths = Float32Array.from(THETA);
    const dys = Float32Array.from({ length: b }, (_, r) => 0.5 + r / 7);
    const excs = new Int32Array(b * g);
    const cnts = new Int32Array(chunks);
    for (let r = 0; r < b; r++) {
      const e = r * g + (r % g);
      xs[e] = X[Math.floor(r / g)]!;
      const c = Math.floor(r / CHUNK_ROWS);
      const base = c * CHUNK_ROWS * g;
      excs[base + cnts[c]!++] = e - base;
    }
    pool.write(x, xs);
    pool.write(theta, ths);
    pool.write(dy, dys);
    new Int32Array(pool.memory.buffer, exc, b * g).set(excs);
    new Int32Array(pool.memory.buffer, counts, chunks).set(cnts);
    new Float64Array(pool.memory.buffer, lf, 4096).set(logFactorials());
    const start = Float64Array.from({ length: b }, (_, r) => r * 0.125 - 1);
    new Float64Array(pool.memory.buffer, rows, b).set(start);
    pool.run([
      { kernel: 'nbForwardExceptions', args: [x, theta, rows, exc, counts, lf, g, CHUNK_ROWS, 0, 0], splitAt: 8, units: chunks },
      { kernel: 'nbBackwardExceptions', args: [x, theta, dy, exc, counts, out, g, CHUNK_ROWS, 0, 0], splitAt: 8, units: chunks },
    ]);
    const got = new Float64Array(pool.memory.buffer, rows, b);
    const terms = new Float64Array(pool.memory.buffer, out, b * g);
    let finite = 0;
    for (let r = 0; r < b; r++) {
      const [xv, th] = [X[Math.floor(r / g)]!, ths[r % g]!];
      const want = start[r]! + (lgammaRatio(Math.fround(xv), th) - logFactorial(Math.fround(xv)));
      expect(sameBits(got[r]!, want), `forward term x ${xv} θ ${th}: ${got[r]} vs ${want}`).toBe(true);
      const k = Math.floor(r / CHUNK_ROWS) * CHUNK_ROWS * g + (r % CHUNK_ROWS);
      const dTheta = dys[r]! * digammaDiff(Math.fround(xv), th);
      expect(sameBits(terms[k]!, dTheta), `dθ term x ${xv} θ ${th}: ${terms[k]} vs ${dTheta}`).toBe(true);
      if (Number.isFinite(want) && Number.isFinite(dTheta)) finite++;
    }
    // NaN only where θ ≤ 0 (two of the dispersions)
    expect(finite).toBe(X.length * (g - 2));
  });

  it('softmaxLibRows: each row\'s softmax (within 2e-6 relative of float64) times its library size; logits far below the maximum give 0; a NaN or +∞ logit makes its row NaN', () => {
    const g = 37;
    const rows: number[][] = [
      Array.from({ length: g }, (_, j) => Math.sin(j) * 3),
      Array.from({ length: g }, (_, j) => (j === 5 ? 60 : j === 6 ? -60 : j === 7 ? -0 : j % 3)),
      Array.from({ length: g }, (_, j) => (j === 0 ? 1e30 : -1e30 + j)),
      Array.from({ length: g }, (_, j) => (j === 9 ? NaN : j)),
      Array.from({ length: g }, (_, j) => (j === 30 ? Infinity : j)),
    ];
    const b = rows.length;
    const libs = [10, 0.5, 3, 7, 2];
    pool.reset();
    const [l, lib, f, mu] = [pool.alloc(b * g), pool.alloc(b), pool.alloc(b * g), pool.alloc(b * g)];
    pool.write(l, Float32Array.from(rows.flat()));
    pool.write(lib, Float32Array.from(libs));
    pool.run([{ kernel: 'softmaxLibRows', args: [l, lib, f, mu, g, 0, 0], splitAt: 5, units: b }]);
    const freq = new Float32Array(pool.memory.buffer, f, b * g);
    const mean = new Float32Array(pool.memory.buffer, mu, b * g);
    for (let r = 0; r < 3; r++) {
      const v = rows[r]!.map((x) => Math.fround(x));
      const m = Math.max(...v);
      const e = v.map((x) => Math.exp(x - m));
      const sum = e.reduce((a, c) => a + c, 0);
      for (let j = 0; j < g; j++) {
        const want = e[j]! / sum;
        expect(Math.abs(freq[r * g + j]! - want), `row ${r}, gene ${j}: ${freq[r * g + j]} vs ${want}`).toBeLessThanOrEqual(2e-6 * want + 1e-37);
        expect(mean[r * g + j]).toBe(Math.fround(freq[r * g + j]! * libs[r]!));
      }
    }
    for (const r of [3, 4]) for (let j = 0; j < g; j++) expect(freq[r * g + j], `row ${r}, gene ${j}`).toBeNaN();
  });

  it('lgammaRatioTable (the per-gene count table) gives nb-fused\'s table bit for bit, split among threads', () => {
    const ths = Float32Array.from([...THETA, 2.5, 1e-7, 123.456]);
    const g = ths.length;
    pool.reset();
    const [theta, table, minus] = [pool.alloc(g), pool.alloc(2 * STRIDE * g), pool.alloc(2 * STRIDE)];
    pool.write(theta, ths);
    new Float64Array(pool.memory.buffer, minus, STRIDE).set(LOG_FACTORIAL_SMALL);
    pool.run([{ kernel: 'lgammaRatioTable', args: [theta, table, minus, 0, 0], splitAt: 3, units: g }]);
    const want = lgammaRatioTable(ths, g, new Float64Array(g * STRIDE), LOG_FACTORIAL_SMALL);
    const got = new Float64Array(pool.memory.buffer, table, g * STRIDE);
    for (let i = 0; i < g * STRIDE; i++) expect(sameBits(got[i]!, want[i]!), `gene ${Math.floor(i / STRIDE)}, count ${i % STRIDE}`).toBe(true);
  });
});
