import { BenchInputError } from '../errors';
import { linearSumAssignment } from '../internal/hungarian';
import { checkMatrix, type Embedding } from '../internal/matrix';
import { symmetricEigen } from '../internal/linalg';

/** Correlation used by {@link meanCorrelationCoefficient}. */
export type CorrelationMethod = 'pearson' | 'spearman';

/** Ranks of `v` (1-based, ties get their average rank), as `scipy.stats.rankdata`. */
export function rankData(v: ArrayLike<number>): Float64Array {
  const n = v.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => v[a]! - v[b]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && v[order[j + 1]!] === v[order[i]!]) j++;
    const r = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t]!] = r;
    i = j + 1;
  }
  return ranks;
}

function column(m: Embedding, c: number): Float64Array {
  const out = new Float64Array(m.nRows);
  for (let i = 0; i < m.nRows; i++) out[i] = m.data[i * m.nCols + c]!;
  return out;
}

function pearson(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma;
    const y = b[i]! - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return sab / Math.sqrt(saa * sbb);
}

function checkPair(truth: Embedding, estimate: Embedding): void {
  checkMatrix(truth, 'trueLatents');
  checkMatrix(estimate, 'estimatedLatents', truth.nRows);
  if (truth.nRows < 2) throw new BenchInputError('trueLatents', 'At least 2 cells are needed to correlate latents.');
}

/**
 * Mean correlation coefficient (MCC) between true and estimated latents, as inVAE's simulations
 * report it (`mcc` in its `_simulation.py`): the |correlation| matrix between every true and every
 * estimated dimension (Pearson, or Spearman = Pearson of average ranks), a maximum-weight one-to-one
 * matching (Hungarian algorithm), and the mean of the matched |correlations| (min(d_true, d_est) pairs).
 * A constant dimension has correlation NaN, which propagates (as numpy's corrcoef).
 */
export function meanCorrelationCoefficient(trueLatents: Embedding, estimatedLatents: Embedding, method: CorrelationMethod = 'pearson'): number {
  checkPair(trueLatents, estimatedLatents);
  if (method !== 'pearson' && method !== 'spearman') {
    throw new BenchInputError('method', `Unknown correlation method '${String(method)}'.`, { hint: "Use 'pearson' or 'spearman'." });
  }
  const prep = (m: Embedding, c: number) => (method === 'spearman' ? rankData(column(m, c)) : column(m, c));
  const a = Array.from({ length: trueLatents.nCols }, (_, c) => prep(trueLatents, c));
  const b = Array.from({ length: estimatedLatents.nCols }, (_, c) => prep(estimatedLatents, c));
  const cc = new Float64Array(a.length * b.length);
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) cc[i * b.length + j] = Math.abs(pearson(a[i]!, b[j]!));
  if (cc.some(Number.isNaN)) return NaN;
  const { rows, cols } = linearSumAssignment(
    cc.map((v) => -v),
    a.length,
    b.length,
  );
  let s = 0;
  for (let t = 0; t < rows.length; t++) s += cc[rows[t]! * b.length + cols[t]!]!;
  return s / rows.length;
}

/**
 * Linear identifiability score as inVAE's `get_linear_score(gt_latent, latent)`: ordinary least squares
 * (with intercept) of every estimated dimension on the true latents, and the R² averaged uniformly over
 * the estimated dimensions (`sklearn.linear_model.LinearRegression().score`). A constant estimated
 * dimension scores 1 if fitted exactly, else 0 (scikit-learn's convention).
 */
export function linearR2(trueLatents: Embedding, estimatedLatents: Embedding): number {
  checkPair(trueLatents, estimatedLatents);
  const n = trueLatents.nRows;
  const p = trueLatents.nCols;
  const q = estimatedLatents.nCols;
  const mx = new Float64Array(p);
  const my = new Float64Array(q);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < p; a++) mx[a] += trueLatents.data[i * p + a]!;
    for (let b = 0; b < q; b++) my[b] += estimatedLatents.data[i * q + b]!;
  }
  for (let a = 0; a < p; a++) mx[a] /= n;
  for (let b = 0; b < q; b++) my[b] /= n;
  const sxx = new Float64Array(p * p);
  const sxy = new Float64Array(p * q);
  const syy = new Float64Array(q);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < p; a++) {
      const xa = trueLatents.data[i * p + a]! - mx[a]!;
      for (let c = 0; c < p; c++) sxx[a * p + c] += xa * (trueLatents.data[i * p + c]! - mx[c]!);
      for (let b = 0; b < q; b++) sxy[a * q + b] += xa * (estimatedLatents.data[i * q + b]! - my[b]!);
    }
    for (let b = 0; b < q; b++) syy[b] += (estimatedLatents.data[i * q + b]! - my[b]!) ** 2;
  }
  // Explained sum of squares per output: sxyᵀ Sxx⁺ sxy (pseudo-inverse: rank-deficient designs are fine).
  const { values, vectors } = symmetricEigen(sxx, p);
  const cut = Math.max(values[0]!, 0) * p * Number.EPSILON * 10;
  let total = 0;
  for (let b = 0; b < q; b++) {
    let ess = 0;
    for (let e = 0; e < p; e++) {
      if (!(values[e]! > cut)) continue;
      let proj = 0;
      for (let a = 0; a < p; a++) proj += vectors[a * p + e]! * sxy[a * q + b]!;
      ess += (proj * proj) / values[e]!;
    }
    const rss = Math.max(0, syy[b]! - ess);
    total += syy[b]! === 0 ? (rss === 0 ? 1 : 0) : 1 - rss / syy[b]!;
  }
  return total / q;
}
