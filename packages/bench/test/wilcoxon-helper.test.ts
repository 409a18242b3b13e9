import { describe, expect } from 'vitest';
import { Rng, fillNormal } from '@invae/core';
import { judge, judged } from './helpers';
import { benjaminiHochberg, wilcoxonRankSum } from './support/wilcoxon';

describe('test helper: Wilcoxon rank-sum and Benjamini–Hochberg (the DE baseline)', () => {
  judged.it("equal scipy's mannwhitneyu (asymptotic, no continuity correction) and statsmodels-style BH", () => {
    const rng = new Rng(3);
    // rounded values: many ties, as log-normalised counts have
    const a = Array.from(fillNormal(rng, 60, 0.4, 1), (v) => Math.round(v * 2) / 2);
    const b = Array.from(fillNormal(rng, 45, 0, 1), (v) => Math.round(v * 2) / 2);
    const ps = [0.001, 0.04, 0.03, 0.5, 0.0005, 0.2];
    const ref = judge<{ p: number; q: number[] }>(
      `from scipy.stats import mannwhitneyu
p = mannwhitneyu(inp['a'], inp['b'], use_continuity=False, alternative='two-sided', method='asymptotic').pvalue
ps = np.array(inp['ps']); m = len(ps); o = np.argsort(ps); q = np.empty(m)
q[o] = np.minimum.accumulate((ps[o] * m / np.arange(1, m + 1))[::-1])[::-1]
out = {'p': float(p), 'q': np.minimum(q, 1).tolist()}`,
      { a, b, ps },
    );
    expect(wilcoxonRankSum(a, b).p).toBeCloseTo(ref.p, 6);
    benjaminiHochberg(ps).forEach((q, i) => expect(q).toBeCloseTo(ref.q[i]!, 12));
  });
});
