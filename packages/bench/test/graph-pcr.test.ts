import { beforeAll, describe, expect, it } from 'vitest';
import { BenchInputError, exactNeighbors, graphConnectivity, pcrComparison, principalComponentRegression } from '../src/index';
import { blobs, engine, judge, judged, rowsOf } from './helpers';

beforeAll(engine);

describe('graph connectivity', () => {
  judged.it('equals scipy connected_components on the per-label kNN subgraphs', () => {
    const { x, labels } = blobs(41, 300, 4, 3, 2, { sep: 1.2, noise: 1 });
    const nn = exactNeighbors(x, 15);
    const ref = judge<number>(
      `import scipy.sparse as sp\nfrom scipy.sparse.csgraph import connected_components\nn = len(inp['l']); I = np.array(inp['idx']).reshape(n, 15); D = np.array(inp['d']).reshape(n, 15)\nG = sp.csr_matrix((D.ravel(), I.ravel(), np.arange(0, n * 15 + 1, 15)), shape=(n, n))\nl = np.array(inp['l']); res = []\nfor g in np.unique(l):\n    m = l == g\n    _, c = connected_components(G[m][:, m], connection='strong')\n    res.append(np.bincount(c).max() / m.sum())\nout = float(np.mean(res))`,
      { l: labels, idx: Array.from(nn.indices), d: Array.from(nn.distances) },
    );
    expect(graphConnectivity(nn, labels)).toBeCloseTo(ref, 12);
  });

  it('is near 1 for compact labels and below 1 for labels split in two far groups', () => {
    const { x, labels } = blobs(42, 200, 3, 2, 1, { sep: 20, noise: 0.5 });
    const nn = exactNeighbors(x, 15);
    expect(graphConnectivity(nn, labels)).toBeGreaterThan(0.98);
    // Relabel: each label takes half of each blob → every label has two far-apart components.
    const crossed = labels.map((l, i) => (i % 4 < 2 ? 'A' : 'B'));
    expect(graphConnectivity(nn, crossed)).toBeLessThan(0.75);
  });
});

describe('PCR comparison', () => {
  judged.it('principalComponentRegression equals scib-metrics PCA + least squares on all components', () => {
    const { x, batches } = blobs(43, 250, 6, 3, 3, { batchShift: 1 });
    const ref = judge<number>(
      `X = np.array(inp['x']); b = np.unique(inp['b'], return_inverse=True)[1]\nXc = X - X.mean(0)\nu, s, vt = np.linalg.svd(Xc, full_matrices=False)\npcs = u * s; var = s ** 2 / (len(X) - 1)\ncov = np.eye(b.max() + 1)[b]; cov = cov - cov.mean(0)\ncoef = np.linalg.lstsq(cov, pcs, rcond=None)[0]\nrss = ((pcs - cov @ coef) ** 2).sum(0); tss = ((pcs - pcs.mean(0)) ** 2).sum(0)\nr2 = np.maximum(0, 1 - rss / tss)\nout = float(r2 @ var / var.sum())`,
      { x: rowsOf(x), b: batches },
    );
    expect(principalComponentRegression(x, batches)).toBeCloseTo(ref, 10);
  });

  it('scales (pre − post) / pre, clamps at 0, and reports post − pre unscaled', () => {
    const pre = blobs(44, 200, 5, 2, 2, { batchShift: 3 });
    const post = blobs(44, 200, 5, 2, 2, { batchShift: 0.2 });
    const a = principalComponentRegression(pre.x, pre.batches);
    const b = principalComponentRegression(post.x, pre.batches);
    expect(pcrComparison(pre.x, post.x, pre.batches)).toBeCloseTo((a - b) / a, 12);
    expect(pcrComparison(post.x, pre.x, pre.batches)).toBe(0);
    expect(pcrComparison(pre.x, post.x, pre.batches, { scale: false })).toBeCloseTo(b - a, 12);
    expect(() => pcrComparison(pre.x, { ...post.x, nRows: 100, data: post.x.data.subarray(0, 500) }, pre.batches)).toThrow(BenchInputError);
  });
});
