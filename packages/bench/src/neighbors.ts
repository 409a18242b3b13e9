import { scanDistances } from './distances';
import { BenchInputError } from './errors';
import { checkMatrix, type Matrix } from './matrix';
import { silhouetteFromSums } from './silhouette-samples';

/**
 * k nearest neighbours of every cell (scib-metrics' `NeighborsResults`): row-major `nObs × nNeighbors`
 * indices and Euclidean distances, nearest first, each cell itself in column 0 at distance 0.
 */
export interface NeighborsResult {
  readonly indices: Int32Array;
  readonly distances: Float64Array;
  readonly nObs: number;
  readonly nNeighbors: number;
}

/** Options of {@link exactNeighbors}. */
export interface NeighborsOptions {
  /** Rows per engine block (default: sized so a block holds ~16 M distances). */
  readonly blockRows?: number;
  /** Extra candidates taken from the engine and re-ranked in float64 (default 4). */
  readonly margin?: number;
}

/**
 * Exact k-nearest-neighbour search by blocked distance computation on the tensor engine.
 *
 * For each block of query rows the squared distances to all cells are formed by one matrix product
 * (float32, centred data) and the `k + margin` smallest are selected by an exact two-stage top-k (see
 * `scanDistances`); their distances are then recomputed in float64 and re-sorted (ties broken by
 * index), with the cell itself placed first, as scib-metrics expects ("self should always be
 * included"). Call `initEngine` first.
 *
 * @param x embedding, cells × dimensions, finite values.
 * @param k number of neighbours including the cell itself (1 ≤ k ≤ number of cells).
 */
export function exactNeighbors(x: Matrix, k: number, options: NeighborsOptions = {}): NeighborsResult {
  checkMatrix(x, 'embedding');
  const n = x.nRows;
  const d = x.nCols;
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new BenchInputError('k', `Cannot find ${k} neighbours among ${n} cells.`, {
      hint: `k must be an integer in [1, ${n}] (it counts the cell itself).`,
    });
  }
  const margin = options.margin ?? 4;
  const kk = Math.min(n, k + margin);
  const { candidates } = scanDistances(x, { metric: 'euclidean', candidates: kk, blockRows: options.blockRows });
  return rerankCandidates(x, candidates!, kk, k);
}

/**
 * Exact float64 re-ranking of engine candidates: distances recomputed from the input, the cell
 * itself first (distance 0), then by distance, ties by index; the first `k` kept.
 */
export function rerankCandidates(x: Matrix, cand: Int32Array, kk: number, k: number): NeighborsResult {
  const n = x.nRows;
  const d = x.nCols;
  const indices = new Int32Array(n * k);
  const distances = new Float64Array(n * k);
  const ids = new Int32Array(kk);
  const dist = new Float64Array(kk);
  for (let i = 0; i < n; i++) {
    let m = 0;
    ids[m] = i;
    dist[m++] = 0;
    for (let t = 0; t < kk && m < kk; t++) {
      const j = cand[i * kk + t]!;
      if (j === i) continue;
      let s = 0;
      for (let c = 0; c < d; c++) {
        const diff = x.data[i * d + c]! - x.data[j * d + c]!;
        s += diff * diff;
      }
      ids[m] = j;
      dist[m++] = Math.sqrt(s);
    }
    const ord = Array.from({ length: m }, (_, t) => t);
    // Self stays first; the others by distance, then index.
    ord.sort((a, b) => (a === 0 ? -1 : b === 0 ? 1 : dist[a]! - dist[b]! || ids[a]! - ids[b]!));
    for (let t = 0; t < k; t++) {
      indices[i * k + t] = ids[ord[t]!]!;
      distances[i * k + t] = dist[ord[t]!]!;
    }
  }
  return { indices, distances, nObs: n, nNeighbors: k };
}

/** The first `k` neighbours of each cell of `nn` (scib-metrics' `subset_neighbors`). */
export function subsetNeighbors(nn: NeighborsResult, k: number): NeighborsResult {
  if (!Number.isInteger(k) || k < 1 || k > nn.nNeighbors) {
    throw new BenchInputError('k', `Cannot take ${k} of ${nn.nNeighbors} neighbours.`, {
      hint: `Compute at least ${k} neighbours first.`,
    });
  }
  if (k === nn.nNeighbors) return nn;
  const indices = new Int32Array(nn.nObs * k);
  const distances = new Float64Array(nn.nObs * k);
  for (let i = 0; i < nn.nObs; i++) {
    indices.set(nn.indices.subarray(i * nn.nNeighbors, i * nn.nNeighbors + k), i * k);
    distances.set(nn.distances.subarray(i * nn.nNeighbors, i * nn.nNeighbors + k), i * k);
  }
  return { indices, distances, nObs: nn.nObs, nNeighbors: k };
}

/** Throws unless `nn` is a neighbour result for `n` cells with at least `minK` neighbours. */
export function checkNeighbors(nn: NeighborsResult, n: number, minK = 1, where = 'neighbors'): void {
  if (!nn || !(nn.indices instanceof Int32Array) || nn.indices.length !== nn.nObs * nn.nNeighbors || nn.distances.length !== nn.indices.length) {
    throw new BenchInputError(where, `${where} is not a well-formed NeighborsResult.`, { hint: 'Compute it with exactNeighbors().' });
  }
  if (nn.nObs !== n) {
    throw new BenchInputError(where, `${where} describes ${nn.nObs} cells but ${n} were expected.`, {
      hint: 'Neighbours, labels and batches must describe the same cells.',
    });
  }
  if (nn.nNeighbors < minK) {
    throw new BenchInputError(where, `${where} has ${nn.nNeighbors} neighbours per cell; this metric needs ${minK}.`);
  }
}

/**
 * Exact kNN and the label silhouettes from one pass over the pairwise distances (what the
 * Benchmarker needs from every embedding): equal to `exactNeighbors(x, k)` and
 * `silhouetteSamples(x, labels)` (Euclidean, nearest) computed separately.
 */
export function neighborsAndSilhouette(x: Matrix, k: number, codes: Int32Array, nClusters: number): { neighbors: NeighborsResult; silhouette: Float64Array } {
  checkMatrix(x, 'embedding');
  const n = x.nRows;
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new BenchInputError('k', `Cannot find ${k} neighbours among ${n} cells.`, { hint: `k must be an integer in [1, ${n}].` });
  }
  const kk = Math.min(n, k + 4);
  const scan = scanDistances(x, { metric: 'euclidean', candidates: kk, clusters: { codes, count: nClusters } });
  return { neighbors: rerankCandidates(x, scan.candidates!, kk, k), silhouette: silhouetteFromSums(scan.clusterSums!, codes, nClusters) };
}
