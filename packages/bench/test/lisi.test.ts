import { beforeAll, describe, expect, it } from 'vitest';
import { BenchInputError, clisiKnn, exactNeighbors, ilisiKnn, lisiKnn, lisiWeights } from '../src/index';
import { blobs, engine, judge, judged, rowsOf } from './helpers';

beforeAll(engine);

/** scib-metrics' LISI (compute_simpson_index + lisi_knn) written with numpy/sklearn, from its definition. */
const LISI_PY = `
from sklearn.neighbors import NearestNeighbors
X = np.array(inp['x']); lab = np.unique(inp['labels'], return_inverse=True)[1]
k = inp['k']; perplexity = inp['perp']
D, I = NearestNeighbors(n_neighbors=k).fit(X).kneighbors(X)
def hbeta(d, mask, beta):
    P = np.where(mask, np.exp(-d * beta), 0.0)
    s = P.sum()
    if s == 0:
        return 0.0, np.zeros_like(d)
    return np.log(s) + beta * np.sum(d * P) / s, P / s
res = []
for i in range(len(X)):
    d = D[i]; mask = I[i] != i
    beta, bmin, bmax = 1.0, -np.inf, np.inf
    H, P = hbeta(d, mask, beta); diff = H - np.log(perplexity); tries = 0
    while abs(diff) >= 1e-5 and tries < 50:
        if diff > 0:
            bmin = beta; beta = beta * 2 if bmax == np.inf else (beta + bmax) / 2
        else:
            bmax = beta; beta = beta / 2 if bmin == -np.inf else (beta + bmin) / 2
        H, P = hbeta(d, mask, beta); diff = H - np.log(perplexity); tries += 1
    if H == 0:
        res.append(-1.0)
    else:
        s = np.bincount(lab[I[i]], weights=P, minlength=lab.max() + 1)
        res.append(1.0 / np.dot(s, s))
out = res
`;

describe('LISI', () => {
  const { x, labels, batches } = blobs(11, 400, 6, 4, 3, { sep: 3, batchShift: 0.5 });
  const nn = exactNeighbors(x, 90);

  judged.it('per-cell LISI equals the scib-metrics definition (perplexity 30 from 90 neighbours)', () => {
    const ref = judge<number[]>(LISI_PY, { x: rowsOf(x), labels: batches, k: 90, perp: 30 });
    const l = lisiKnn(nn, batches);
    for (let i = 0; i < x.nRows; i++) expect(l[i]).toBeCloseTo(ref[i]!, 6);
  });

  it('iLISI and cLISI are scaled medians', () => {
    const lb = lisiKnn(nn, batches);
    const ll = lisiKnn(nn, labels);
    const med = (v: Float64Array) => {
      const a = Array.from(v).sort((p, q) => p - q);
      return (a[199]! + a[200]!) / 2;
    };
    expect(ilisiKnn(nn, batches)).toBeCloseTo((med(lb) - 1) / 2, 12);
    expect(clisiKnn(nn, labels)).toBeCloseTo((4 - med(ll)) / 3, 12);
    expect(ilisiKnn(nn, batches, { scale: false })).toBeCloseTo(med(lb), 12);
  });

  it('perfect mixing and perfect separation reach the ends of the scale', () => {
    // Batches alternate along the cells of a tight cloud: iLISI close to 1. Labels separated: cLISI 1.
    const sep = blobs(12, 300, 3, 3, 1, { sep: 50, noise: 0.1 });
    const nn2 = exactNeighbors(sep.x, 90);
    expect(clisiKnn(nn2, sep.labels)).toBeCloseTo(1, 6);
    const alt = sep.labels.map((_, i) => `b${i % 2}`);
    expect(ilisiKnn(nn2, alt)).toBeGreaterThan(0.9);
  });

  it('shared weights (one perplexity calibration for cLISI and iLISI) give the same values', () => {
    const w = lisiWeights(nn);
    expect(w.perplexity).toBe(30);
    expect(Array.from(lisiKnn(nn, batches, { weights: w }))).toEqual(Array.from(lisiKnn(nn, batches)));
    expect(Array.from(lisiKnn(nn, labels, { weights: w }))).toEqual(Array.from(lisiKnn(nn, labels)));
    expect(ilisiKnn(nn, batches, { weights: w })).toBe(ilisiKnn(nn, batches));
    expect(clisiKnn(nn, labels, { weights: w })).toBe(clisiKnn(nn, labels));
    // Weights of other neighbours or another perplexity are refused.
    const nn30 = exactNeighbors(x, 30);
    expect(() => lisiKnn(nn30, batches, { weights: w })).toThrow(BenchInputError);
    expect(() => lisiKnn(nn, batches, { weights: w, perplexity: 10 })).toThrow(/do not match/);
  });

  it('a single batch gives NaN iLISI; wrong lengths throw', () => {
    expect(ilisiKnn(nn, batches.map(() => 'one'))).toBeNaN();
    expect(() => lisiKnn(nn, batches.slice(3))).toThrow(BenchInputError);
  });
});
