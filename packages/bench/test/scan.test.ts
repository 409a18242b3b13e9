import { beforeAll, describe, expect, it } from 'vitest';
import { scanDistances, type ScanRequest } from '../src/neighbors/distances';
import { blobs, engine } from './helpers';

beforeAll(engine);

describe('scanDistances with the helper thread', () => {
  const { x, labels } = blobs(41, 420, 6, 3, 2, { sep: 2 });
  const codes = Int32Array.from(labels, (l) => Number(l.slice(4)));

  it.each<[string, Omit<ScanRequest, 'threads'>]>([
    ['Euclidean sums and candidates', { metric: 'euclidean', candidates: 12, clusters: { codes, count: 3 }, blockRows: 32 }],
    ['cosine sums only', { metric: 'cosine', clusters: { codes, count: 3 }, blockRows: 32 }],
    ['candidates only', { metric: 'euclidean', candidates: 30, blockRows: 48 }],
  ])('%s: the helper takes tiles and the result equals the single-thread scan', (_name, req) => {
    const one = scanDistances(x, { ...req, threads: 1 });
    const two = scanDistances(x, { ...req, threads: 2, waitForHelperMs: 30_000 });
    expect(one.helperTiles).toBe(0);
    // The helper started and folded part of the tiles (the rest fell to the main thread).
    expect(two.helperTiles).toBeGreaterThan(0);
    if (req.candidates) {
      // Same candidate sets, each in ascending engine distance (ties may swap places).
      const h = req.candidates;
      for (let i = 0; i < x.nRows; i++) {
        const a = Array.from(one.candidates!.subarray(i * h, (i + 1) * h)).sort((p, q) => p - q);
        const b = Array.from(two.candidates!.subarray(i * h, (i + 1) * h)).sort((p, q) => p - q);
        expect(b).toEqual(a);
      }
    }
    if (req.clusters) {
      // Same sums up to the summation order.
      for (let t = 0; t < one.clusterSums!.length; t++) expect(two.clusterSums![t]).toBeCloseTo(one.clusterSums![t]!, 9);
    }
  });

  it('small scans stay on the main thread', () => {
    const r = scanDistances(x, { metric: 'euclidean', candidates: 5, blockRows: 1024, threads: 2 });
    expect(r.helperTiles).toBe(0);
  });
});
