import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@invae/core';
import { adjustedRandIndex, BenchInputError, kmeans, matrixFromRows, nmiAriClusterLabelsKmeans, normalizedMutualInfo } from '../src/index';
import { blobs, engine, judge, judged, rowsOf } from './helpers';

beforeAll(engine);

describe('NMI and ARI', () => {
  judged.it('equal sklearn on random labelings, including degenerate ones', () => {
    const rng = new Rng(5);
    const cases: [number[], number[]][] = [];
    for (let t = 0; t < 6; t++) {
      const n = 30 + 40 * t;
      cases.push([Array.from({ length: n }, () => rng.int(2 + t)), Array.from({ length: n }, () => rng.int(1 + ((t * 3) % 7)))]);
    }
    cases.push([[0, 0, 0], [1, 1, 1]]); // both single class → 1
    cases.push([[0, 1, 2, 3], [0, 0, 0, 0]]); // MI 0 → 0
    cases.push([[0, 0, 1, 1], [5, 5, 7, 7]]); // identical partitions → 1
    const ref = judge<number[][]>(
      `from sklearn.metrics import normalized_mutual_info_score as nmi, adjusted_rand_score as ari\nout = [[nmi(a, b, average_method='arithmetic'), ari(a, b)] for a, b in inp]`,
      cases,
    );
    cases.forEach(([a, b], t) => {
      expect(normalizedMutualInfo(a, b)).toBeCloseTo(ref[t]![0]!, 12);
      expect(adjustedRandIndex(a, b)).toBeCloseTo(ref[t]![1]!, 12);
    });
  });

  it('rejects labelings of different lengths', () => {
    expect(() => normalizedMutualInfo([0, 1], [0])).toThrow(BenchInputError);
  });
});

describe('kmeans', () => {
  judged.it('recovers well-separated blobs and reaches an inertia no worse than sklearn KMeans', () => {
    const { x, labels } = blobs(7, 400, 6, 5, 1, { sep: 8 });
    const km = kmeans(x, 5, { seed: 1 });
    expect(adjustedRandIndex(labels, km.labels)).toBe(1);
    const ref = judge<number>(`from sklearn.cluster import KMeans\nout = float(KMeans(5, n_init=10, random_state=0).fit(np.array(inp)).inertia_)`, rowsOf(x));
    expect(km.inertia).toBeLessThanOrEqual(ref * (1 + 1e-6));
  });

  it('is reproducible for a seed and its labels are a Lloyd fixed point', () => {
    const { x } = blobs(8, 300, 4, 6, 1, { sep: 1.5 });
    const a = kmeans(x, 6, { seed: 3 });
    const b = kmeans(x, 6, { seed: 3 });
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    const d = x.nCols;
    for (let i = 0; i < x.nRows; i++) {
      let best = -1;
      let bestV = Infinity;
      for (let c = 0; c < 6; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (x.data[i * d + j]! - a.centroids[c * d + j]!) ** 2;
        if (s < bestV) [bestV, best] = [s, c];
      }
      expect(a.labels[i]).toBe(best);
    }
  });

  it('handles duplicate points and rejects k larger than the cells', () => {
    const x = matrixFromRows([[1, 1], [1, 1], [1, 1], [2, 2]]);
    const km = kmeans(x, 3);
    expect(km.labels[0]).toBe(km.labels[1]);
    expect(() => kmeans(x, 5)).toThrow(BenchInputError);
  });

  judged.it('nmiAriClusterLabelsKmeans uses k = number of labels and scores the clustering against them', () => {
    const { x, labels } = blobs(9, 300, 5, 3, 2, { sep: 6 });
    const r = nmiAriClusterLabelsKmeans(x, labels);
    expect(r.nmi).toBe(1);
    expect(r.ari).toBe(1);
    const noisy = blobs(9, 300, 5, 3, 2, { sep: 0.3 });
    const r2 = nmiAriClusterLabelsKmeans(noisy.x, noisy.labels);
    const km = kmeans(noisy.x, 3, { seed: 0 });
    const ref = judge<number[]>(
      `from sklearn.metrics import normalized_mutual_info_score as nmi, adjusted_rand_score as ari\nout = [nmi(inp['a'], inp['b']), ari(inp['a'], inp['b'])]`,
      { a: noisy.labels, b: Array.from(km.labels) },
    );
    expect(r2.nmi).toBeCloseTo(ref[0]!, 12);
    expect(r2.ari).toBeCloseTo(ref[1]!, 12);
  });
});
