import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { symmetricRounds, wasmNeighborCandidates } from '../src/neighbors/knn-wasm';
// @ts-expect-error: build script (JavaScript, no types)
import { compileKnn, knnModuleSource } from '../scripts/build-wasm.mjs';

/** Deterministic pseudo-random numbers. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Float32 brute force: the h smallest (float32 expansion distance, index) pairs of each cell, exact by float64 as the judge. */
function bruteForce(x: Float32Array, n: number, d: number, h: number): Int32Array {
  const out = new Int32Array(n * h);
  for (let i = 0; i < n; i++) {
    const ds: [number, number][] = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let s = 0;
      for (let c = 0; c < d; c++) s += (x[i * d + c]! - x[j * d + c]!) ** 2;
      ds.push([s, j]);
    }
    ds.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let t = 0; t < h; t++) out[i * h + t] = ds[t]![1];
  }
  return out;
}

function blobs(n: number, d: number, seed: number): Float32Array {
  const r = lcg(seed);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const centre = Math.floor(r() * 5);
    for (let c = 0; c < d; c++) x[i * d + c] = 4 * ((centre * 7 + c * 3) % 5) + (r() + r() + r() - 1.5);
  }
  return x;
}

describe('wasmNeighborCandidates (knn.wat on the WasmThreadPool)', () => {
  it('the committed knn-binary.ts is the compiled knn.wat', async () => {
    const src = knnModuleSource(await compileKnn());
    expect(readFileSync(new URL('../src/neighbors/knn-binary.ts', import.meta.url), 'utf8')).toBe(src);
  });

  it('finds the exact nearest neighbours (brute force) on clustered data, with pruning, 1 and 2 threads identical', () => {
    const n = 1500;
    const d = 7;
    const h = 12;
    const x = blobs(n, d, 3);
    const ref = bruteForce(x, n, d, h);
    const one = wasmNeighborCandidates({ data: x, nRows: n, nCols: d }, h, { threads: 1, blockPanels: 4 });
    const two = wasmNeighborCandidates({ data: x, nRows: n, nCols: d }, h, { threads: 2, blockPanels: 4 });
    expect(Array.from(two)).toEqual(Array.from(one));
    // The same sets as the brute force (the order within may differ by float32 rounding of near-ties).
    let mismatches = 0;
    for (let i = 0; i < n; i++) {
      const a = new Set(one.subarray(i * h, i * h + h - 2));
      for (const j of ref.subarray(i * h, i * h + h - 2)) if (!one.subarray(i * h, i * h + h).includes(j)) mismatches++;
      expect(a.has(i)).toBe(false);
    }
    expect(mismatches).toBe(0);
  });

  it('breaks ties by index on tie-heavy (integer grid) data and handles h = n − 1 and n not a multiple of 8', () => {
    const n = 203;
    const d = 3;
    const r = lcg(11);
    const x = new Float32Array(n * d);
    for (let i = 0; i < n * d; i++) x[i] = Math.floor(r() * 3);
    for (const h of [5, 40, n - 1]) {
      const ref = bruteForce(x, n, d, h);
      const got = wasmNeighborCandidates({ data: x, nRows: n, nCols: d }, h, { threads: 2, blockPanels: 1 });
      // Integer squared distances: the float32 kernel cannot swap distinct ones, so each cell's candidates
      // must have exactly the brute force's distances (which of the tied cells is kept is resolved by the
      // float64 re-ranking of exactNeighbors, tested in neighbors.test.ts).
      const dist = (i: number, j: number) => (x[i * d]! - x[j * d]!) ** 2 + (x[i * d + 1]! - x[j * d + 1]!) ** 2 + (x[i * d + 2]! - x[j * d + 2]!) ** 2;
      for (let i = 0; i < n; i++) {
        const a = Array.from(got.subarray(i * h, i * h + h), (j) => dist(i, j)).sort((u, v) => u - v);
        const b = Array.from(ref.subarray(i * h, i * h + h), (j) => dist(i, j)).sort((u, v) => u - v);
        expect(a).toEqual(b);
        expect(new Set(got.subarray(i * h, i * h + h)).size).toBe(h);
      }
    }
  });
});

describe('the symmetric search (each pair once, for both cells)', () => {
  it('rounds pair every two blocks exactly once, no block twice in a round', () => {
    for (const nb of [1, 2, 5, 8, 13]) {
      const rounds = symmetricRounds(nb);
      const seen = new Set<string>();
      for (const pairs of rounds) {
        const inRound = new Set<number>();
        for (let t = 0; t < pairs.length; t += 2) {
          const [a, b] = [pairs[t]!, pairs[t + 1]!];
          expect(a).toBeLessThanOrEqual(b);
          expect(inRound.has(a) || (a !== b && inRound.has(b))).toBe(false);
          inRound.add(a).add(b);
          expect(seen.has(`${a},${b}`)).toBe(false);
          seen.add(`${a},${b}`);
        }
      }
      expect(seen.size).toBe((nb * (nb + 1)) / 2);
    }
  });

  it('finds the brute-force neighbours (clustered data, many dimensions, n not a multiple of 8), 1 and 3 threads identical', () => {
    for (const [n, d, h, bp] of [[1500, 7, 12, 4], [611, 40, 30, 2], [203, 3, 202, 1]] as const) {
      const x = blobs(n, d, n);
      const ref = bruteForce(x, n, d, h);
      const one = wasmNeighborCandidates({ data: x, nRows: n, nCols: d }, h, { threads: 1, blockPanels: bp, symmetric: true });
      const three = wasmNeighborCandidates({ data: x, nRows: n, nCols: d }, h, { threads: 3, blockPanels: bp, symmetric: true });
      expect(Array.from(three)).toEqual(Array.from(one));
      // The same sets as the brute force, but for float32 near-ties at the last two places.
      let mismatches = 0;
      for (let i = 0; i < n; i++) {
        const row = one.subarray(i * h, i * h + h);
        expect(row.includes(i)).toBe(false);
        expect(new Set(row).size).toBe(h);
        for (const j of ref.subarray(i * h, i * h + Math.max(1, h - 2))) if (!row.includes(j)) mismatches++;
      }
      expect(mismatches).toBe(0);
    }
  });

  it('gives exactNeighbors the same neighbours as the pruned search', async () => {
    const { exactNeighbors } = await import('../src/neighbors/neighbors');
    const n = 2100;
    const x = { data: blobs(n, 12, 21), nRows: n, nCols: 12 };
    const pruned = exactNeighbors(x, 15);
    const sym = exactNeighbors(x, 15, { symmetric: true });
    expect(Array.from(sym.indices)).toEqual(Array.from(pruned.indices));
    expect(Array.from(sym.distances)).toEqual(Array.from(pruned.distances));
  });
});

describe('INVAE_BENCH_SEARCH=engine', () => {
  it('switches exactNeighbors and neighborsAndSilhouette to the engine path (same neighbours)', async () => {
    const { exactNeighbors, neighborsAndSilhouette } = await import('../src/neighbors/neighbors');
    const { initEngine } = await import('@invae/core');
    await initEngine({ backend: 'wasm', report: null });
    const { wasmSearchStats } = await import('../src/neighbors/knn-wasm');
    const n = 300;
    const x = { data: blobs(n, 4, 9), nRows: n, nCols: 4 };
    const viaWasm = exactNeighbors(x, 8);
    const before = wasmSearchStats();
    process.env.INVAE_BENCH_SEARCH = 'engine';
    try {
      const viaEngine = exactNeighbors(x, 8);
      expect(Array.from(viaEngine.indices)).toEqual(Array.from(viaWasm.indices));
      // Another size: had the kernel run, its block count would have changed.
      const m = 1000;
      const y = { data: blobs(m, 4, 10), nRows: m, nCols: 4 };
      exactNeighbors(y, 8);
      const codes = Int32Array.from({ length: m }, (_, i) => i % 3);
      expect(neighborsAndSilhouette(y, 8, codes, 3).sampling).toEqual({ mode: 'exact' });
      expect(wasmSearchStats()).toEqual(before); // the kernel did not run
      delete process.env.INVAE_BENCH_SEARCH;
      exactNeighbors(y, 8);
      expect(wasmSearchStats().blocks).not.toBe(before.blocks);
    } finally {
      delete process.env.INVAE_BENCH_SEARCH;
    }
  });
});
