import { beforeAll, describe, expect, it } from 'vitest';
import { BenchInputError, bras, isolatedLabels, matrixFromRows, silhouetteBatch, silhouetteLabel, silhouetteSamples } from '../src/index';
import { blobs, engine, judge, judged, rowsOf } from './helpers';

beforeAll(engine);

/** scib-metrics' per-label batch silhouette written with numpy, independent of our code. */
const SCIB_BATCH = `
from sklearn.metrics import pairwise_distances
def sil(X, lab, metric, mode):
    D = pairwise_distances(X, metric=metric)
    if metric == 'cosine':
        D = np.clip(D, 0, 2)
    np.fill_diagonal(D, 0)
    u, codes = np.unique(lab, return_inverse=True)
    freqs = np.bincount(codes)
    s = np.zeros(len(X))
    for i in range(len(X)):
        sums = np.bincount(codes, weights=D[i], minlength=len(u))
        own = codes[i]
        with np.errstate(all='ignore'):
            a = sums[own] / (freqs[own] - 1)
            other = [c for c in range(len(u)) if c != own]
            if mode == 'nearest':
                b = min(sums[c] / freqs[c] for c in other) if other else np.inf
            elif mode == 'furthest':
                b = max(sums[c] / freqs[c] for c in other) if other else -np.inf
            else:
                b = sum(sums[c] for c in other) / (len(X) - freqs[own])
            s[i] = np.nan_to_num((b - a) / max(a, b))
    return s
def batch_score(X, labels, batch, metric, mode):
    per = []
    for g in np.unique(labels):
        m = labels == g
        nb = len(np.unique(batch[m]))
        if nb == 1 or nb == m.sum():
            continue
        per.append(np.mean(1 - np.abs(sil(X[m], batch[m], metric, mode))))
    return float(np.mean(per))
X = np.array(inp['x']); labels = np.array(inp['labels']); batch = np.array(inp['batches'])
`;

describe('silhouette', () => {
  const { x, labels, batches } = blobs(3, 240, 5, 4, 3, { sep: 2, batchShift: 0.8 });

  judged.it('silhouetteSamples equals sklearn silhouette_samples (euclidean and cosine)', () => {
    const ref = judge<{ e: number[]; c: number[] }>(
      `from sklearn.metrics import silhouette_samples\nX = np.array(inp['x'])\nl = inp['labels']\nout = {'e': silhouette_samples(X, l).tolist(), 'c': silhouette_samples(X, l, metric='cosine').tolist()}`,
      { x: rowsOf(x), labels },
    );
    const e = silhouetteSamples(x, labels, { blockRows: 50 });
    const c = silhouetteSamples(x, labels, { metric: 'cosine' });
    for (let i = 0; i < x.nRows; i++) {
      expect(e[i]).toBeCloseTo(ref.e[i]!, 4);
      expect(c[i]).toBeCloseTo(ref.c[i]!, 4);
    }
  });

  judged.it('silhouetteLabel is (mean ASW + 1) / 2 as sklearn silhouette_score', () => {
    const ref = judge<number>(`from sklearn.metrics import silhouette_score\nout = float(silhouette_score(np.array(inp['x']), inp['labels']))`, { x: rowsOf(x), labels });
    expect(silhouetteLabel(x, labels)).toBeCloseTo((ref + 1) / 2, 5);
    expect(silhouetteLabel(x, labels, { rescale: false })).toBeCloseTo(ref, 5);
  });

  judged.it('silhouetteBatch and BRAS (cosine, mean_other; furthest) follow scib-metrics', () => {
    const ref = judge<number[]>(
      `${SCIB_BATCH}\nout = [batch_score(X, labels, batch, 'euclidean', 'nearest'), batch_score(X, labels, batch, 'cosine', 'mean_other'), batch_score(X, labels, batch, 'euclidean', 'furthest')]`,
      { x: rowsOf(x), labels, batches },
    );
    expect(silhouetteBatch(x, labels, batches)).toBeCloseTo(ref[0]!, 5);
    expect(bras(x, labels, batches)).toBeCloseTo(ref[1]!, 5);
    expect(silhouetteBatch(x, labels, batches, { betweenClusterDistances: 'furthest' })).toBeCloseTo(ref[2]!, 5);
  });

  judged.it('silhouetteBatch skips labels in one batch, and is NaN with a single batch', () => {
    const one = batches.map(() => 'b');
    expect(silhouetteBatch(x, labels, one)).toBeNaN();
    const mixed = batches.map((b, i) => (labels[i] === 'type0' ? 'only' : b));
    const ref = judge<number>(`${SCIB_BATCH}\nout = batch_score(X, labels, batch, 'euclidean', 'nearest')`, { x: rowsOf(x), labels, batches: mixed });
    expect(silhouetteBatch(x, labels, mixed)).toBeCloseTo(ref, 5);
  });

  judged.it('handles singleton clusters and a single cluster as sklearn (0)', () => {
    const m = matrixFromRows([[0, 0], [0, 1], [5, 5], [5, 6]]);
    const s = silhouetteSamples(m, ['a', 'a', 'b', 'c']);
    const ref = judge<number[]>(`from sklearn.metrics import silhouette_samples\nout = silhouette_samples(np.array(inp['x']), inp['l']).tolist()`, { x: rowsOf(m), l: ['a', 'a', 'b', 'c'] });
    for (let i = 0; i < 4; i++) expect(s[i]).toBeCloseTo(ref[i]!, 5);
    expect(Array.from(silhouetteSamples(m, ['a', 'a', 'a', 'a']))).toEqual([0, 0, 0, 0]);
  });

  judged.it('isolatedLabels scores the labels present in the fewest batches', () => {
    // type0 only in one batch: isolated (threshold = 1); other labels are in 3 batches.
    const iso = batches.map((b, i) => (labels[i] === 'type0' ? 'batch0' : b));
    const ref = judge<number>(
      `from sklearn.metrics import silhouette_samples\nX = np.array(inp['x']); l = np.array(inp['labels'])\ns = (silhouette_samples(X, l) + 1) / 2\nout = float(s[l == 'type0'].mean())`,
      { x: rowsOf(x), labels },
    );
    expect(isolatedLabels(x, labels, iso)).toBeCloseTo(ref, 5);
    // Every label in every batch: all labels are isolated (threshold = min = 3) → mean of per-label means.
    const all = judge<number>(
      `from sklearn.metrics import silhouette_samples\nX = np.array(inp['x']); l = np.array(inp['labels'])\ns = (silhouette_samples(X, l) + 1) / 2\nout = float(np.mean([s[l == g].mean() for g in np.unique(l)]))`,
      { x: rowsOf(x), labels },
    );
    expect(isolatedLabels(x, labels, batches)).toBeCloseTo(all, 5);
    expect(isolatedLabels(x, labels, iso, { isoThreshold: 0 })).toBeNaN();
  });

  it('rejects length mismatches and missing labels with typed errors', () => {
    expect(() => silhouetteLabel(x, labels.slice(1))).toThrow(BenchInputError);
    expect(() => silhouetteBatch(x, labels, batches.slice(2))).toThrow(/batches has 238 entries but 240/);
    const withMissing: (string | number)[] = [...labels];
    withMissing[5] = NaN;
    expect(() => silhouetteLabel(x, withMissing)).toThrow(/labels\[5\] is missing/);
  });
});
