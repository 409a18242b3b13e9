import { Rng, fillNormal, tf, type CsrMatrix } from '@invae/core';
import { BenchInputError } from '../errors';
import { lanczosLargestMagnitude, symmetricEigen } from '../internal/linalg';
import { checkMatrix, dimsOf, isCsr, type Embedding } from '../internal/matrix';

function checkCsr(x: CsrMatrix, where: string): void {
  const { indptr, indices, data } = x;
  const [nRows, nCols] = Array.isArray(x.shape) && x.shape.length === 2 ? x.shape : [Number.NaN, Number.NaN];
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
export function logNormalize<T extends Embedding | CsrMatrix>(counts: T, targetSum = 1e4): T {
  if (isCsr(counts)) {
    checkCsr(counts, 'counts');
    const out = new Float64Array(counts.data.length);
    for (let i = 0; i < counts.shape[0]; i++) {
      let s = 0;
      for (let p = counts.indptr[i]!; p < counts.indptr[i + 1]!; p++) s += counts.data[p]!;
      const f = s > 0 ? targetSum / s : 0;
      for (let p = counts.indptr[i]!; p < counts.indptr[i + 1]!; p++) out[p] = Math.log1p(counts.data[p]! * f);
    }
    const { dtype: _stale, ...csr } = counts; // the values are no longer the input's dtype
    return { ...csr, data: out } as T;
  }
  const m = counts as Embedding;
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
  /** Power (subspace) iterations of the `randomized` method (default 7). */
  readonly nIter?: number;
  /** Extra random directions beyond `nComps` of the `randomized` method (default max(10, nComps)). */
  readonly oversampling?: number;
  /** Seed of the random starts (default 0). */
  readonly seed?: number;
  /** Rows per engine block (default 2048). */
  readonly blockRows?: number;
  /**
   * `gram`: exact eigenvectors of the smaller Gram matrix of the centred data — cells × cells X Xᵀ when
   * there are no more cells than features, else the feature covariance XᵀX — formed blockwise on the
   * engine, then Lanczos to convergence. Its cost grows as cells · features · min(cells, features).
   * `randomized`: subspace iteration on X. Default `auto`: `gram` when min(cells, features) ≤ 4096,
   * else `randomized`.
   */
  readonly method?: 'auto' | 'gram' | 'randomized';
}

/** Result of {@link pca}. */
export interface PcaResult {
  /** Cell coordinates (scores), cells × nComps, row-major: the unintegrated embedding. */
  readonly coordinates: Embedding;
  /** Principal axes (loadings), nComps × features, row-major, unit length. */
  readonly components: Float64Array;
  /** Variance explained by each component (s² / (n − 1)), decreasing. */
  readonly explainedVariance: Float64Array;
  /** explainedVariance / total variance of the centred data. */
  readonly explainedVarianceRatio: Float64Array;
  /** Feature means that were subtracted. */
  readonly mean: Float64Array;
}

/** Centred float32 rows at most this many entries in all are densified once and kept (512 MiB). */
const CACHE_ENTRIES = 1 << 27;

/** A block of consecutive centred rows, dense float32 row-major `rows × g`. */
interface RowBlock {
  readonly start: number;
  readonly rows: number;
  readonly data: Float32Array;
}

/**
 * The centred matrix X − 1μᵀ as dense float32 row blocks: CSR rows are densified and centred one block
 * at a time, and the blocks are kept when they fit in {@link CACHE_ENTRIES} (else rebuilt per pass).
 */
class CentredRows {
  private cache: RowBlock[] | null = null;

  constructor(
    private readonly x: Embedding | CsrMatrix,
    private readonly mean: Float64Array,
    private readonly blockRows: number,
  ) {
    if (this.n * this.g <= CACHE_ENTRIES) this.cache = [...this.build()];
  }

  get n(): number {
    return dimsOf(this.x)[0];
  }

  get g(): number {
    return dimsOf(this.x)[1];
  }

  blocks(): Iterable<RowBlock> {
    return this.cache ?? this.build();
  }

  private *build(): Generator<RowBlock> {
    const { x, mean, n, g } = this;
    const negMean = Float64Array.from(mean, (v) => -v);
    const buf = new Float64Array(g);
    for (let start = 0; start < n; start += this.blockRows) {
      const rows = Math.min(this.blockRows, n - start);
      const data = new Float32Array(rows * g);
      for (let r = 0; r < rows; r++) {
        const i = start + r;
        if (isCsr(x)) {
          buf.set(negMean);
          for (let p = x.indptr[i]!; p < x.indptr[i + 1]!; p++) buf[x.indices[p]!] += x.data[p]!;
        } else {
          for (let j = 0; j < g; j++) buf[j] = x.data[i * g + j]! - mean[j]!;
        }
        data.set(buf, r * g);
      }
      yield { start, rows, data };
    }
  }
}

/** Runs `f` on the engine and returns its (2-D) result as a float32 array, disposing every tensor. */
function onEngine(f: () => tf.Tensor): Float32Array {
  const t = tf.tidy(f);
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

/**
 * A dense symmetric f64 matrix (row-major `dim × dim`) as a Lanczos operator; the product sums each row
 * with four accumulators.
 */
function denseOperator(a: Float64Array, dim: number) {
  return {
    n: dim,
    apply(v: Float64Array, y: Float64Array) {
      for (let i = 0; i < dim; i++) {
        const o = i * dim;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let j = 0;
        for (; j + 3 < dim; j += 4) {
          s0 += a[o + j]! * v[j]!;
          s1 += a[o + j + 1]! * v[j + 1]!;
          s2 += a[o + j + 2]! * v[j + 2]!;
          s3 += a[o + j + 3]! * v[j + 3]!;
        }
        for (; j < dim; j++) s0 += a[o + j]! * v[j]!;
        y[i] = s0 + s1 + s2 + s3;
      }
    },
  };
}

/**
 * Cells × cells Gram matrix (X − μ)(X − μ)ᵀ in float64 from float32 engine products of row blocks.
 * Every product is a plain one with an explicitly transposed right operand (a transposed-operand
 * matMul is several times slower on the wasm engine).
 */
function cellGram(xc: CentredRows): Float64Array {
  const { n, g } = xc;
  const K = new Float64Array(n * n);
  const blocks = [...xc.blocks()];
  for (let bi = 0; bi < blocks.length; bi++) {
    const b = blocks[bi]!;
    const bt = tf.tidy(() => tf.transpose(tf.tensor2d(b.data, [b.rows, g])));
    try {
      for (let ai = 0; ai <= bi; ai++) {
        const a = blocks[ai]!;
        const p = onEngine(() => tf.matMul(tf.tensor2d(a.data, [a.rows, g]), bt));
        for (let i = 0; i < a.rows; i++) {
          for (let j = 0; j < b.rows; j++) {
            const v = ai === bi ? 0.5 * (p[i * b.rows + j]! + p[j * b.rows + i]!) : p[i * b.rows + j]!;
            K[(a.start + i) * n + b.start + j] = v;
            K[(b.start + j) * n + a.start + i] = v;
          }
        }
      }
    } finally {
      bt.dispose();
    }
  }
  return K;
}

/** Feature covariance (times n − 1) (X − μ)ᵀ(X − μ) in float64, accumulated from engine products of row blocks. */
function featureGram(xc: CentredRows): Float64Array {
  const g = xc.g;
  const C = new Float64Array(g * g);
  for (const b of xc.blocks()) {
    const p = onEngine(() => {
      const t = tf.tensor2d(b.data, [b.rows, g]);
      return tf.matMul(tf.transpose(t), t);
    });
    for (let t = 0; t < g * g; t++) C[t] += p[t]!;
  }
  for (let i = 0; i < g; i++) {
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (C[i * g + j]! + C[j * g + i]!);
      C[i * g + j] = v;
      C[j * g + i] = v;
    }
  }
  return C;
}

/** (X − μ) M for a float32 engine tensor M (g × m): the n × m product, float32 row-major. */
function timesRight(xc: CentredRows, M: tf.Tensor2D): Float32Array {
  const m = M.shape[1];
  const out = new Float32Array(xc.n * m);
  for (const b of xc.blocks()) out.set(onEngine(() => tf.matMul(tf.tensor2d(b.data, [b.rows, xc.g]), M)), b.start * m);
  return out;
}

/** Yᵀ(X − μ) for Y (n × m, row-major): the m × g product, accumulated in float64 over row blocks. */
function timesLeft(xc: CentredRows, Y: Float32Array | Float64Array, m: number): Float64Array {
  const g = xc.g;
  const out = new Float64Array(m * g);
  for (const b of xc.blocks()) {
    // Yᵀ of the block, transposed here (small) so the engine runs a plain product.
    const yt = new Float32Array(m * b.rows);
    for (let r = 0; r < b.rows; r++) for (let c = 0; c < m; c++) yt[c * b.rows + r] = Y[(b.start + r) * m + c]!;
    const p = onEngine(() => tf.matMul(tf.tensor2d(yt, [m, b.rows]), tf.tensor2d(b.data, [b.rows, g])));
    for (let t = 0; t < m * g; t++) out[t] += p[t]!;
  }
  return out;
}

/**
 * Inverse of the Cholesky factor of the symmetric positive semi-definite `m × m` matrix `G`, as the
 * upper-triangular T with Tᵀ G T ≈ I (row-major, float32). A pivot at or below `1e-10` of the largest
 * diagonal entry (a numerically dependent column) gets a zero column of T.
 */
function inverseCholesky(G: Float64Array, m: number): Float32Array {
  const L = new Float64Array(m * m);
  const alive = new Uint8Array(m);
  let maxDiag = 0;
  for (let i = 0; i < m; i++) maxDiag = Math.max(maxDiag, G[i * m + i]!);
  for (let j = 0; j < m; j++) {
    let d = G[j * m + j]!;
    for (let p = 0; p < j; p++) d -= L[j * m + p]! ** 2;
    if (!(d > 1e-10 * maxDiag)) continue; // column j of L stays 0
    alive[j] = 1;
    const ljj = Math.sqrt(d);
    L[j * m + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      let s = G[i * m + j]!;
      for (let p = 0; p < j; p++) s -= L[i * m + p]! * L[j * m + p]!;
      L[i * m + j] = s / ljj;
    }
  }
  // T = L⁻ᵀ restricted to the live pivots: solve Lᵀ T = I column by column (back substitution).
  const T = new Float32Array(m * m);
  const col = new Float64Array(m);
  for (let c = 0; c < m; c++) {
    if (!alive[c]) continue;
    col.fill(0);
    for (let i = c; i >= 0; i--) {
      if (!alive[i]) continue;
      let s = i === c ? 1 : 0;
      for (let p = i + 1; p <= c; p++) s -= L[p * m + i]! * col[p]!;
      col[i] = s / L[i * m + i]!;
    }
    for (let i = 0; i <= c; i++) T[i * m + c] = col[i]!;
  }
  return T;
}

/**
 * Orthonormalises the `m` columns of the row-major `len × m` matrix `y` (CholeskyQR2): twice, the
 * Gram matrix yᵀy is formed on the engine and y is multiplied by its inverse Cholesky factor (columns
 * that are numerically dependent on earlier ones become 0).
 */
function orthonormalizeOnEngine(y: Float32Array, len: number, m: number): Float32Array {
  let cur = y;
  for (let pass = 0; pass < 2; pass++) {
    const G = Float64Array.from(
      onEngine(() => {
        const t = tf.tensor2d(cur, [len, m]);
        return tf.matMul(tf.transpose(t), t);
      }),
    );
    for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) G[i * m + j] = G[j * m + i] = 0.5 * (G[i * m + j]! + G[j * m + i]!);
    const T = inverseCholesky(G, m);
    const prev = cur;
    cur = onEngine(() => tf.matMul(tf.tensor2d(prev, [len, m]), tf.tensor2d(T, [m, m])));
  }
  return cur;
}

/**
 * Centred PCA of the top `nComps` components (the unintegrated baseline for PCR comparison, on
 * log-normalised counts — see {@link logNormalize}). Products with the centred matrix run blockwise on
 * the tensor engine (rows are centred and CSR rows densified one block at a time, float32; the blocks
 * are kept between passes when they fit in 512 MiB). Method `gram` (default when cells or features
 * are at most 4096): the smaller of the Gram matrices — cells × cells (X − μ)(X − μ)ᵀ or the
 * covariance (X − μ)ᵀ(X − μ) — is accumulated in float64 from float32 engine products and its top
 * eigenvectors found by Lanczos to convergence (an exact solver, like scanpy's ARPACK, to the float32
 * accuracy of the products: about 1e-6 relative on the leading variances); with cell eigenvectors U
 * and singular values s the axes are Uᵀ(X − μ)/s, re-orthonormalised. Method `randomized`: subspace
 * iteration (Halko et al. 2011) with `nIter` power steps and `oversampling` extra directions. Mean
 * and total variance are exact (float64, from the input). Coordinates are always the projection
 * (X − μ)Vᵀ of the centred data on the axes.
 *
 * Sign convention: each component is flipped so that its loading of largest absolute value is
 * positive (scikit-learn ≥ 1.5's `svd_flip(u_based_decision=False)`); coordinates follow.
 */
export function pca(x: Embedding | CsrMatrix, nComps: number, options: PcaOptions = {}): PcaResult {
  if (isCsr(x)) checkCsr(x, 'X');
  else checkMatrix(x, 'X');
  const [n, g] = dimsOf(x);
  const maxComps = Math.min(n, g);
  if (!Number.isInteger(nComps) || nComps < 1 || nComps > maxComps) {
    throw new BenchInputError('nComps', `nComps must be an integer in [1, ${maxComps}] (min(cells, features)), got ${nComps}.`);
  }
  const method = options.method ?? 'auto';
  if (method !== 'auto' && method !== 'gram' && method !== 'randomized') {
    throw new BenchInputError('method', `Unknown PCA method '${String(method)}'.`, { hint: "Use 'auto', 'gram' or 'randomized'." });
  }
  const blockRows = options.blockRows ?? 2048;
  if (!Number.isInteger(blockRows) || blockRows < 1) throw new BenchInputError('blockRows', `blockRows must be a positive integer, got ${blockRows}.`);
  const rng = new Rng(options.seed ?? 0);

  // Exact float64 mean and total variance Σ(x − μ)², from the stored entries (a column's implicit
  // zeros contribute μ² each).
  const mean = new Float64Array(g);
  let totalVar = 0;
  if (isCsr(x)) {
    const nnz = new Float64Array(g);
    for (let p = 0; p < x.data.length; p++) mean[x.indices[p]!] += x.data[p]!;
    for (let j = 0; j < g; j++) mean[j] /= n;
    // Duplicate entries of a cell are summed first (they are one value of the dense matrix).
    const seen = new Float64Array(g);
    const stamp = new Int32Array(g).fill(-1);
    for (let i = 0; i < n; i++) {
      const lo = x.indptr[i]!;
      const hi = x.indptr[i + 1]!;
      for (let p = lo; p < hi; p++) {
        const j = x.indices[p]!;
        if (stamp[j] !== i) {
          stamp[j] = i;
          seen[j] = 0;
        }
        seen[j] += x.data[p]!;
      }
      for (let p = lo; p < hi; p++) {
        const j = x.indices[p]!;
        if (stamp[j] !== i) continue;
        stamp[j] = -2 - i; // counted once
        totalVar += (seen[j]! - mean[j]!) ** 2;
        nnz[j]++;
      }
    }
    for (let j = 0; j < g; j++) totalVar += (n - nnz[j]!) * mean[j]! ** 2;
  } else {
    for (let i = 0; i < n; i++) for (let j = 0; j < g; j++) mean[j] += x.data[i * g + j]!;
    for (let j = 0; j < g; j++) mean[j] /= n;
    for (let i = 0; i < n; i++) for (let j = 0; j < g; j++) totalVar += (x.data[i * g + j]! - mean[j]!) ** 2;
  }
  totalVar /= n - 1;

  const xc = new CentredRows(x, mean, blockRows);
  const k = nComps;

  /** Sign-fixes the axes, projects the centred data on them (coordinates) and packs the result. */
  const finish = (components: Float64Array, sumSquares: Float64Array): PcaResult => {
    for (let c = 0; c < k; c++) {
      let best = 0;
      for (let j = 1; j < g; j++) if (Math.abs(components[c * g + j]!) > Math.abs(components[c * g + best]!)) best = j;
      if (components[c * g + best]! < 0) for (let j = 0; j < g; j++) components[c * g + j] = -components[c * g + j]!;
    }
    const Vt = new Float32Array(g * k);
    for (let j = 0; j < g; j++) for (let c = 0; c < k; c++) Vt[j * k + c] = components[c * g + j]!;
    const V = tf.tensor2d(Vt, [g, k]);
    let proj: Float32Array;
    try {
      proj = timesRight(xc, V);
    } finally {
      V.dispose();
    }
    const explainedVariance = Float64Array.from(sumSquares, (v) => v / (n - 1));
    const explainedVarianceRatio = Float64Array.from(explainedVariance, (v) => (totalVar > 0 ? v / totalVar : 0));
    return { coordinates: { data: Float64Array.from(proj), nRows: n, nCols: k }, components, explainedVariance, explainedVarianceRatio, mean };
  };

  if (method === 'gram' || (method === 'auto' && maxComps <= 4096)) {
    if (n <= g) {
      // Cell Gram matrix K = U S² Uᵀ; axes V = Uᵀ(X − μ)/s.
      const K = cellGram(xc);
      const eig = lanczosLargestMagnitude(denseOperator(K, n), k, rng, 1e-12);
      const values = Float64Array.from(eig.values, (l) => Math.max(0, l));
      const U = eig.vectors; // n × k
      const comps = timesLeft(xc, U, k); // k × g
      // Uᵀ(X − μ) = S Vᵀ; directions of (numerically) zero variance are noise there, so the axes are
      // re-orthonormalised in order (a no-op up to float32 accuracy for the others).
      orthonormalizeAxes(comps, k, g, rng);
      return finish(comps, values);
    }
    const C = featureGram(xc);
    const eig = lanczosLargestMagnitude(denseOperator(C, g), k, rng, 1e-12);
    const comps = new Float64Array(k * g);
    for (let c = 0; c < k; c++) for (let j = 0; j < g; j++) comps[c * g + j] = eig.vectors[j * k + c]!;
    return finish(comps, Float64Array.from(eig.values, (l) => Math.max(0, l)));
  }

  const nIter = options.nIter ?? 7;
  const m = Math.min(maxComps, nComps + (options.oversampling ?? Math.max(10, nComps)));
  /** Zᵀ (g × m, columns = directions) → orthonormal Q = orth((X − μ) Zᵀ), n × m. */
  const rangeOf = (Zt: Float32Array): Float32Array => {
    const Zg = tf.tensor2d(Zt, [g, m]);
    try {
      return orthonormalizeOnEngine(timesRight(xc, Zg), n, m);
    } finally {
      Zg.dispose();
    }
  };
  let Q = rangeOf(Float32Array.from(fillNormal(rng, g * m)));
  for (let it = 0; it < nIter; it++) {
    const Z = timesLeft(xc, Q, m); // m × g: directions as rows
    const Zt = new Float32Array(g * m);
    for (let c = 0; c < m; c++) for (let j = 0; j < g; j++) Zt[j * m + c] = Z[c * g + j]!;
    Q = rangeOf(orthonormalizeOnEngine(Zt, g, m));
  }
  // B = Qᵀ(X − μ) (m × g); B Bᵀ = W S² Wᵀ; axes V = Wᵀ B / s.
  const B = timesLeft(xc, Q, m);
  const BBt = new Float64Array(m * m);
  for (let a = 0; a < m; a++) {
    for (let c = a; c < m; c++) {
      let acc = 0;
      for (let j = 0; j < g; j++) acc += B[a * g + j]! * B[c * g + j]!;
      BBt[a * m + c] = BBt[c * m + a] = acc;
    }
  }
  const { values, vectors: W } = symmetricEigen(BBt, m);
  const s = Float64Array.from({ length: k }, (_, c) => Math.sqrt(Math.max(0, values[c]!)));
  const components = new Float64Array(k * g);
  for (let c = 0; c < k; c++) {
    const out = components.subarray(c * g, (c + 1) * g);
    for (let a = 0; a < m; a++) {
      const w = W[a * m + c]!;
      if (w === 0) continue;
      const row = B.subarray(a * g, (a + 1) * g);
      for (let j = 0; j < g; j++) out[j]! += w * row[j]!;
    }
  }
  orthonormalizeAxes(components, k, g, rng);
  return finish(components, Float64Array.from(s, (v) => v * v));
}

/**
 * Orthonormalises the rows of the row-major `k × g` matrix `v` in order (modified Gram–Schmidt, twice);
 * a row that is (numerically) in the span of the earlier ones is replaced by a seeded unit vector
 * orthogonal to them.
 */
function orthonormalizeAxes(v: Float64Array, k: number, g: number, rng: Rng): void {
  for (let c = 0; c < k; c++) {
    const out = v.subarray(c * g, (c + 1) * g);
    let before = 0;
    for (let j = 0; j < g; j++) before += out[j]! ** 2;
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < c; p++) {
        const prev = v.subarray(p * g, (p + 1) * g);
        let dot = 0;
        for (let j = 0; j < g; j++) dot += out[j]! * prev[j]!;
        for (let j = 0; j < g; j++) out[j]! -= dot * prev[j]!;
      }
    }
    let nrm = 0;
    for (let j = 0; j < g; j++) nrm += out[j]! ** 2;
    if (nrm > 1e-12 * before && nrm > 0) {
      const f = 1 / Math.sqrt(nrm);
      for (let j = 0; j < g; j++) out[j]! *= f;
    } else fillUnitOrthogonal(v, c, g, rng);
  }
}

/** Row `c` of the row-major `rows × g` matrix `v` := a seeded unit vector orthogonal to rows 0 … c − 1. */
function fillUnitOrthogonal(v: Float64Array, c: number, g: number, rng: Rng): void {
  const out = v.subarray(c * g, (c + 1) * g);
  for (let attempt = 0; attempt < 10; attempt++) {
    for (let j = 0; j < g; j++) out[j] = rng.uniform() - 0.5;
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < c; p++) {
        let dot = 0;
        for (let j = 0; j < g; j++) dot += out[j]! * v[p * g + j]!;
        for (let j = 0; j < g; j++) out[j]! -= dot * v[p * g + j]!;
      }
    }
    let nrm = 0;
    for (let j = 0; j < g; j++) nrm += out[j]! ** 2;
    nrm = Math.sqrt(nrm);
    if (nrm > 1e-8) {
      for (let j = 0; j < g; j++) out[j]! /= nrm;
      return;
    }
  }
  out.fill(0);
}
