import { Rng } from '@invae/core';
import { BenchInputError } from '../errors';
import { checkMatrix, type Embedding } from './matrix';

/** Options of {@link kmeans}. */
export interface KMeansOptions {
  /** Seed of the k-means++ initialisation (default 0, as scib-metrics' `seed=0`). */
  readonly seed?: number;
  /** Maximum Lloyd iterations (default 300). */
  readonly maxIter?: number;
}

/** Result of {@link kmeans}. */
export interface KMeansResult {
  /** Cluster of every cell, 0 … k − 1. */
  readonly labels: Int32Array;
  /** Centroids, k × dimensions, row-major, in the input's coordinates. */
  readonly centroids: Float64Array;
  /** Sum of squared distances of the cells to their centroid. */
  readonly inertia: number;
  /** Lloyd iterations run. */
  readonly iterations: number;
}

/** Draws an index with probability proportional to `w` (which sums to `total` > 0). */
function drawWeighted(rng: Rng, w: Float64Array, total: number): number {
  let u = rng.uniform() * total;
  for (let i = 0; i < w.length; i++) {
    u -= w[i]!;
    if (u < 0) return i;
  }
  for (let i = w.length - 1; i >= 0; i--) if (w[i]! > 0) return i;
  return w.length - 1;
}

/**
 * k-means as scib-metrics' `utils.KMeans` (one run, `init='k-means++'`): the data are centred,
 * centroids are seeded by greedy k-means++ (first centre uniform; each next centre the best, by total
 * potential, of `2 + ⌊ln k⌋` candidates drawn ∝ squared distance to the nearest chosen centre), then
 * Lloyd iterations run until the assignment no longer changes (a fixed point, which is where
 * scib-metrics' 300-iteration loop ends too) or `maxIter`. An empty cluster's centroid becomes the
 * origin of the centred data (scib-metrics clips its count to 1 over a zero sum).
 *
 * Randomness: scib-metrics draws with JAX's PRNG (key 0); here the draws come from
 * `@invae/core`'s seeded `Rng(seed)`, so clusterings are reproducible but not bit-identical to JAX's.
 */
export function kmeans(x: Embedding, k: number, options: KMeansOptions = {}): KMeansResult {
  checkMatrix(x, 'embedding');
  const n = x.nRows;
  const d = x.nCols;
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new BenchInputError('k', `Cannot form ${k} clusters from ${n} cells.`, { hint: `k must be an integer in [1, ${n}].` });
  }
  const maxIter = options.maxIter ?? 300;
  const rng = new Rng(options.seed ?? 0);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x.data[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j] /= n;
  const X = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) X[i * d + j] = x.data[i * d + j]! - mean[j]!;

  const sqDist = (i: number, c: Float64Array, co: number): number => {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = X[i * d + j]! - c[co + j]!;
      s += t * t;
    }
    return s;
  };

  // k-means++ (greedy, as scikit-learn and scib-metrics).
  const C = new Float64Array(k * d);
  const first = rng.int(n);
  C.set(X.subarray(first * d, first * d + d), 0);
  let minD: Float64Array = new Float64Array(n);
  for (let i = 0; i < n; i++) minD[i] = sqDist(i, X, first * d);
  const trials = 2 + Math.floor(Math.log(k));
  const candD = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += minD[i]!;
    let bestPot = Infinity;
    let best = -1;
    let bestD: Float64Array | null = null;
    const chosen = new Set<number>();
    for (let t = 0; t < trials; t++) {
      // Without replacement, as scib-metrics; all-zero potential (duplicates) falls back to uniform.
      let cand: number;
      if (total > 0) {
        const w = Float64Array.from(minD);
        let tw = total;
        for (const j of chosen) {
          tw -= w[j]!;
          w[j] = 0;
        }
        cand = tw > 0 ? drawWeighted(rng, w, tw) : rng.int(n);
      } else cand = rng.int(n);
      chosen.add(cand);
      let pot = 0;
      for (let i = 0; i < n; i++) {
        const v = Math.min(minD[i]!, sqDist(i, X, cand * d));
        candD[i] = v;
        pot += v;
      }
      if (pot < bestPot) {
        bestPot = pot;
        best = cand;
        bestD = Float64Array.from(candD);
      }
    }
    C.set(X.subarray(best * d, best * d + d), c * d);
    minD = bestD!;
  }

  // Lloyd iterations.
  const labels = new Int32Array(n).fill(-1);
  const sums = new Float64Array(k * d);
  const counts = new Int32Array(k);
  let iterations = 0;
  for (let it = 0; it < maxIter; it++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let bestC = 0;
      let bestV = Infinity;
      for (let c = 0; c < k; c++) {
        const v = sqDist(i, C, c * d);
        if (v < bestV) {
          bestV = v;
          bestC = c;
        }
      }
      if (labels[i] !== bestC) {
        labels[i] = bestC;
        changed++;
      }
    }
    if (changed === 0) break;
    iterations++;
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = labels[i]!;
      counts[c]!++;
      for (let j = 0; j < d; j++) sums[c * d + j] += X[i * d + j]!;
    }
    for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) C[c * d + j] = sums[c * d + j]! / Math.max(1, counts[c]!);
  }
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += sqDist(i, C, labels[i]! * d);
  const centroids = new Float64Array(k * d);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) centroids[c * d + j] = C[c * d + j]! + mean[j]!;
  return { labels, centroids, inertia, iterations };
}
