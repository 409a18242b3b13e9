import { describe, expect, it } from 'vitest';
import { Rng, fillNormal } from '@invae/core';
import { BenchInputError, linearR2, linearSumAssignment, matrixFromRows, meanCorrelationCoefficient, rankData, type Embedding } from '../src/index';
import { judge, judged, rowsOf } from './helpers';

function latents(seed: number, n: number, dTrue: number, dEst: number): { z: Embedding; zh: Embedding } {
  const rng = new Rng(seed);
  const z = Float64Array.from(fillNormal(rng, n * dTrue));
  const zh = new Float64Array(n * dEst);
  const perm = Array.from({ length: dEst }, (_, j) => (j * 7 + 3) % dEst);
  for (let i = 0; i < n; i++) for (let j = 0; j < dEst; j++) {
    const src = perm[j]! % dTrue;
    zh[i * dEst + j] = Math.tanh(z[i * dTrue + src]!) * (j % 2 ? -2 : 1) + 0.3 * (rng.uniform() - 0.5) + 0.2 * z[i * dTrue + ((src + 1) % dTrue)]!;
  }
  return { z: { data: z, nRows: n, nCols: dTrue }, zh: { data: zh, nRows: n, nCols: dEst } };
}

const MCC_PY = `
from scipy.stats import spearmanr
from scipy.optimize import linear_sum_assignment
from sklearn.linear_model import LinearRegression
x = np.array(inp['z']); y = np.array(inp['zh']); d = x.shape[1]
def mcc(method):
    cc = np.corrcoef(x, y, rowvar=False)[:d, d:] if method == 'pearson' else spearmanr(x, y)[0][:d, d:]
    cc = np.abs(cc)
    return float(cc[linear_sum_assignment(-1 * cc)].mean())
out = [mcc('pearson'), mcc('spearman'), float(LinearRegression().fit(x, y).score(x, y))]
`;

describe('identifiability metrics', () => {
  judged.it('MCC (Pearson, Spearman) and linear R² equal inVAE’s scipy/sklearn definitions', () => {
    for (const [dt, de] of [[4, 4], [3, 5], [5, 3]] as const) {
      const { z, zh } = latents(60 + dt * de, 200, dt, de);
      const ref = judge<number[]>(MCC_PY, { z: rowsOf(z), zh: rowsOf(zh) });
      expect(meanCorrelationCoefficient(z, zh, 'pearson')).toBeCloseTo(ref[0]!, 10);
      expect(meanCorrelationCoefficient(z, zh, 'spearman')).toBeCloseTo(ref[1]!, 10);
      expect(linearR2(z, zh)).toBeCloseTo(ref[2]!, 8);
    }
  });

  it('is 1 for a permuted, rescaled copy and handles ties in ranks', () => {
    const z = matrixFromRows([[1, 5], [2, 3], [3, 4], [4, 1], [5, 2]]);
    const zh = matrixFromRows([[10, -1], [6, -2], [8, -3], [2, -4], [4, -5]]);
    expect(meanCorrelationCoefficient(z, zh)).toBeCloseTo(1, 12);
    expect(linearR2(z, zh)).toBeCloseTo(1, 12);
    expect(Array.from(rankData([3, 1, 3, 2]))).toEqual([3.5, 1, 3.5, 2]);
  });

  judged.it('linearSumAssignment equals scipy on random rectangular costs', () => {
    const rng = new Rng(70);
    for (const [r, c] of [[5, 5], [3, 7], [8, 4]] as const) {
      const cost = Array.from({ length: r * c }, () => rng.uniform());
      const ref = judge<number>(`from scipy.optimize import linear_sum_assignment\nC = np.array(inp['c']).reshape(${r}, ${c})\ni, j = linear_sum_assignment(C)\nout = float(C[i, j].sum())`, { c: cost });
      const { rows, cols } = linearSumAssignment(cost, r, c);
      expect(rows.length).toBe(Math.min(r, c));
      expect(new Set(cols).size).toBe(cols.length);
      let s = 0;
      rows.forEach((i, t) => (s += cost[i * c + cols[t]!]!));
      expect(s).toBeCloseTo(ref, 12);
    }
  });

  it('rejects mismatched cell counts and unknown methods', () => {
    const a = matrixFromRows([[1], [2], [3]]);
    const b = matrixFromRows([[1], [2]]);
    expect(() => meanCorrelationCoefficient(a, b)).toThrow(BenchInputError);
    expect(() => meanCorrelationCoefficient(a, a, 'kendall' as 'pearson')).toThrow(/Unknown correlation method/);
  });
});
