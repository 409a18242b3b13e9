import type { NeighborsResult } from './neighbors';

/** A symmetric sparse weighted graph on `n` points in CSR form (rows sorted by column). */
export interface FuzzyGraph {
  readonly n: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly weights: Float64Array;
}

/** Binary search stops when the summed membership is this close to its target (umap-learn's value). */
const SMOOTH_K_TOLERANCE = 1e-5;
/** Lower bound of a bandwidth, as a fraction of the mean neighbour distance (umap-learn's value). */
const MIN_K_DIST_SCALE = 1e-3;

/**
 * UMAP's per-point distance normalisation (McInnes et al. 2018, §3.1) with local connectivity 1:
 * ρᵢ is the distance to the nearest neighbour at a positive distance, and σᵢ is found by bisection
 * (at most 64 steps) so that Σⱼ exp(−max(0, dᵢⱼ − ρᵢ)/σᵢ) over the neighbours other than the point
 * itself (column 0) equals log₂(k). σᵢ is kept above 1e-3 of the mean neighbour distance.
 */
export function smoothKnnDistances(nn: NeighborsResult): { sigmas: Float64Array; rhos: Float64Array } {
  const { nObs: n, nNeighbors: k, distances } = nn;
  const target = Math.log2(k);
  const sigmas = new Float64Array(n);
  const rhos = new Float64Array(n);
  let meanAll = 0;
  for (let t = 0; t < n * k; t++) meanAll += distances[t]!;
  meanAll /= n * k;
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let rho = 0;
    let meanRow = 0;
    for (let j = 0; j < k; j++) {
      const d = distances[o + j]!;
      meanRow += d;
      if (rho === 0 && d > 0) rho = d; // distances are sorted: the first positive one
    }
    meanRow /= k;
    let lo = 0;
    let hi = Infinity;
    let mid = 1;
    for (let it = 0; it < 64; it++) {
      let psum = 0;
      for (let j = 1; j < k; j++) {
        const d = distances[o + j]! - rho;
        psum += d > 0 ? Math.exp(-d / mid) : 1;
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
    const floor = MIN_K_DIST_SCALE * (rho > 0 ? meanRow : meanAll);
    sigmas[i] = Math.max(mid, floor);
    rhos[i] = rho;
  }
  return { sigmas, rhos };
}

/**
 * UMAP's fuzzy simplicial set of a kNN graph (the point itself in column 0): directed memberships
 * wᵢⱼ = exp(−max(0, dᵢⱼ − ρᵢ)/σᵢ) (see {@link smoothKnnDistances}; 0 for the point itself, 1 at or
 * below ρᵢ), combined by the fuzzy union w + wᵀ − w∘wᵀ. Zero weights are dropped.
 */
export function fuzzySimplicialSet(nn: NeighborsResult): FuzzyGraph {
  const { nObs: n, nNeighbors: k, indices, distances } = nn;
  const { sigmas, rhos } = smoothKnnDistances(nn);
  // Directed memberships as CSR rows (k per point), then the transpose by a counting sort.
  const val = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const t = i * k + j;
      const nb = indices[t]!;
      if (nb === i || nb < 0) continue;
      const d = distances[t]! - rhos[i]!;
      val[t] = d <= 0 || sigmas[i] === 0 ? 1 : Math.exp(-d / sigmas[i]!);
    }
  }
  const tPtr = new Int32Array(n + 1);
  for (let t = 0; t < n * k; t++) if (val[t]! > 0) tPtr[indices[t]! + 1]++;
  for (let i = 0; i < n; i++) tPtr[i + 1] += tPtr[i]!;
  const tIdx = new Int32Array(tPtr[n]!);
  const tVal = new Float64Array(tPtr[n]!);
  const fill = tPtr.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const t = i * k + j;
      if (!(val[t]! > 0)) continue;
      const p = fill[indices[t]!]!++;
      tIdx[p] = i;
      tVal[p] = val[t]!;
    }
  }
  // Row i of the union: entries of row i of w and of wᵀ, merged through a dense scratch row.
  const slot = new Int32Array(n).fill(-1);
  const rowCols: number[] = [];
  const rowA = new Float64Array(n);
  const rowB = new Float64Array(n);
  const outPtr = new Int32Array(n + 1);
  let outIdx = new Int32Array(Math.max(16, 2 * tPtr[n]!));
  let outW = new Float64Array(outIdx.length);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    rowCols.length = 0;
    for (let j = 0; j < k; j++) {
      const t = i * k + j;
      if (!(val[t]! > 0)) continue;
      const c = indices[t]!;
      if (slot[c] !== i) {
        slot[c] = i;
        rowA[c] = 0;
        rowB[c] = 0;
        rowCols.push(c);
      }
      rowA[c] = val[t]!;
    }
    for (let p = tPtr[i]!; p < tPtr[i + 1]!; p++) {
      const c = tIdx[p]!;
      if (slot[c] !== i) {
        slot[c] = i;
        rowA[c] = 0;
        rowB[c] = 0;
        rowCols.push(c);
      }
      rowB[c] = tVal[p]!;
    }
    rowCols.sort((p, q) => p - q);
    if (nnz + rowCols.length > outIdx.length) {
      const grow = Math.max(2 * outIdx.length, nnz + rowCols.length);
      const ni = new Int32Array(grow);
      ni.set(outIdx);
      const nw = new Float64Array(grow);
      nw.set(outW);
      outIdx = ni;
      outW = nw;
    }
    for (const c of rowCols) {
      const a = rowA[c]!;
      const b = rowB[c]!;
      const w = a + b - a * b;
      if (w > 0) {
        outIdx[nnz] = c;
        outW[nnz] = w;
        nnz++;
      }
    }
    outPtr[i + 1] = nnz;
  }
  return { n, indptr: outPtr, indices: outIdx.slice(0, nnz), weights: outW.slice(0, nnz) };
}
