import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, poisson, type CsrMatrix } from '@invae/core';
import { BenchInputError, logNormalize, matrixFromRows, pca, type Embedding } from '../src/index';
import { engine, judge, judged, rowsOf } from './helpers';

beforeAll(engine);

/** Counts with low-rank structure: 3 programs over 40 genes, Poisson noise. */
function counts(seed: number, n: number, g: number): Embedding {
  const rng = new Rng(seed);
  const prog = Array.from({ length: 3 }, () => Array.from({ length: g }, () => rng.uniform() * 3));
  const data = new Float64Array(n * g);
  for (let i = 0; i < n; i++) {
    const w = [rng.uniform(), rng.uniform(), rng.uniform()];
    const depth = 0.5 + rng.uniform() * 2;
    for (let j = 0; j < g; j++) data[i * g + j] = poisson(rng, depth * (w[0]! * prog[0]![j]! + w[1]! * prog[1]![j]! + w[2]! * prog[2]![j]!));
  }
  return { data, nRows: n, nCols: g };
}

function toCsr(m: Embedding): CsrMatrix {
  const indptr = [0];
  const indices: number[] = [];
  const data: number[] = [];
  for (let i = 0; i < m.nRows; i++) {
    for (let j = 0; j < m.nCols; j++) {
      const v = m.data[i * m.nCols + j]!;
      if (v !== 0) {
        indices.push(j);
        data.push(v);
      }
    }
    indptr.push(indices.length);
  }
  return { kind: 'csr', shape: [m.nRows, m.nCols], indptr: Int32Array.from(indptr), indices: Int32Array.from(indices), data: Float64Array.from(data) };
}

describe('logNormalize', () => {
  it('is normalize_total(1e4) + log1p, for dense and CSR input, without modifying it', () => {
    const c = matrixFromRows([[1, 0, 3], [0, 0, 0], [2, 2, 0]]);
    const copy = Float64Array.from(c.data);
    const d = logNormalize(c);
    expect(Array.from(c.data)).toEqual(Array.from(copy));
    expect(d.data[0]).toBeCloseTo(Math.log1p(2500), 12);
    expect(d.data[2]).toBeCloseTo(Math.log1p(7500), 12);
    expect(Array.from(d.data.subarray(3, 6))).toEqual([0, 0, 0]);
    const s = logNormalize(toCsr(c));
    expect(Array.from(s.data)).toEqual([d.data[0], d.data[2], d.data[6], d.data[7]]);
    // The result is still the shared CSR type; the on-disk dtype of the counts no longer describes its values.
    const t = logNormalize({ ...toCsr(c), dtype: 'int64' });
    expect([t.kind, t.shape, t.dtype, t.data instanceof Float64Array]).toEqual(['csr', [3, 3], undefined, true]);
    expect(() => logNormalize(matrixFromRows([[1, -1]]))).toThrow(BenchInputError);
  });
});

describe('pca', () => {
  const x = logNormalize(counts(51, 300, 40));

  judged.it('matches sklearn PCA: explained variance (ratio) and the subspace, up to sign', () => {
    const k = 5;
    const r = pca(x, k);
    const ref = judge<{ ev: number[]; evr: number[]; comp: number[][]; coords: number[][] }>(
      `from sklearn.decomposition import PCA\np = PCA(${k}, svd_solver='full').fit(np.array(inp))\nout = {'ev': p.explained_variance_.tolist(), 'evr': p.explained_variance_ratio_.tolist(), 'comp': p.components_.tolist(), 'coords': p.transform(np.array(inp)).tolist()}`,
      rowsOf(x),
    );
    for (let c = 0; c < k; c++) {
      expect(r.explainedVariance[c]! / ref.ev[c]!).toBeCloseTo(1, 4);
      expect(r.explainedVarianceRatio[c]! / ref.evr[c]!).toBeCloseTo(1, 4);
      // Same axis up to sign: |cos| ≈ 1.
      let dot = 0;
      for (let j = 0; j < x.nCols; j++) dot += r.components[c * x.nCols + j]! * ref.comp[c]![j]!;
      expect(Math.abs(dot)).toBeCloseTo(1, 4);
      // Sign convention: largest-|loading| entry positive; coordinates follow their axis.
      let best = 0;
      for (let j = 1; j < x.nCols; j++) if (Math.abs(r.components[c * x.nCols + j]!) > Math.abs(r.components[c * x.nCols + best]!)) best = j;
      expect(r.components[c * x.nCols + best]).toBeGreaterThan(0);
      const sign = Math.sign(dot);
      for (let i = 0; i < x.nRows; i++) expect(r.coordinates.data[i * k + c]!).toBeCloseTo(sign * ref.coords[i]![c]!, 4);
    }
  });

  it('gives the same result from CSR input and with the randomized method', () => {
    const a = pca(x, 3);
    const b = pca(logNormalize(toCsr(counts(51, 300, 40))), 3);
    const r = pca(x, 3, { method: 'randomized' });
    for (let c = 0; c < 3; c++) {
      expect(b.explainedVariance[c]! / a.explainedVariance[c]!).toBeCloseTo(1, 5);
      expect(r.explainedVariance[c]! / a.explainedVariance[c]!).toBeCloseTo(1, 4);
      let dot = 0;
      for (let j = 0; j < x.nCols; j++) dot += r.components[c * x.nCols + j]! * a.components[c * x.nCols + j]!;
      expect(dot).toBeCloseTo(1, 4);
    }
  });

  judged.it('with fewer cells than features (cell Gram matrix) matches sklearn, for dense, CSR and randomized', () => {
    const k = 6;
    const w = logNormalize(counts(7, 60, 200));
    const r = pca(w, k);
    const ref = judge<{ ev: number[]; evr: number[]; comp: number[][]; coords: number[][] }>(
      `from sklearn.decomposition import PCA\np = PCA(${k}, svd_solver='full').fit(np.array(inp))\nout = {'ev': p.explained_variance_.tolist(), 'evr': p.explained_variance_ratio_.tolist(), 'comp': p.components_.tolist(), 'coords': p.transform(np.array(inp)).tolist()}`,
      rowsOf(w),
    );
    const s = pca(logNormalize(toCsr(counts(7, 60, 200))), k);
    const rnd = pca(w, k, { method: 'randomized' });
    const g = w.nCols;
    for (let c = 0; c < k; c++) {
      expect(r.explainedVariance[c]! / ref.ev[c]!).toBeCloseTo(1, 4);
      expect(r.explainedVarianceRatio[c]! / ref.evr[c]!).toBeCloseTo(1, 4);
      expect(s.explainedVariance[c]! / r.explainedVariance[c]!).toBeCloseTo(1, 5);
      expect(rnd.explainedVariance[c]! / r.explainedVariance[c]!).toBeCloseTo(1, 4);
      let dot = 0;
      let dotS = 0;
      let dotR = 0;
      let norm = 0;
      for (let j = 0; j < g; j++) {
        dot += r.components[c * g + j]! * ref.comp[c]![j]!;
        dotS += r.components[c * g + j]! * s.components[c * g + j]!;
        dotR += r.components[c * g + j]! * rnd.components[c * g + j]!;
        norm += r.components[c * g + j]! ** 2;
      }
      expect(norm).toBeCloseTo(1, 6);
      expect(Math.abs(dot)).toBeCloseTo(1, 4);
      expect(dotS).toBeCloseTo(1, 5); // same sign convention on every path
      expect(dotR).toBeCloseTo(1, 4);
      let best = 0;
      for (let j = 1; j < g; j++) if (Math.abs(r.components[c * g + j]!) > Math.abs(r.components[c * g + best]!)) best = j;
      expect(r.components[c * g + best]).toBeGreaterThan(0);
      const sign = Math.sign(dot);
      for (let i = 0; i < w.nRows; i++) expect(r.coordinates.data[i * k + c]!).toBeCloseTo(sign * ref.coords[i]![c]!, 4);
    }
  });

  it('gives every component when nComps = cells (the last one has no variance) and sums CSR duplicates', () => {
    const w = logNormalize(counts(8, 12, 30));
    const g = w.nCols;
    for (const method of ['gram', 'randomized'] as const) {
      const r = pca(w, 12, { method });
      expect(r.explainedVariance[11]!).toBeLessThan(1e-6 * r.explainedVariance[0]!);
      const total = r.explainedVarianceRatio.reduce((a, b) => a + b, 0);
      expect(total).toBeCloseTo(1, 5);
      for (let a = 0; a < 12; a++) {
        for (let b = 0; b <= a; b++) {
          let dot = 0;
          for (let j = 0; j < g; j++) dot += r.components[a * g + j]! * r.components[b * g + j]!;
          expect(dot).toBeCloseTo(a === b ? 1 : 0, 5);
        }
      }
      expect(r.coordinates.data.every(Number.isFinite)).toBe(true);
    }
    // A CSR matrix whose entries are split into duplicates is the same matrix.
    const csr = toCsr(w);
    const dup: CsrMatrix = {
      kind: 'csr',
      shape: csr.shape,
      indptr: Int32Array.from(csr.indptr, (v) => 2 * v),
      indices: Int32Array.from({ length: 2 * csr.indices.length }, (_, p) => csr.indices[p >> 1]!),
      data: Float64Array.from({ length: 2 * csr.data.length }, (_, p) => csr.data[p >> 1]! / 2),
    };
    const d = pca(dup, 3);
    const e = pca(w, 3);
    for (let c = 0; c < 3; c++) {
      expect(d.explainedVarianceRatio[c]! / e.explainedVarianceRatio[c]!).toBeCloseTo(1, 5);
      for (let j = 0; j < g; j++) expect(d.components[c * g + j]!).toBeCloseTo(e.components[c * g + j]!, 4);
    }
  });

  it('rejects impossible component counts and bad CSR', () => {
    expect(() => pca(x, 41)).toThrow(/nComps must be an integer in \[1, 40\]/);
    expect(() => pca({ kind: 'csr', shape: [2, 2], indptr: Int32Array.of(0, 1), indices: Int32Array.of(0), data: Float32Array.of(1) }, 1)).toThrow(BenchInputError);
  });
});
