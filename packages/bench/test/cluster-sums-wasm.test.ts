import { describe, expect, it } from 'vitest';
import { wasmClusterSums } from '../src/neighbors/cluster-sums-wasm';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('wasmClusterSums', () => {
  it('equals float64 brute-force sums (Euclidean and cosine, self excluded, subsets of rows and columns), 1 = 2 threads', () => {
    const n = 301, d = 9, L = 4;
    const r = lcg(5);
    const x = new Float32Array(n * d);
    for (let i = 0; i < n * d; i++) x[i] = (r() - 0.5) * 4 + (i % d === 0 ? 3 : 0);
    for (let c = 0; c < d; c++) x[7 * d + c] = 0; // a zero vector (cosine distance 1 to all)
    const cols = Int32Array.from({ length: 250 }, (_, t) => t + 20);
    const codes = Int32Array.from(cols, (i) => (i * 7) % L);
    const rows = Int32Array.from([0, 7, 20, 21, 100, 269, 270, 300, 55]);
    for (const metric of ['euclidean', 'cosine'] as const) {
      const got = wasmClusterSums({ data: x, nRows: n, nCols: d }, cols, codes, L, rows, metric, 1);
      const two = wasmClusterSums({ data: x, nRows: n, nCols: d }, cols, codes, L, rows, metric, 2);
      expect(Array.from(two)).toEqual(Array.from(got));
      rows.forEach((i, t) => {
        const ref = new Float64Array(L);
        cols.forEach((j, u) => {
          if (j === i) return;
          let s = 0, ni = 0, nj = 0;
          for (let c = 0; c < d; c++) {
            s += (x[i * d + c]! - x[j * d + c]!) ** 2;
            ni += x[i * d + c]! ** 2;
            nj += x[j * d + c]! ** 2;
          }
          let dist = Math.sqrt(s);
          if (metric === 'cosine') {
            let dot = 0;
            for (let c = 0; c < d; c++) dot += x[i * d + c]! * x[j * d + c]!;
            dist = ni > 0 && nj > 0 ? Math.min(2, Math.max(0, 1 - dot / Math.sqrt(ni * nj))) : 1;
          }
          ref[codes[u]!] += dist;
        });
        for (let l = 0; l < L; l++) expect(got[t * L + l]).toBeCloseTo(ref[l]!, 2);
      });
    }
  });
});
