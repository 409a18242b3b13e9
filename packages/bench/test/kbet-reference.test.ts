import { beforeAll, expect, it } from 'vitest';
import { exactNeighbors, kbetPerLabel, umapConnectivities } from '../src/index';
import { blobs, engine, judge, judged } from './helpers';

beforeAll(engine);

/**
 * scib-metrics' kbet_per_label pipeline from its definition, with scipy (eigsh, connected
 * components, chi2) and sklearn (exact neighbours in the diffusion space); the UMAP connectivities
 * are taken from our implementation (umap-learn is not available to the judge).
 */
const KBET_PY = `
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh
from scipy.sparse.csgraph import connected_components
from scipy.stats import chi2
from sklearn.neighbors import NearestNeighbors
n = inp['n']
W = sp.csr_matrix((inp['data'], inp['indices'], inp['indptr']), shape=(n, n))
batches = np.unique(inp['b'], return_inverse=True)[1]; labels = np.array(inp['l'])
def diffusion_nn(X, k, n_comps):
    q = np.asarray(X.sum(axis=0)).ravel()
    Q = sp.diags(1.0 / q); K = Q @ X @ Q
    z = np.sqrt(np.asarray(K.sum(axis=0)).ravel()); Z = sp.diags(1.0 / z)
    T = (Z @ K @ Z).astype(np.float64)
    n_comps = min(T.shape[0] - 1, n_comps)
    ev, evec = eigsh(T, k=n_comps, which='LM')
    ev, evec = ev.astype(np.float32)[::-1], evec.astype(np.float32)[:, ::-1]
    ev = ev + np.float32(1e-8)
    emb = evec * np.array([e if e == 1 else e / (1 - e) for e in ev])
    return NearestNeighbors(n_neighbors=k + 1).fit(emb).kneighbors(emb)[1]
def kbet(idx, b):
    b = np.unique(b, return_inverse=True)[1]; nb = b.max() + 1
    exp = np.bincount(b, minlength=nb) / len(b) * idx.shape[1]
    obs = np.array([np.bincount(b[r], minlength=nb) for r in idx])
    stat = ((obs - exp) ** 2 / exp).sum(1)
    return float((chi2.sf(stat, nb - 1) >= 0.05).mean())
scores = []
ncomp = 100
for g in np.unique(labels):
    m = labels == g; sub = W[m][:, m]; bs = batches[m]; nobs = sub.shape[0]
    if nobs < 10 or len(np.unique(bs)) == 1:
        scores.append(np.nan); continue
    k0 = int(min(70, max(10, np.floor(np.mean(np.bincount(bs)[np.bincount(bs) > 0]) / 4))))
    nc, labs = connected_components(sub, connection='strong')
    if nc == 1:
        ncomp = min(ncomp, nobs - 1)
        scores.append(kbet(diffusion_nn(sub, k0, ncomp), bs))
    else:
        sizes = np.bincount(labs); keep = np.flatnonzero(sizes[labs] >= 3 * k0)
        if len(keep) / len(labs) >= 0.75:
            subsub = sub[keep][:, keep]; ncomp = min(ncomp, subsub.shape[0] - 1)
            scores.append(kbet(diffusion_nn(subsub, k0, ncomp), bs[keep]))
        else:
            scores.append(0.0)
out = [None if np.isnan(s) else s for s in scores]
`;

judged.describe('kbetPerLabel against a scipy reimplementation of scib-metrics', () => {
  it.each([
    // Labels of 150 cells: the Krylov basis spans the space (a full eigen-decomposition).
    ['small labels', 600, 4, 0.25],
    // Labels of 500 cells: the basis is capped at 350 vectors (approximate tail).
    ['large labels', 1000, 2, 0.2],
  ] as const)('agrees per label within the eigen-solver tolerance (%s)', (_name, n, nLabels, shift) => {
    const { x, labels, batches } = blobs(91, n, 6, nLabels, 3, { sep: 4, batchShift: shift });
    const nn = exactNeighbors(x, 50);
    const g = umapConnectivities(nn);
    const ref = judge<(number | null)[]>(KBET_PY, {
      n: g.n,
      data: Array.from(g.data),
      indices: Array.from(g.indices),
      indptr: Array.from(g.indptr),
      b: batches,
      l: labels,
    });
    const ours = kbetPerLabel(nn, batches, labels);
    // Mid-range acceptance rates, so that the comparison is informative.
    expect(ours.score).toBeGreaterThan(0.1);
    expect(ours.score).toBeLessThan(0.95);
    ours.perLabel.forEach((p, i) => {
      if (ref[i] === null) expect(p.kbet).toBeNaN();
      else expect(Math.abs(p.kbet - ref[i]!)).toBeLessThanOrEqual(0.005);
    });
  }, 60_000);
});
