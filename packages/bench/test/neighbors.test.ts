import { beforeAll, describe, expect, it } from 'vitest';
import { BenchInputError, exactNeighbors, matrixFromRows, neighborsAndSilhouette, silhouetteSamples, subsetNeighbors } from '../src/index';
import { blobs, engine, judge, judged, rowsOf } from './helpers';

beforeAll(engine);

describe('exactNeighbors', () => {
  judged.it('matches sklearn NearestNeighbors (indices and distances, self first)', () => {
    const { x } = blobs(1, 300, 7, 4, 2);
    const k = 12;
    const nn = exactNeighbors(x, k, { blockRows: 64 });
    const ref = judge<{ d: number[][]; i: number[][] }>(
      `from sklearn.neighbors import NearestNeighbors\nX = np.array(inp['x'])\nd, i = NearestNeighbors(n_neighbors=${k}).fit(X).kneighbors(X)\nout = {'d': d.tolist(), 'i': i.tolist()}`,
      { x: rowsOf(x) },
    );
    for (let r = 0; r < x.nRows; r++) {
      expect(nn.indices[r * k]).toBe(r);
      expect(nn.distances[r * k]).toBe(0);
      for (let t = 0; t < k; t++) expect(nn.distances[r * k + t]).toBeCloseTo(ref.d[r]![t]!, 9);
      expect(new Set(nn.indices.subarray(r * k, (r + 1) * k))).toEqual(new Set(ref.i[r]!));
    }
  });

  judged.it('stays exact across many tiles and candidate-buffer cuts (2000 cells, k = 15)', () => {
    const { x } = blobs(5, 2000, 4, 6, 3, { sep: 1 });
    const k = 15;
    const nn = exactNeighbors(x, k, { blockRows: 300 });
    const ref = judge<number[][]>(
      `from sklearn.neighbors import NearestNeighbors
X = np.array(inp)
d, i = NearestNeighbors(n_neighbors=${k}).fit(X).kneighbors(X)
out = d.tolist()`,
      rowsOf(x),
    );
    for (let r = 0; r < x.nRows; r++) for (let t = 0; t < k; t++) expect(nn.distances[r * k + t]).toBeCloseTo(ref[r]![t]!, 9);
  });

  it('neighborsAndSilhouette equals the separate computations', () => {
    const { x, labels } = blobs(6, 400, 5, 3, 2);
    const codes = Int32Array.from(labels, (l) => Number(l.slice(4)));
    const both = neighborsAndSilhouette(x, 20, codes, 3);
    const nn = exactNeighbors(x, 20);
    expect(Array.from(both.neighbors.indices)).toEqual(Array.from(nn.indices));
    const s = silhouetteSamples(x, labels);
    // Default (WebAssembly kernels: float32 sums in runs of ≤ 512 cells, then float64): to float32 accuracy.
    expect(both.sampling).toEqual({ mode: 'exact' });
    for (let i = 0; i < x.nRows; i++) expect(both.silhouette[i]).toBeCloseTo(s[i]!, 5);
    // The engine's one pass: the same sums as the separate scan.
    const engine = neighborsAndSilhouette(x, 20, codes, 3, { search: 'engine' });
    expect(Array.from(engine.neighbors.indices)).toEqual(Array.from(nn.indices));
    for (let i = 0; i < x.nRows; i++) expect(engine.silhouette[i]).toBeCloseTo(s[i]!, 12);
  });

  it('any tile size gives the same neighbours and silhouettes, equal to a float64 brute force (k up to n)', () => {
    const { x, labels } = blobs(8, 157, 4, 3, 2, { sep: 1.5 });
    const n = x.nRows;
    const codes = Int32Array.from(labels, (l) => Number(l.slice(4)));
    // Brute force in float64: neighbours by (distance, index) with self first; silhouettes by definition.
    const dist = (i: number, j: number) => {
      let s = 0;
      for (let c = 0; c < x.nCols; c++) s += (x.data[i * x.nCols + c]! - x.data[j * x.nCols + c]!) ** 2;
      return Math.sqrt(s);
    };
    const order = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => j)
        .filter((j) => j !== i)
        .sort((a, b) => dist(i, a) - dist(i, b) || a - b),
    );
    const sil = Array.from({ length: n }, (_, i) => {
      const sums = [0, 0, 0];
      const cnt = [0, 0, 0];
      for (let j = 0; j < n; j++) {
        cnt[codes[j]!]!++;
        if (j !== i) sums[codes[j]!]! += dist(i, j);
      }
      const own = codes[i]!;
      const a = sums[own]! / (cnt[own]! - 1);
      const b = Math.min(...[0, 1, 2].filter((c) => c !== own).map((c) => sums[c]! / cnt[c]!));
      return (b - a) / Math.max(a, b);
    });
    for (const k of [1, 5, n]) {
      for (const blockRows of [1, 7, 64, 2048]) {
        const r = neighborsAndSilhouette(x, k, codes, 3, { blockRows });
        const nn = exactNeighbors(x, k, { blockRows });
        expect(Array.from(nn.indices)).toEqual(Array.from(r.neighbors.indices));
        for (let i = 0; i < n; i++) {
          expect(nn.indices[i * k]).toBe(i);
          expect(Array.from(nn.indices.subarray(i * k + 1, (i + 1) * k))).toEqual(order[i]!.slice(0, k - 1));
          expect(r.silhouette[i]).toBeCloseTo(sil[i]!, 5);
        }
      }
    }
  });

  it('keeps each cell first among duplicates and breaks distance ties by index', () => {
    const x = matrixFromRows([[0, 0], [0, 0], [1, 0], [-1, 0], [0, 5]]);
    const nn = exactNeighbors(x, 4);
    expect(Array.from(nn.indices.subarray(0, 4))).toEqual([0, 1, 2, 3]);
    expect(Array.from(nn.indices.subarray(4, 8))).toEqual([1, 0, 2, 3]);
    expect(Array.from(nn.distances.subarray(4, 8))).toEqual([0, 0, 1, 1]);
  });

  it('subsets to fewer neighbours', () => {
    const { x } = blobs(2, 50, 3, 2, 2);
    const nn = exactNeighbors(x, 10);
    const s = subsetNeighbors(nn, 4);
    expect(s.nNeighbors).toBe(4);
    expect(Array.from(s.indices.subarray(8, 12))).toEqual(Array.from(nn.indices.subarray(20, 24)));
    expect(() => subsetNeighbors(nn, 11)).toThrow(BenchInputError);
  });

  it('rejects NaN embeddings, bad k and malformed matrices with typed errors', () => {
    const bad = matrixFromRows([[0, 1], [NaN, 2], [3, 4]]);
    expect(() => exactNeighbors(bad, 2)).toThrow(/non-finite value \(NaN\) at row 1, column 0/);
    const ok = matrixFromRows([[0, 1], [2, 2], [3, 4]]);
    expect(() => exactNeighbors(ok, 4)).toThrow(BenchInputError);
    expect(() => exactNeighbors({ data: new Float64Array(5), nRows: 3, nCols: 2 }, 1)).toThrow(/has 5 values/);
    expect(() => matrixFromRows([[1, 2], [3]])).toThrow(BenchInputError);
  });
});
