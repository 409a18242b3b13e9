import { BenchInputError } from '../errors';

/**
 * One-predictor local regression (loess) following Cleveland, Grosse and Shyu's netlib `dloess`, the
 * code behind R's `loess` and scikit-misc's `skmisc.loess.loess` (which scanpy's `seurat_v3` highly
 * variable genes call): at a point q the `nf = ⌊n·span + 1e-5⌋` nearest observations get tricube
 * weights (1 − (|x − q|/d)³)³, d the distance to the nf-th nearest, and a polynomial of `degree` in
 * (x − q) is fitted by weighted least squares (columns equilibrated, solved through the SVD of the
 * QR factor with singular values below 100·ε·σ₁ dropped, as `ehg127`).
 *
 * `surface: 'interpolate'` (the default of R and scikit-misc) fits only at the vertices of a k-d tree
 * (cells split at the median until they hold at most ⌊n·span·cell⌋ points, box widened by 0.5 %) and
 * evaluates elsewhere by cubic Hermite interpolation of the vertex values and slopes; `'direct'`
 * fits at every point (O(n²·span), exact local regression).
 */
export interface LoessOptions {
  /** Fraction of the points in each local fit (default 0.75, as R and scikit-misc; scanpy passes 0.3). */
  readonly span?: number;
  /** Degree of the local polynomial: 0, 1 or 2 (default 2). */
  readonly degree?: 0 | 1 | 2;
  /** `interpolate` (k-d tree + Hermite interpolation, default) or `direct`. */
  readonly surface?: 'interpolate' | 'direct';
  /** Cell size of the k-d tree as a fraction of span (default 0.2). */
  readonly cell?: number;
}

/** A fitted loess curve. */
export interface LoessFit {
  /** Fitted values at the input points, in input order. */
  readonly fitted: Float64Array;
  /** How the surface was computed. */
  readonly surface: 'interpolate' | 'direct';
  /** Points per local fit (nf). */
  readonly neighbors: number;
  /** Local fits that needed the pseudo-inverse (near-singular design), as dloess' warning counts them. */
  readonly singularFits: number;
  /** k-d tree vertices (interpolate only), ascending. */
  readonly vertices?: Float64Array;
  /** The curve at `z` (interpolate: inside the widened data range only). */
  predict(z: number): number;
}

const EPS = 2.220446049250313e-16;

/** Value and slope of one local polynomial fit. */
interface LocalFit {
  value: number;
  slope: number;
  singular: boolean;
}

/**
 * Local weighted polynomial fits at arbitrary points, on data sorted by x (neighbours are a window
 * of the sorted data found by expanding outwards from q).
 */
class LocalFitter {
  private readonly idx: Int32Array;
  private readonly b: Float64Array; // nf × k, column-major
  private readonly eta: Float64Array;
  private readonly k: number;

  constructor(
    private readonly sx: Float64Array,
    private readonly sy: Float64Array,
    private readonly nf: number,
    private readonly span: number,
    degree: number,
  ) {
    this.k = degree + 1;
    this.idx = new Int32Array(nf);
    this.b = new Float64Array(nf * this.k);
    this.eta = new Float64Array(nf);
  }

  fit(q: number): LocalFit {
    const { sx, sy, nf, k, idx, b, eta } = this;
    const n = sx.length;
    // The nf nearest points: a window around q's insertion position in the sorted x.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sx[mid]! < q) lo = mid + 1;
      else hi = mid;
    }
    let left = lo - 1;
    let right = lo;
    for (let t = 0; t < nf; t++) {
      if (right >= n || (left >= 0 && q - sx[left]! <= sx[right]! - q)) idx[t] = left--;
      else idx[t] = right++;
    }
    const dLast = sx[idx[nf - 1]!]! - q;
    const rho = dLast * dLast * Math.max(1, this.span);
    if (!(rho > 0)) {
      throw new BenchInputError('loess', `loess: the ${nf} points nearest to ${q} all have x = ${q}; the span is too small for these tied values.`, {
        hint: 'Increase the span, or drop tied predictor values.',
      });
    }
    let wMax = 0;
    for (let t = 0; t < nf; t++) {
      const i = idx[t]!;
      const dx = sx[i]! - q;
      const r = Math.sqrt((dx * dx) / rho);
      const w = Math.sqrt((1 - r * r * r) ** 3);
      wMax = Math.max(wMax, w);
      let p = w;
      for (let c = 0; c < k; c++) {
        b[c * nf + t] = p;
        p *= dx;
      }
      eta[t] = w * sy[i]!;
    }
    if (wMax === 0) throw new BenchInputError('loess', `loess: every neighbour of ${q} has zero weight.`, { hint: 'Increase the span.' });
    // Equilibrate columns.
    const colnor = new Float64Array(k);
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let t = 0; t < nf; t++) s += b[c * nf + t]! ** 2;
      s = Math.sqrt(s);
      colnor[c] = s > 0 ? s : 1;
      if (s > 0) for (let t = 0; t < nf; t++) b[c * nf + t] = b[c * nf + t]! / s;
    }
    // Householder QR: R (k × k, row-major) and the first k entries of Qᵀη.
    const R = new Float64Array(k * k);
    for (let c = 0; c < k; c++) {
      const col = c * nf;
      let norm = 0;
      for (let t = c; t < nf; t++) norm += b[col + t]! ** 2;
      norm = Math.sqrt(norm);
      if (norm === 0) continue;
      const alpha = b[col + c]! > 0 ? -norm : norm;
      const v0 = b[col + c]! - alpha;
      // v = (v0, b[c+1..]); H = I − 2 v vᵀ / (vᵀv), vᵀv = 2 norm (norm − |x0|) … computed directly.
      let vtv = v0 * v0;
      for (let t = c + 1; t < nf; t++) vtv += b[col + t]! ** 2;
      const apply = (arr: Float64Array, off: number) => {
        let s = v0 * arr[off + c]!;
        for (let t = c + 1; t < nf; t++) s += b[col + t]! * arr[off + t]!;
        const f = (2 * s) / vtv;
        arr[off + c] = arr[off + c]! - f * v0;
        for (let t = c + 1; t < nf; t++) arr[off + t] = arr[off + t]! - f * b[col + t]!;
      };
      for (let c2 = c + 1; c2 < k; c2++) apply(b, c2 * nf);
      apply(eta, 0);
      b[col + c] = alpha;
    }
    for (let i = 0; i < k; i++) for (let j = i; j < k; j++) R[i * k + j] = b[j * nf + i]!;
    const z = eta.subarray(0, k);
    // SVD of R by one-sided Jacobi: R V = U Σ.
    const { sigma, U, V } = smallSvd(R, k);
    const tol = sigma[0]! * 100 * EPS;
    const gamma = new Float64Array(k);
    let singular = false;
    for (let j = 0; j < k; j++) {
      if (sigma[j]! > tol) {
        let s = 0;
        for (let i = 0; i < k; i++) s += U[i * k + j]! * z[i]!;
        gamma[j] = s / sigma[j]!;
      } else singular = true;
    }
    const coef = new Float64Array(k);
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += V[c * k + j]! * gamma[j]!;
      coef[c] = s / colnor[c]!;
    }
    return { value: coef[0]!, slope: k >= 2 ? coef[1]! : 0, singular };
  }
}

/** SVD of a small square matrix A (k × k, row-major) by one-sided Jacobi; σ descending. */
function smallSvd(A: Float64Array, k: number): { sigma: Float64Array; U: Float64Array; V: Float64Array } {
  const a = Float64Array.from(A);
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < k - 1; p++) {
      for (let q = p + 1; q < k; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < k; i++) {
          const ap = a[i * k + p]!;
          const aq = a[i * k + q]!;
          alpha += ap * ap;
          beta += aq * aq;
          gamma += ap * aq;
        }
        if (gamma === 0 || Math.abs(gamma) <= EPS * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < k; i++) {
          const ap = a[i * k + p]!;
          const aq = a[i * k + q]!;
          a[i * k + p] = c * ap - s * aq;
          a[i * k + q] = s * ap + c * aq;
          const vp = v[i * k + p]!;
          const vq = v[i * k + q]!;
          v[i * k + p] = c * vp - s * vq;
          v[i * k + q] = s * vp + c * vq;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = Array.from({ length: k }, (_, j) => {
    let s = 0;
    for (let i = 0; i < k; i++) s += a[i * k + j]! ** 2;
    return Math.sqrt(s);
  });
  const order = norms.map((_, j) => j).sort((x, y) => norms[y]! - norms[x]!);
  const sigma = new Float64Array(k);
  const U = new Float64Array(k * k);
  const V = new Float64Array(k * k);
  order.forEach((j, r) => {
    sigma[r] = norms[j]!;
    for (let i = 0; i < k; i++) {
      U[i * k + r] = norms[j]! > 0 ? a[i * k + j]! / norms[j]! : 0;
      V[i * k + r] = v[i * k + j]!;
    }
  });
  return { sigma, U, V };
}

/** The k-d tree of dloess in one dimension (`ehg126`, `ehg124`, `ehg129`): vertices and cells. */
interface KdTree {
  /** Vertex coordinates in creation order. */
  vertices: number[];
  /** Per cell: split value (NaN for a leaf), children, and its two vertex indices. */
  split: number[];
  lo: number[];
  hi: number[];
  left: number[];
  right: number[];
}

function buildKdTree(sx: Float64Array, fc: number): KdTree {
  const n = sx.length;
  const nvmax = Math.max(200, n);
  const ncmax = nvmax;
  const alpha0 = sx[0]!;
  const beta0 = sx[n - 1]!;
  const mu = 0.005 * Math.max(beta0 - alpha0, 1e-10 * Math.max(Math.abs(alpha0), Math.abs(beta0)) + 1e-30);
  const tree: KdTree = { vertices: [alpha0 - mu, beta0 + mu], split: [NaN], lo: [-1], hi: [-1], left: [0], right: [1] };
  // Point ranges [pl, pu] (inclusive) of each cell in the sorted order.
  const pl = [0];
  const pu = [n - 1];
  for (let p = 0; p < tree.split.length; p++) {
    const l = pl[p]!;
    const u = pu[p]!;
    const vl = tree.vertices[tree.left[p]!]!;
    const vr = tree.vertices[tree.right[p]!]!;
    let leaf = u - l + 1 <= fc || vr - vl <= 0;
    if (!leaf) leaf = ncmax < tree.split.length + 2 || nvmax < tree.vertices.length + 1;
    let m = Math.floor((l + u) / 2);
    if (!leaf) {
      // Move the split off a run of ties: try offsets 0, 1, −1, 2, −2, … (all ties go with the upper son).
      let offset = 0;
      while (m + offset < u && m + offset >= l) {
        if (sx[m + offset]! === sx[m + offset + 1]!) {
          offset = -offset;
          if (offset >= 0) offset += 1;
        } else {
          m += offset;
          break;
        }
      }
      leaf = vl === sx[m]! || vr === sx[m]!;
    }
    if (leaf) continue;
    const xi = sx[m]!;
    tree.split[p] = xi;
    let vi = tree.vertices.indexOf(xi);
    if (vi < 0) {
      vi = tree.vertices.length;
      tree.vertices.push(xi);
    }
    const cl = tree.split.length;
    tree.split.push(NaN, NaN);
    tree.lo.push(-1, -1);
    tree.hi.push(-1, -1);
    tree.left.push(tree.left[p]!, vi);
    tree.right.push(vi, tree.right[p]!);
    pl.push(l, m + 1);
    pu.push(m, u);
    tree.lo[p] = cl;
    tree.hi[p] = cl + 1;
  }
  return tree;
}

/**
 * Fits a loess curve of `y` on `x` (see {@link LoessOptions}). Throws {@link BenchInputError} for
 * mismatched lengths, non-finite values, or a span too small for the degree (fewer points per local
 * fit than coefficients).
 */
export function loess(x: ArrayLike<number>, y: ArrayLike<number>, options: LoessOptions = {}): LoessFit {
  const span = options.span ?? 0.75;
  const degree = options.degree ?? 2;
  const surface = options.surface ?? 'interpolate';
  const cell = options.cell ?? 0.2;
  const n = x.length;
  if (y.length !== n) throw new BenchInputError('loess', `loess: x has ${n} values but y has ${y.length}.`);
  if (!(span > 0) || !Number.isFinite(span)) throw new BenchInputError('loess', `loess: span must be a positive number, got ${span}.`);
  if (degree !== 0 && degree !== 1 && degree !== 2) throw new BenchInputError('loess', `loess: degree must be 0, 1 or 2, got ${String(degree)}.`);
  if (surface !== 'interpolate' && surface !== 'direct') {
    throw new BenchInputError('loess', `loess: surface must be 'interpolate' or 'direct', got '${String(surface)}'.`);
  }
  if (!(cell > 0) || !Number.isFinite(cell)) throw new BenchInputError('loess', `loess: cell must be a positive number, got ${cell}.`);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i]!) || !Number.isFinite(y[i]!)) {
      throw new BenchInputError('loess', `loess: point ${i} is not finite (x = ${x[i]}, y = ${y[i]}).`, { hint: 'Drop points with NaN or infinite values first.' });
    }
  }
  const nf = Math.min(n, Math.floor(n * span + 1e-5));
  const k = degree + 1;
  if (nf <= 0 || k > nf - 1) {
    throw new BenchInputError('loess', `loess: span ${span} gives ${nf} points per local fit for ${n} points, too few for a degree-${degree} fit (needs more than ${k}).`, {
      hint: 'Use more points or a larger span.',
    });
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]! || a - b);
  const sx = Float64Array.from(order, (i) => x[i]!);
  const sy = Float64Array.from(order, (i) => y[i]!);
  const fitter = new LocalFitter(sx, sy, nf, span, degree);
  let singularFits = 0;
  const local = (q: number): LocalFit => {
    const r = fitter.fit(q);
    if (r.singular) singularFits++;
    return r;
  };
  const fitted = new Float64Array(n);

  if (surface === 'direct') {
    for (let i = 0; i < n; i++) fitted[i] = local(x[i]!).value;
    return { fitted, surface, neighbors: nf, singularFits, predict: (z: number) => fitter.fit(z).value };
  }

  const fc = Math.floor(n * (span * cell));
  const tree = buildKdTree(sx, fc);
  const nv = tree.vertices.length;
  const vValue = new Float64Array(nv);
  const vSlope = new Float64Array(nv);
  for (let v = 0; v < nv; v++) {
    const r = local(tree.vertices[v]!);
    vValue[v] = r.value;
    vSlope[v] = r.slope;
  }
  const predict = (z: number): number => {
    let p = 0;
    while (!Number.isNaN(tree.split[p]!)) p = z <= tree.split[p]! ? tree.lo[p]! : tree.hi[p]!;
    const a = tree.left[p]!;
    const b = tree.right[p]!;
    const v0 = tree.vertices[a]!;
    const v1 = tree.vertices[b]!;
    const width = v1 - v0;
    const h = (z - v0) / width;
    if (!(h >= -0.001 && h <= 1.001)) {
      throw new BenchInputError('loess', `loess: ${z} is outside the fitted range [${tree.vertices[0]}, ${tree.vertices[1]}].`, {
        hint: "The interpolated surface cannot extrapolate; use surface: 'direct'.",
      });
    }
    const phi0 = (1 - h) ** 2 * (1 + 2 * h);
    const phi1 = h * h * (3 - 2 * h);
    const psi0 = h * (1 - h) ** 2;
    const psi1 = h * h * (h - 1);
    return phi0 * vValue[a]! + phi1 * vValue[b]! + (psi0 * vSlope[a]! + psi1 * vSlope[b]!) * width;
  };
  for (let i = 0; i < n; i++) fitted[i] = predict(x[i]!);
  const vertices = Float64Array.from(tree.vertices).sort();
  return { fitted, surface, neighbors: nf, singularFits, vertices, predict };
}
