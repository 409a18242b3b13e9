import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@invae/core';
import { BenchInputError, chiSquareSurvival, exactNeighbors, kbet, kbetPerLabel, regularizedGammaQ, umapConnectivities } from '../src/index';
import { subgraph } from '../src/neighbors/connectivities';
import { lanczosLargestMagnitude, symmetricEigen, tridiagonalEigen } from '../src/internal/linalg';
import { diffusionTransitions } from '../src/embedding/diffusion';
import { blobs, engine, judge, judged, rowsOf } from './helpers';

beforeAll(engine);

describe('chi-square survival', () => {
  judged.it('equals scipy.stats.chi2.sf across small and large arguments', () => {
    const cases: [number, number][] = [];
    for (const dof of [1, 2, 3, 5, 9, 30]) for (const x of [0.001, 0.5, 1, 3.2, 7, 15, 40, 120]) cases.push([x, dof]);
    const ref = judge<number[]>(`from scipy.stats import chi2\nout = [float(chi2.sf(x, d)) for x, d in inp]`, cases);
    cases.forEach(([x, dof], t) => {
      const v = chiSquareSurvival(x, dof);
      expect(Math.abs(v - ref[t]!)).toBeLessThanOrEqual(1e-12 + 1e-10 * ref[t]!);
    });
    expect(chiSquareSurvival(0, 3)).toBe(1);
    expect(regularizedGammaQ(-1, 2)).toBeNaN();
  });
});

describe('kbet', () => {
  judged.it('per-cell statistics and p-values follow the chi-square test on neighbour batch counts', () => {
    const { x, batches } = blobs(21, 200, 4, 2, 3, { batchShift: 1.5 });
    const nn = exactNeighbors(x, 20);
    const r = kbet(nn, batches);
    const ref = judge<{ stat: number[]; p: number[] }>(
      `from scipy.stats import chi2\nb = np.unique(inp['b'], return_inverse=True)[1]\nI = np.array(inp['idx']).reshape(-1, 20)\nexp = np.bincount(b) / len(b) * 20\nobs = np.array([np.bincount(b[row], minlength=len(exp)) for row in I])\nstat = ((obs - exp) ** 2 / exp).sum(1)\nout = {'stat': stat.tolist(), 'p': chi2.sf(stat, len(exp) - 1).tolist()}`,
      { b: batches, idx: Array.from(nn.indices) },
    );
    let acc = 0;
    for (let i = 0; i < 200; i++) {
      expect(r.statistics[i]).toBeCloseTo(ref.stat[i]!, 10);
      expect(r.pValues[i]).toBeCloseTo(ref.p[i]!, 10);
      if (ref.p[i]! >= 0.05) acc++;
    }
    expect(r.acceptanceRate).toBe(acc / 200);
  });

  it('kbetPerLabel is high for mixed batches, low for separated ones, NaN-skips single-batch labels', () => {
    const mixed = blobs(22, 600, 5, 3, 2, { sep: 10, batchShift: 0 });
    const nnM = exactNeighbors(mixed.x, 50);
    const good = kbetPerLabel(nnM, mixed.batches, mixed.labels);
    expect(good.score).toBeGreaterThan(0.6);
    const split = blobs(22, 600, 5, 3, 2, { sep: 10, batchShift: 6 });
    const nnS = exactNeighbors(split.x, 50);
    const bad = kbetPerLabel(nnS, split.batches, split.labels);
    expect(bad.score).toBeLessThan(0.1);
    const oneBatchForType0 = mixed.batches.map((b, i) => (mixed.labels[i] === 'type0' ? 'batch0' : b));
    const r = kbetPerLabel(nnM, oneBatchForType0, mixed.labels);
    expect(r.perLabel.find((p) => p.label === 'type0')!.kbet).toBeNaN();
    expect(r.score).toBeCloseTo((r.perLabel[1]!.kbet + r.perLabel[2]!.kbet) / 2, 12);
    expect(() => kbetPerLabel(nnM, mixed.batches.slice(1), mixed.labels)).toThrow(BenchInputError);
  });

  it('a helper thread embedding some labels gives exactly the single-thread scores', () => {
    const { x, labels, batches } = blobs(27, 900, 5, 4, 3, { sep: 3, batchShift: 0.4 });
    const nn = exactNeighbors(x, 50);
    const one = kbetPerLabel(nn, batches, labels, { threads: 1 });
    const two = kbetPerLabel(nn, batches, labels, { threads: 2, waitForHelperMs: 30_000 });
    expect(one.helperLabels).toBe(0);
    expect(two.helperLabels).toBeGreaterThan(0);
    expect(two.perLabel).toEqual(one.perLabel);
    expect(two.score).toBe(one.score);
  });

  it('UMAP connectivities are symmetric fuzzy unions in (0, 1] with log2(k) calibrated rows', () => {
    const { x } = blobs(23, 120, 3, 2, 1);
    const nn = exactNeighbors(x, 15);
    const g = umapConnectivities(nn);
    const get = (i: number, j: number) => {
      for (let p = g.indptr[i]!; p < g.indptr[i + 1]!; p++) if (g.indices[p] === j) return g.data[p]!;
      return 0;
    };
    for (let i = 0; i < g.n; i++) {
      for (let p = g.indptr[i]!; p < g.indptr[i + 1]!; p++) {
        const j = g.indices[p]!;
        expect(j).not.toBe(i);
        expect(g.data[p]).toBeGreaterThan(0);
        expect(g.data[p]).toBeLessThanOrEqual(1);
        expect(get(j, i)).toBe(g.data[p]);
      }
      // The nearest neighbour always gets membership 1.
      expect(get(i, nn.indices[i * 15 + 1]!)).toBeCloseTo(1, 12);
    }
  });
});

describe('sparse graphs of kBET', () => {
  it('UMAP connectivities equal the dense fuzzy union W + Wᵀ − W∘Wᵀ of calibrated memberships', () => {
    const { x } = blobs(25, 90, 3, 2, 1, { sep: 1 });
    const k = 10;
    const nn = exactNeighbors(x, k);
    const g = umapConnectivities(nn);
    const n = g.n;
    // Directed memberships from the definition: rho = nearest non-zero distance, sigma by bisection
    // so that Σ_{j≥1} exp(−max(0, d_j − rho)/sigma) = log2(k) (no clamp is active on these data).
    const W = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const d = Array.from(nn.distances.subarray(i * k, (i + 1) * k));
      const rho = d.find((v) => v > 0)!;
      const psum = (sigma: number) => d.slice(1).reduce((s, v) => s + Math.exp(-Math.max(0, v - rho) / sigma), 0);
      let lo = 0;
      let hi = 1e3;
      for (let it = 0; it < 200; it++) {
        const mid = (lo + hi) / 2;
        if (psum(mid) > Math.log2(k)) hi = mid;
        else lo = mid;
      }
      const sigma = (lo + hi) / 2;
      for (let t = 1; t < k; t++) W[i * n + nn.indices[i * k + t]!] = Math.exp(-Math.max(0, d[t]! - rho) / sigma);
    }
    const dense = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let p = g.indptr[i]!; p < g.indptr[i + 1]!; p++) dense[i * n + g.indices[p]!] = g.data[p]!;
    for (let i = 0; i < n; i++) {
      // Columns strictly ascending, no self loop.
      for (let p = g.indptr[i]! + 1; p < g.indptr[i + 1]!; p++) expect(g.indices[p]!).toBeGreaterThan(g.indices[p - 1]!);
      for (let j = 0; j < n; j++) {
        const a = W[i * n + j]!;
        const b = W[j * n + i]!;
        expect(dense[i * n + j]! > 0).toBe(a > 0 || b > 0);
        expect(dense[i * n + j]).toBeCloseTo(a + b - a * b, 4);
        expect(dense[i * n + j]).toBe(dense[j * n + i]);
      }
    }
  });

  it('subgraph keeps the edges among the chosen nodes, in the order given, columns sorted', () => {
    const g = { n: 4, indptr: Int32Array.from([0, 2, 4, 6, 8]), indices: Int32Array.from([1, 3, 0, 2, 1, 3, 0, 2]), data: Float64Array.from([0.1, 0.3, 0.1, 0.2, 0.2, 0.4, 0.3, 0.4]) };
    const s = subgraph(g, [3, 0, 2]);
    expect(Array.from(s.indptr)).toEqual([0, 2, 3, 4]);
    // Node 3 → local 0: neighbours 0 (local 1) and 2 (local 2).
    expect(Array.from(s.indices)).toEqual([1, 2, 0, 0]);
    expect(Array.from(s.data)).toEqual([0.3, 0.4, 0.3, 0.4]);
  });
});

describe('eigen-solvers of the diffusion map', () => {
  judged.it('tridiagonal QL and Jacobi agree with numpy eigh', () => {
    const rng = new Rng(31);
    const m = 12;
    const diag = Float64Array.from({ length: m }, () => rng.uniform() * 4 - 2);
    const off = Float64Array.from({ length: m }, (_, i) => (i === 0 ? 0 : rng.uniform() - 0.5));
    const ref = judge<number[]>(
      `T = np.diag(inp['d']) + np.diag(inp['o'][1:], 1) + np.diag(inp['o'][1:], -1)\nout = sorted(np.linalg.eigvalsh(T).tolist())`,
      { d: Array.from(diag), o: Array.from(off) },
    );
    const { values, vectors } = tridiagonalEigen(diag, off);
    expect(Array.from(values).sort((a, b) => a - b).map((v, i) => v - ref[i]!).every((e) => Math.abs(e) < 1e-10)).toBe(true);
    // T v = λ v for every pair.
    for (let c = 0; c < m; c++) for (let i = 0; i < m; i++) {
      const tv = diag[i]! * vectors[i * m + c]! + (i > 0 ? off[i]! * vectors[(i - 1) * m + c]! : 0) + (i < m - 1 ? off[i + 1]! * vectors[(i + 1) * m + c]! : 0);
      expect(tv).toBeCloseTo(values[c]! * vectors[i * m + c]!, 9);
    }
    const a = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      a[i * m + i] = diag[i]!;
      if (i > 0) a[i * m + i - 1] = a[(i - 1) * m + i] = off[i]!;
    }
    const j = symmetricEigen(a, m);
    expect(Array.from(j.values).reverse().every((v, i) => Math.abs(v - ref[i]!) < 1e-10)).toBe(true);
  });

  judged.it('Lanczos finds the largest-magnitude eigenpairs of a diffusion operator as numpy', () => {
    const { x } = blobs(24, 150, 3, 3, 1, { sep: 2 });
    const g = diffusionTransitions(umapConnectivities(exactNeighbors(x, 15)));
    const dense = Array.from({ length: g.n }, () => new Array<number>(g.n).fill(0));
    for (let i = 0; i < g.n; i++) for (let p = g.indptr[i]!; p < g.indptr[i + 1]!; p++) dense[i]![g.indices[p]!] = g.data[p]!;
    const ref = judge<number[]>(`w = np.linalg.eigvalsh(np.array(inp))\nout = sorted(w[np.argsort(-np.abs(w))[:20]].tolist(), reverse=True)`, dense);
    const op = {
      n: g.n,
      apply(v: Float64Array, y: Float64Array) {
        for (let i = 0; i < g.n; i++) {
          let s = 0;
          for (let p = g.indptr[i]!; p < g.indptr[i + 1]!; p++) s += g.data[p]! * v[g.indices[p]!]!;
          y[i] = s;
        }
      },
    };
    const r = lanczosLargestMagnitude(op, 20, new Rng(1), 1e-10);
    r.values.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 8));
    expect(r.values[0]).toBeCloseTo(1, 8);
    void rowsOf;
  });
});
