import { Rng, fillNormal, tf } from '@invae/core';
import { BenchInputError } from './errors';
import { lanczosLargestMagnitude, orthonormalizeColumns, symmetricEigen } from './linalg';
import { checkMatrix, type Matrix } from './matrix';

/** A sparse cells × genes count matrix in CSR form (as read from an .h5ad `X`). */
export interface CsrCounts {
  readonly nRows: number;
  readonly nCols: number;
  readonly indptr: ArrayLike<number>;
  readonly indices: ArrayLike<number>;
  readonly data: ArrayLike<number>;
}

function isCsr(x: Matrix | CsrCounts): x is CsrCounts {
  return (x as CsrCounts).indptr !== undefined;
}

function checkCsr(x: CsrCounts, where: string): void {
  const { nRows, nCols, indptr, indices, data } = x;
  if (!Number.isInteger(nRows) || !Number.isInteger(nCols) || nRows < 0 || nCols < 1 || indptr.length !== nRows + 1 || indices.length !== data.length || indptr[nRows] !== data.length) {
    throw new BenchInputError(where, `${where} is not a consistent CSR matrix (indptr length ${indptr.length}, ${data.length} values, shape ${nRows} × ${nCols}).`);
  }
  for (let p = 0; p < data.length; p++) {
    if (!Number.isFinite(data[p]!) || data[p]! < 0) {
      throw new BenchInputError(where, `${where} has an invalid count ${data[p]} (counts must be finite and non-negative).`);
    }
    if (!(indices[p]! >= 0 && indices[p]! < nCols)) throw new BenchInputError(where, `${where} has column index ${indices[p]} outside [0, ${nCols}).`);
  }
}

/**
 * scanpy's `normalize_total(target_sum=1e4)` followed by `log1p`: every cell's counts are scaled to sum
 * to 1e4 (cells with no counts stay 0), then x ↦ ln(1 + x). Returns a new matrix of the same kind.
 */
export function logNormalize<T extends Matrix | CsrCounts>(counts: T, targetSum = 1e4): T {
  if (isCsr(counts)) {
    checkCsr(counts, 'counts');
    const out = new Float64Array(counts.data.length);
    for (let i = 0; i < counts.nRows; i++) {
      let s = 0;
      for (let p = counts.indptr[i]!; p < counts.indptr[i + 1]!; p++) s += counts.data[p]!;
      const f = s > 0 ? targetSum / s : 0;
      for (let p = counts.indptr[i]!; p < counts.indptr[i + 1]!; p++) out[p] = Math.log1p(counts.data[p]! * f);
    }
    return { ...counts, data: out } as T;
  }
  const m = counts as Matrix;
  checkMatrix(m, 'counts');
  const out = new Float64Array(m.data.length);
  for (let i = 0; i < m.nRows; i++) {
    let s = 0;
    for (let j = 0; j < m.nCols; j++) {
      const v = m.data[i * m.nCols + j]!;
      if (v < 0) throw new BenchInputError('counts', `counts has a negative value at row ${i}, column ${j}.`);
      s += v;
    }
    const f = s > 0 ? targetSum / s : 0;
    for (let j = 0; j < m.nCols; j++) out[i * m.nCols + j] = Math.log1p(m.data[i * m.nCols + j]! * f);
  }
  return { data: out, nRows: m.nRows, nCols: m.nCols } as T;
}

/** Options of {@link pca}. */
export interface PcaOptions {
  /** Power (subspace) iterations (default 7). */
  readonly nIter?: number;
  /** Extra random directions beyond `nComps` (default max(10, nComps)). */
  readonly oversampling?: number;
  /** Seed of the random start (default 0). */
  readonly seed?: number;
  /** Rows per engine block (default 2048). */
  readonly blockRows?: number;
  /**
   * `gram`: eigenvectors of the feature covariance XᵀX (formed blockwise on the engine) by Lanczos to
   * convergence — accurate, for up to a few thousand features; `randomized`: subspace iteration on X.
   * Default `auto`: `gram` for ≤ 4096 features, else `randomized`.
   */
  readonly method?: 'auto' | 'gram' | 'randomized';
}

/** Result of {@link pca}. */
export interface PcaResult {
  /** Cell coordinates (scores), cells × nComps, row-major: the unintegrated embedding. */
  readonly coordinates: Matrix;
  /** Principal axes (loadings), nComps × features, row-major, unit length. */
  readonly components: Float64Array;
  /** Variance explained by each component (s² / (n − 1)), decreasing. */
  readonly explainedVariance: Float64Array;
  /** explainedVariance / total variance of the centred data. */
  readonly explainedVarianceRatio: Float64Array;
  /** Feature means that were subtracted. */
  readonly mean: Float64Array;
}

/** Iterates over dense float32 row blocks of `x` (densifying CSR rows on the fly). */
function* rowBlocks(x: Matrix | CsrCounts, blockRows: number, center?: Float64Array): Generator<{ start: number; rows: number; data: Float32Array }> {
  const g = x.nCols;
  for (let start = 0; start < x.nRows; start += blockRows) {
    const rows = Math.min(blockRows, x.nRows - start);
    const data = new Float32Array(rows * g);
    if (isCsr(x)) {
      for (let r = 0; r < rows; r++) for (let p = x.indptr[start + r]!; p < x.indptr[start + r + 1]!; p++) data[r * g + x.indices[p]!] += x.data[p]!;
    } else data.set(x.data.subarray(start * g, (start + rows) * g));
    if (center) for (let r = 0; r < rows; r++) for (let j = 0; j < g; j++) data[r * g + j] = data[r * g + j]! - center[j]!;
    yield { start, rows, data };
  }
}

/**
 * Centred PCA of the top `nComps` components (the unintegrated baseline for PCR comparison, on
 * log-normalised counts — see {@link logNormalize}). Products with the centred matrix run blockwise on
 * the tensor engine (rows are centred and CSR rows densified one block at a time, float32). Method
 * `gram` (default up to 4096 features): the covariance XᵀX is accumulated in float64 and its top
 * eigenvectors found by Lanczos to convergence (as exact as scanpy's ARPACK). Method `randomized`:
 * subspace iteration (Halko et al. 2011) with `nIter` power steps and `oversampling` extra directions.
 * Coordinates are always the projection (X − μ)Vᵀ of the centred data on the axes.
 *
 * Sign convention: each component is flipped so that its loading of largest absolute value is
 * positive (scikit-learn ≥ 1.5's `svd_flip(u_based_decision=False)`); coordinates follow.
 */
export function pca(x: Matrix | CsrCounts, nComps: number, options: PcaOptions = {}): PcaResult {
  if (isCsr(x)) checkCsr(x, 'X');
  else checkMatrix(x, 'X');
  const n = x.nRows;
  const g = x.nCols;
  const maxComps = Math.min(n, g);
  if (!Number.isInteger(nComps) || nComps < 1 || nComps > maxComps) {
    throw new BenchInputError('nComps', `nComps must be an integer in [1, ${maxComps}] (min(cells, features)), got ${nComps}.`);
  }
  const m = Math.min(maxComps, nComps + (options.oversampling ?? Math.max(10, nComps)));
  const nIter = options.nIter ?? 7;
  const blockRows = options.blockRows ?? 2048;
  const rng = new Rng(options.seed ?? 0);

  const mean = new Float64Array(g);
  for (const b of rowBlocks(x, blockRows)) for (let r = 0; r < b.rows; r++) for (let j = 0; j < g; j++) mean[j] += b.data[r * g + j]!;
  for (let j = 0; j < g; j++) mean[j] /= n;
  let totalVar = 0;
  for (const b of rowBlocks(x, blockRows, mean)) for (let t = 0; t < b.data.length; t++) totalVar += b.data[t]! ** 2;
  totalVar /= n - 1;

  /** (X − 1μᵀ) M for M g × m. */
  const times = (M: Float64Array): Float64Array => {
    const out = new Float64Array(n * m);
    const Mt = tf.tensor2d(Float32Array.from(M), [g, m]);
    try {
      for (const b of rowBlocks(x, blockRows, mean)) {
        const prod = tf.tidy(() => tf.matMul(tf.tensor2d(b.data, [b.rows, g]), Mt));
        const v = prod.dataSync();
        prod.dispose();
        for (let t = 0; t < b.rows * m; t++) out[b.start * m + t] = v[t]!;
      }
    } finally {
      Mt.dispose();
    }
    return out;
  };
  /** (X − 1μᵀ)ᵀ Y for Y n × m. */
  const timesT = (Y: Float64Array): Float64Array => {
    const out = new Float64Array(g * m);
    for (const b of rowBlocks(x, blockRows, mean)) {
      const yb = Float32Array.from(Y.subarray(b.start * m, (b.start + b.rows) * m));
      const prod = tf.tidy(() => tf.matMul(tf.tensor2d(b.data, [b.rows, g]), tf.tensor2d(yb, [b.rows, m]), true, false));
      const v = prod.dataSync();
      prod.dispose();
      for (let t = 0; t < g * m; t++) out[t] += v[t]!;
    }
    return out;
  };

  /** Sign-fixes the axes, projects the centred data on them (coordinates) and packs the result. */
  const finish = (components: Float64Array, sumSquares: Float64Array): PcaResult => {
    const k = nComps;
    for (let c = 0; c < k; c++) {
      let best = 0;
      for (let j = 1; j < g; j++) if (Math.abs(components[c * g + j]!) > Math.abs(components[c * g + best]!)) best = j;
      if (components[c * g + best]! < 0) for (let j = 0; j < g; j++) components[c * g + j] = -components[c * g + j]!;
    }
    // Coordinates = (X − μ) Vᵀ, through the engine; `times` works on g × m, so pad k → m columns.
    const Vt = new Float64Array(g * m);
    for (let j = 0; j < g; j++) for (let c = 0; c < k; c++) Vt[j * m + c] = components[c * g + j]!;
    const proj = times(Vt);
    const coords = new Float64Array(n * k);
    for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) coords[i * k + c] = proj[i * m + c]!;
    const explainedVariance = Float64Array.from(sumSquares, (v) => v / (n - 1));
    const explainedVarianceRatio = Float64Array.from(explainedVariance, (v) => v / totalVar);
    return { coordinates: { data: coords, nRows: n, nCols: k }, components, explainedVariance, explainedVarianceRatio, mean };
  };

  const method = options.method ?? 'auto';
  if (method !== 'auto' && method !== 'gram' && method !== 'randomized') {
    throw new BenchInputError('method', `Unknown PCA method '${String(method)}'.`, { hint: "Use 'auto', 'gram' or 'randomized'." });
  }
  if (method === 'gram' || (method === 'auto' && g <= 4096)) {
    // Covariance (times n − 1) in float64, accumulated from float32 engine products of centred blocks.
    const cov = new Float64Array(g * g);
    for (const b of rowBlocks(x, blockRows, mean)) {
      const prod = tf.tidy(() => {
        const t = tf.tensor2d(b.data, [b.rows, g]);
        return tf.matMul(t, t, true, false);
      });
      const v = prod.dataSync();
      prod.dispose();
      for (let t = 0; t < g * g; t++) cov[t] += v[t]!;
    }
    const op = {
      n: g,
      apply(v: Float64Array, y: Float64Array) {
        for (let i = 0; i < g; i++) {
          let acc = 0;
          for (let j = 0; j < g; j++) acc += cov[i * g + j]! * v[j]!;
          y[i] = acc;
        }
      },
    };
    const eig = lanczosLargestMagnitude(op, nComps, rng, 1e-12);
    const V = new Float64Array(g * nComps); // g × k
    V.set(eig.vectors);
    const comps = new Float64Array(nComps * g);
    for (let c = 0; c < nComps; c++) for (let j = 0; j < g; j++) comps[c * g + j] = V[j * nComps + c]!;
    return finish(comps, Float64Array.from(eig.values, (l) => Math.max(0, l)));
  }

  const omega = Float64Array.from(fillNormal(rng, g * m));
  let Q = times(omega);
  orthonormalizeColumns(Q, n, m);
  for (let it = 0; it < nIter; it++) {
    const Z = timesT(Q);
    orthonormalizeColumns(Z, g, m);
    Q = times(Z);
    orthonormalizeColumns(Q, n, m);
  }
  // B = Qᵀ A (m × g) = (Aᵀ Q)ᵀ; B Bᵀ = U S² Uᵀ.
  const Bt = timesT(Q); // g × m
  const BBt = new Float64Array(m * m);
  for (let j = 0; j < g; j++) for (let a = 0; a < m; a++) {
    const v = Bt[j * m + a]!;
    if (v === 0) continue;
    for (let c = 0; c < m; c++) BBt[a * m + c] += v * Bt[j * m + c]!;
  }
  const { values, vectors: U } = symmetricEigen(BBt, m);
  const k = nComps;
  const s = Float64Array.from({ length: k }, (_, c) => Math.sqrt(Math.max(0, values[c]!)));
  // Components V_c = Bᵀ U_c / s_c (g-vectors).
  const components = new Float64Array(k * g);
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < g; j++) {
      let acc = 0;
      for (let a = 0; a < m; a++) acc += Bt[j * m + a]! * U[a * m + c]!;
      components[c * g + j] = s[c]! > 0 ? acc / s[c]! : 0;
    }
  }
  return finish(components, Float64Array.from(s, (v) => v * v));
}
