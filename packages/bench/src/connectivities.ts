import type { NeighborsResult } from './neighbors';

/** A sparse square matrix in CSR form (sorted column indices per row). */
export interface CsrMatrix {
  readonly n: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly data: Float64Array;
}

const SMOOTH_K_TOLERANCE = 1e-5;
const MIN_K_DIST_SCALE = 1e-3;

/**
 * UMAP's `smooth_knn_dist` (local_connectivity 1, bandwidth 1, 64 bisection steps): per cell the
 * distance `rho` to its nearest non-identical neighbour and the scale `sigma` with
 * Σ_{j≥1} exp(−max(0, d_j − rho)/sigma) = log2(k).
 */
function smoothKnnDist(nn: NeighborsResult): { sigmas: Float64Array; rhos: Float64Array } {
  const { nObs: n, nNeighbors: k, distances } = nn;
  const target = Math.log2(k);
  const sigmas = new Float64Array(n);
  const rhos = new Float64Array(n);
  let meanAll = 0;
  for (let t = 0; t < distances.length; t++) meanAll += distances[t]!;
  meanAll /= distances.length;
  for (let i = 0; i < n; i++) {
    const row = distances.subarray(i * k, (i + 1) * k);
    let rho = 0;
    let maxNz = 0;
    let found = false;
    for (let j = 0; j < k; j++) {
      if (row[j]! > 0) {
        if (!found) {
          rho = row[j]!;
          found = true;
        }
        maxNz = Math.max(maxNz, row[j]!);
      }
    }
    if (!found) rho = 0;
    let lo = 0;
    let hi = Infinity;
    let mid = 1;
    for (let it = 0; it < 64; it++) {
      let psum = 0;
      for (let j = 1; j < k; j++) {
        const d = row[j]! - rho;
        psum += d > 0 ? Math.exp(-(d / mid)) : 1;
      }
      if (Math.abs(psum - target) < SMOOTH_K_TOLERANCE) break;
      if (psum > target) {
        hi = mid;
        mid = (lo + hi) / 2;
      } else {
        lo = mid;
        mid = hi === Infinity ? mid * 2 : (lo + hi) / 2;
      }
    }
    let sigma = mid;
    if (rho > 0) {
      let meanRow = 0;
      for (let j = 0; j < k; j++) meanRow += row[j]!;
      meanRow /= k;
      if (sigma < MIN_K_DIST_SCALE * meanRow) sigma = MIN_K_DIST_SCALE * meanRow;
    } else if (sigma < MIN_K_DIST_SCALE * meanAll) sigma = MIN_K_DIST_SCALE * meanAll;
    sigmas[i] = sigma;
    rhos[i] = rho;
    void maxNz;
  }
  return { sigmas, rhos };
}

/**
 * kNN connectivities as UMAP's `fuzzy_simplicial_set` (used by scanpy and scib-metrics'
 * `knn_graph_connectivities`): directed memberships w_ij = exp(−max(0, d_ij − rho_i)/sigma_i)
 * (1 when d_ij ≤ rho_i, 0 for self), symmetrised by the fuzzy union W + Wᵀ − W∘Wᵀ.
 */
export function umapConnectivities(nn: NeighborsResult): CsrMatrix {
  const { nObs: n, nNeighbors: k } = nn;
  const { sigmas, rhos } = smoothKnnDist(nn);
  const rows: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const c = nn.indices[i * k + j]!;
      if (c === i || c < 0) continue;
      const d = nn.distances[i * k + j]!;
      const v = d - rhos[i]! <= 0 || sigmas[i] === 0 ? 1 : Math.exp(-((d - rhos[i]!) / sigmas[i]!));
      if (v !== 0) rows[i]!.set(c, v);
    }
  }
  const sym: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  for (let i = 0; i < n; i++) {
    for (const [c, v] of rows[i]!) {
      const t = rows[c]!.get(i) ?? 0;
      const val = v + t - v * t;
      sym[i]!.set(c, val);
      sym[c]!.set(i, val);
    }
  }
  const indptr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) indptr[i + 1] = indptr[i]! + sym[i]!.size;
  const indices = new Int32Array(indptr[n]!);
  const data = new Float64Array(indptr[n]!);
  for (let i = 0; i < n; i++) {
    const entries = [...sym[i]!.entries()].sort((a, b) => a[0] - b[0]);
    entries.forEach(([c, v], t) => {
      indices[indptr[i]! + t] = c;
      data[indptr[i]! + t] = v;
    });
  }
  return { n, indptr, indices, data };
}

/** The submatrix of `g` on the nodes `idx` (in that order). */
export function subgraph(g: CsrMatrix, idx: ArrayLike<number>): CsrMatrix {
  const local = new Map<number, number>();
  for (let t = 0; t < idx.length; t++) local.set(idx[t]!, t);
  const ip: number[] = [0];
  const ind: number[] = [];
  const dat: number[] = [];
  for (let t = 0; t < idx.length; t++) {
    const i = idx[t]!;
    const entries: [number, number][] = [];
    for (let p = g.indptr[i]!; p < g.indptr[i + 1]!; p++) {
      const c = local.get(g.indices[p]!);
      if (c !== undefined) entries.push([c, g.data[p]!]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    for (const [c, v] of entries) {
      ind.push(c);
      dat.push(v);
    }
    ip.push(ind.length);
  }
  return { n: idx.length, indptr: Int32Array.from(ip), indices: Int32Array.from(ind), data: Float64Array.from(dat) };
}
