import { rankData } from './identifiability';

/** Standard normal upper tail Q(z) = P(Z > z), by the complementary error function (Numerical Recipes' erfc, |error| < 1.2e-7). */
function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/**
 * Two-sided Wilcoxon rank-sum (Mann–Whitney U) test of `a` against `b`, normal approximation with
 * the tie correction and no continuity correction (scanpy's `rank_genes_groups(method='wilcoxon')`;
 * scipy's `mannwhitneyu(use_continuity=False, method='asymptotic')`).
 */
export function wilcoxonRankSum(a: ArrayLike<number>, b: ArrayLike<number>): { z: number; p: number } {
  const n1 = a.length;
  const n2 = b.length;
  const all = new Float64Array(n1 + n2);
  for (let i = 0; i < n1; i++) all[i] = a[i]!;
  for (let i = 0; i < n2; i++) all[n1 + i] = b[i]!;
  const ranks = rankData(all);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i]!;
  const u = r1 - (n1 * (n1 + 1)) / 2;
  // tie correction: Σ (t³ − t) over groups of tied values
  const sorted = Float64Array.from(all).sort();
  let ties = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[i]) j++;
    const t = j - i + 1;
    ties += t * t * t - t;
    i = j + 1;
  }
  const n = n1 + n2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1))));
  if (!(sigma > 0)) return { z: 0, p: 1 };
  const z = (u - (n1 * n2) / 2) / sigma;
  return { z, p: Math.min(1, 2 * normalUpperTail(Math.abs(z))) };
}

/** Benjamini–Hochberg adjusted p-values (q-values), in the input order. */
export function benjaminiHochberg(p: readonly number[]): number[] {
  const m = p.length;
  const order = p.map((_, i) => i).sort((x, y) => p[y]! - p[x]!);
  const q = new Array<number>(m);
  let min = 1;
  order.forEach((g, k) => {
    const rank = m - k;
    min = Math.min(min, (p[g]! * m) / rank);
    q[g] = min;
  });
  return q;
}

/**
 * Genes called by a Wilcoxon test on log-normalised counts (log1p of counts per `librarySize`)
 * between the cells `groupA` and `groupB` at Benjamini–Hochberg FDR `fdr`.
 * `counts`: cells × genes, row-major.
 */
export function wilcoxonCalls(counts: Float32Array, nGenes: number, groupA: readonly number[], groupB: readonly number[], fdr = 0.05, librarySize = 1e4): { p: number[]; q: number[]; called: boolean[] } {
  const logNorm = (cells: readonly number[]) => {
    const out = new Float64Array(cells.length * nGenes);
    cells.forEach((c, i) => {
      let total = 0;
      for (let g = 0; g < nGenes; g++) total += counts[c * nGenes + g]!;
      for (let g = 0; g < nGenes; g++) out[i * nGenes + g] = Math.log1p((counts[c * nGenes + g]! / Math.max(total, 1)) * librarySize);
    });
    return out;
  };
  const la = logNorm(groupA);
  const lb = logNorm(groupB);
  const p: number[] = [];
  const colA = new Float64Array(groupA.length);
  const colB = new Float64Array(groupB.length);
  for (let g = 0; g < nGenes; g++) {
    for (let i = 0; i < groupA.length; i++) colA[i] = la[i * nGenes + g]!;
    for (let i = 0; i < groupB.length; i++) colB[i] = lb[i * nGenes + g]!;
    p.push(wilcoxonRankSum(colA, colB).p);
  }
  const q = benjaminiHochberg(p);
  return { p, q, called: q.map((v) => v < fdr) };
}
