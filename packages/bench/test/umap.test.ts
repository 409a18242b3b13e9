import { beforeAll, describe, expect, it } from 'vitest';
import { BenchInputError, exactNeighbors, sampleIndices, umapEmbedding, type Embedding } from '../src/index';
import { blobs, engine } from './helpers';

beforeAll(engine);

/** Fraction of points whose nearest other point (in 2-D) has the same label. */
function nearestLabelAgreement(coords: Float64Array, labels: readonly string[]): number {
  const n = labels.length;
  let same = 0;
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestD = Infinity;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const d = (coords[2 * i]! - coords[2 * j]!) ** 2 + (coords[2 * i + 1]! - coords[2 * j + 1]!) ** 2;
      if (d < bestD) {
        bestD = d;
        best = j;
      }
    }
    if (labels[best] === labels[i]) same++;
  }
  return same / n;
}

describe('umapEmbedding', () => {
  const { x, labels } = blobs(11, 240, 8, 3, 2, { sep: 8 });

  it('is deterministic for a seed, differs across seeds, and keeps separated clusters apart', () => {
    const a = umapEmbedding(x, { seed: 1, nEpochs: 150 });
    const b = umapEmbedding(x, { seed: 1, nEpochs: 150 });
    const c = umapEmbedding(x, { seed: 2, nEpochs: 150 });
    expect(a.nPoints).toBe(240);
    expect(a.coordinates).toHaveLength(480);
    expect(a.downsampled).toBe(false);
    expect(a.nNeighbors).toBe(15);
    expect(a.nEpochs).toBe(150);
    expect(Array.from(a.indices)).toEqual(Array.from({ length: 240 }, (_, i) => i));
    expect(Array.from(b.coordinates)).toEqual(Array.from(a.coordinates));
    expect(Array.from(c.coordinates)).not.toEqual(Array.from(a.coordinates));
    expect(a.coordinates.every(Number.isFinite)).toBe(true);
    expect(nearestLabelAgreement(a.coordinates, labels)).toBeGreaterThan(0.97);
  });

  it('reuses precomputed exact neighbours (same layout as searching them itself)', () => {
    const own = umapEmbedding(x, { seed: 3, nEpochs: 60 });
    const reused = umapEmbedding(x, { seed: 3, nEpochs: 60, neighbors: exactNeighbors(x, 90) });
    expect(Array.from(reused.coordinates)).toEqual(Array.from(own.coordinates));
  });

  it('downsamples to maxPoints cells: a seeded sorted subset, its own neighbours', () => {
    const s = umapEmbedding(x, { seed: 4, nEpochs: 60, maxPoints: 100, neighbors: exactNeighbors(x, 15) });
    expect(s.downsampled).toBe(true);
    expect(s.nPoints).toBe(100);
    expect(s.coordinates).toHaveLength(200);
    const idx = Array.from(s.indices);
    expect(idx.every((v, i) => v >= 0 && v < 240 && (i === 0 || v > idx[i - 1]!))).toBe(true);
    expect(Array.from(umapEmbedding(x, { seed: 4, nEpochs: 60, maxPoints: 100 }).indices)).toEqual(idx);
    expect(Array.from(sampleIndices(10, 10, 0))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('keeps umap-js available as an option (deterministic, clusters apart) and reports what ran', () => {
    const a = umapEmbedding(x, { seed: 1, nEpochs: 100, implementation: 'umap-js' });
    const b = umapEmbedding(x, { seed: 1, nEpochs: 100, implementation: 'umap-js' });
    expect(a.implementation).toBe('umap-js');
    expect(a.init).toBe('random');
    expect(Array.from(b.coordinates)).toEqual(Array.from(a.coordinates));
    expect(nearestLabelAgreement(a.coordinates, labels)).toBeGreaterThan(0.97);
    const n = umapEmbedding(x, { seed: 1, nEpochs: 100, init: 'random' });
    expect(n.implementation).toBe('native');
    expect(n.init).toBe('random');
    expect(nearestLabelAgreement(n.coordinates, labels)).toBeGreaterThan(0.97);
    expect(() => umapEmbedding(x, { implementation: 'sklearn' as 'native' })).toThrow(/Unknown UMAP implementation/);
  });

  it('rejects bad input with typed errors', () => {
    const tiny: Embedding = { data: new Float64Array(20), nRows: 10, nCols: 2 };
    expect(() => umapEmbedding(tiny)).toThrow(/needs more than 15 cells, got 10/);
    const nan = Float64Array.from(x.data);
    nan[5] = NaN;
    expect(() => umapEmbedding({ ...x, data: nan })).toThrow(BenchInputError);
    expect(() => umapEmbedding(x, { minDist: 2 })).toThrow(/minDist/);
    expect(() => umapEmbedding(x, { neighbors: exactNeighbors(x, 5) })).toThrow(/5 neighbours per cell; this metric needs 15/);
  });
});
