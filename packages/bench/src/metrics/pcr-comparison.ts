import { encodeCategorical, type Categorical } from '../internal/categories';
import { checkMatrix, type Embedding } from '../internal/matrix';

/**
 * scib-metrics `principal_component_regression` with a categorical covariate and all principal
 * components (its defaults as the Benchmarker calls it): Σ_k R²_k·Var_k / Σ_k Var_k, where R²_k is the
 * R² of regressing PC k on the centred one-hot covariate. With every component kept this equals the
 * between-batch share of the total variance of `x` (an orthogonal rotation preserves both sums), which
 * is what is computed here: Σ_j Σ_b n_b (x̄_bj − x̄_j)² / Σ_j Σ_i (x_ij − x̄_j)². NaN for constant `x`.
 */
export function principalComponentRegression(x: Embedding, covariate: Categorical): number {
  checkMatrix(x, 'X');
  const enc = encodeCategorical(covariate, 'covariate', x.nRows);
  const n = x.nRows;
  const d = x.nCols;
  const B = enc.counts.length;
  const mean = new Float64Array(d);
  const groupSum = new Float64Array(B * d);
  for (let i = 0; i < n; i++) {
    const b = enc.codes[i]!;
    for (let j = 0; j < d; j++) {
      const v = x.data[i * d + j]!;
      mean[j] += v;
      groupSum[b * d + j] += v;
    }
  }
  for (let j = 0; j < d; j++) mean[j] /= n;
  let total = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) total += (x.data[i * d + j]! - mean[j]!) ** 2;
  let between = 0;
  for (let b = 0; b < B; b++) {
    const nb = enc.counts[b]!;
    for (let j = 0; j < d; j++) between += nb * (groupSum[b * d + j]! / nb - mean[j]!) ** 2;
  }
  return between / total;
}

/**
 * scib-metrics `pcr_comparison`: how much of the batch's variance contribution integration removed.
 * Scaled (default): (pcr_pre − pcr_post) / pcr_pre, set to 0 when negative (variance contribution grew).
 * Unscaled: pcr_post − pcr_pre. `xPre` is the unintegrated embedding (PCA of the log-normalised
 * counts, see `pca`). Higher is better (batch correction).
 */
export function pcrComparison(xPre: Embedding, xPost: Embedding, covariate: Categorical, options: { scale?: boolean } = {}): number {
  checkMatrix(xPre, 'X_pre');
  checkMatrix(xPost, 'X_post', xPre.nRows);
  const pre = principalComponentRegression(xPre, covariate);
  const post = principalComponentRegression(xPost, covariate);
  if (options.scale === false) return post - pre;
  const r = (pre - post) / pre;
  return r < 0 ? 0 : r;
}
