import { encodeCategorical, type Categorical } from '../internal/categories';
import { scanDistances, type DistanceMetric } from './distances';
import { BenchInputError } from '../errors';
import { checkMatrix, type Embedding } from '../internal/matrix';

/**
 * How the "other cluster" distance b(i) of a silhouette is formed (scib-metrics'
 * `between_cluster_distances`): `nearest` = mean distance to the nearest other cluster (the classic
 * silhouette); `mean_other` = mean distance to all cells of other clusters; `furthest` = mean distance
 * to the furthest other cluster (the last two are BRAS variants).
 */
export type BetweenClusterDistances = 'nearest' | 'mean_other' | 'furthest';

/** Options of {@link silhouetteSamples}. */
export interface SilhouetteOptions {
  /** Distance (default `euclidean`). */
  readonly metric?: DistanceMetric;
  /** Between-cluster distance (default `nearest`). */
  readonly betweenClusterDistances?: BetweenClusterDistances;
  /** Side of the square distance tiles formed on the engine (default 2048). */
  readonly blockRows?: number;
}

/**
 * Silhouette coefficient of every cell (scib-metrics `utils.silhouette_samples`, which implements
 * `sklearn.metrics.silhouette_samples`): `s(i) = (b(i) − a(i)) / max(a(i), b(i))` with `a(i)` the mean
 * distance to the other cells of its cluster and `b(i)` as chosen by `betweenClusterDistances`.
 * Cells of singleton clusters, and 0/0 cases, get 0 (scib-metrics' `nan_to_num`).
 *
 * Distances are formed tile by tile on the tensor engine (each unordered pair once) and summed per
 * cluster in float64 (see `scanDistances`), so memory stays O(tile² + cells × clusters). Call
 * `initEngine` first.
 */
export function silhouetteSamples(x: Embedding, clusters: Categorical, options: SilhouetteOptions = {}): Float64Array {
  checkMatrix(x, 'embedding');
  const enc = encodeCategorical(clusters, 'labels', x.nRows);
  return silhouetteSamplesCoded(x, enc.codes, enc.counts.length, options);
}

/** {@link silhouetteSamples} on already encoded clusters (codes in 0 … nClusters − 1, all present). */
export function silhouetteSamplesCoded(x: Embedding, codes: Int32Array, nClusters: number, options: SilhouetteOptions = {}): Float64Array {
  const metric = options.metric ?? 'euclidean';
  const between = options.betweenClusterDistances ?? 'nearest';
  if (metric !== 'euclidean' && metric !== 'cosine') {
    throw new BenchInputError('metric', `Unknown distance metric '${String(metric)}'.`, { hint: "Use 'euclidean' or 'cosine'." });
  }
  if (between !== 'nearest' && between !== 'mean_other' && between !== 'furthest') {
    throw new BenchInputError('betweenClusterDistances', `Unknown between-cluster distance '${String(between)}'.`, {
      hint: "Use 'nearest', 'mean_other' or 'furthest'.",
    });
  }
  const n = x.nRows;
  if (n === 0) return new Float64Array(0);
  const { clusterSums } = scanDistances(x, { metric, clusters: { codes, count: nClusters }, blockRows: options.blockRows });
  return silhouetteFromSums(clusterSums!, codes, nClusters, between);
}

/**
 * Silhouettes from per-cell distance sums to every cluster (n × nClusters, self excluded), as
 * scib-metrics' `_silhouette_reduce` followed by `silhouette_samples`. With `rows`, the sums are
 * of those cells only (row t is cell rows[t]; `codes` still describes all n cells).
 */
export function silhouetteFromSums(sums: Float64Array, codes: Int32Array, nClusters: number, between: BetweenClusterDistances = 'nearest', rows?: Int32Array): Float64Array {
  const n = codes.length;
  const L = nClusters;
  const freqs = new Float64Array(L);
  for (let i = 0; i < n; i++) freqs[codes[i]!]++;
  const m = rows ? rows.length : n;
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const own = codes[rows ? rows[i]! : i]!;
    const rowSums = sums.subarray(i * L, (i + 1) * L);
    const a = rowSums[own]! / (freqs[own]! - 1);
    let b: number;
    if (between === 'mean_other') {
      let tot = 0;
      for (let c = 0; c < L; c++) if (c !== own) tot += rowSums[c]!;
      b = tot / (n - freqs[own]!);
    } else {
      b = between === 'nearest' ? Infinity : -Infinity;
      for (let c = 0; c < L; c++) {
        if (c === own) continue;
        const v = rowSums[c]! / freqs[c]!;
        b = between === 'nearest' ? Math.min(b, v) : Math.max(b, v);
      }
    }
    const s = (b - a) / Math.max(a, b);
    // nan_to_num: NaN → 0, ±inf → ±largest float (only reachable with a single cluster).
    out[i] = Number.isNaN(s) ? 0 : s === Infinity ? Number.MAX_VALUE : s === -Infinity ? -Number.MAX_VALUE : s;
  }
  return out;
}
