import { scanDistances } from './distances';
import { wasmNeighborCandidates, wasmSearchAvailable } from './knn-wasm';
import { BenchInputError } from '../errors';
import { checkMatrix, type Embedding } from '../internal/matrix';
import { silhouetteFromSums } from './silhouette-samples';
import {
  checkSamplingOptions,
  isSubsampled,
  silhouettesOfRows,
  SILHOUETTE_SAMPLE_SIZE,
  stratifiedMean,
  stratifiedSample,
  type SilhouetteSampling,
  type SilhouetteSamplingOptions,
} from '../metrics/silhouette-sampling';

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
  /** Side of the square distance tiles formed on the engine (default 2048). */
  readonly blockRows?: number;
  /** Extra candidates taken from the engine and re-ranked in float64 (default 4). */
  readonly margin?: number;
  /**
   * Search engine: `wasm` = the SIMD kernel of `knn.wat` on shared-memory threads with spatial
   * block pruning (default where WebAssembly threads run, unless `INVAE_BENCH_SEARCH=engine`),
   * `engine` = tiled products on the tensor engine.
   */
  readonly search?: 'wasm' | 'engine';
  /** Threads of the `wasm` search (default `INVAE_BENCH_THREADS`, else min(2, cores)); results never depend on it. */
  readonly threads?: number;
  /**
   * The `wasm` search computes each pair once for both cells, without pruning (default false):
   * faster where pruning rules out little (one cluster in many dimensions); the same neighbours.
   */
  readonly symmetric?: boolean;
}

/**
 * Whether the WebAssembly search runs for these options; by default it does where WebAssembly
 * threads run, unless `INVAE_BENCH_SEARCH=engine` is set (A/B comparisons with the engine path).
 */
function useWasmSearch(options: NeighborsOptions): boolean {
  const search = options.search ?? (typeof process !== 'undefined' && process.env?.INVAE_BENCH_SEARCH === 'engine' ? 'engine' : undefined);
  return search === 'wasm' || (search === undefined && options.blockRows === undefined && wasmSearchAvailable());
}

/**
 * Exact k-nearest-neighbour search by tiled distance computation on the tensor engine.
 *
 * The squared distances are formed tile by tile by matrix products on the engine (float32, centred
 * data; each unordered pair once) and the `k − 1 + margin` nearest other cells of every cell are
 * kept in per-cell candidate buffers (see `scanDistances`); their distances are then recomputed in float64 and
 * re-sorted (ties broken by index), with the cell itself placed first, as scib-metrics expects
 * ("self should always be included"). Call `initEngine` first.
 *
 * @param x embedding, cells × dimensions, finite values.
 * @param k number of neighbours including the cell itself (1 ≤ k ≤ number of cells).
 */
export function exactNeighbors(x: Embedding, k: number, options: NeighborsOptions = {}): NeighborsResult {
  checkMatrix(x, 'embedding');
  const n = x.nRows;
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new BenchInputError('k', `Cannot find ${k} neighbours among ${n} cells.`, {
      hint: `k must be an integer in [1, ${n}] (it counts the cell itself).`,
    });
  }
  const margin = options.margin ?? 4;
  const h = Math.min(n - 1, k - 1 + margin);
  if (h === 0) return rerankCandidates(x, new Int32Array(0), 0, k);
  if (useWasmSearch(options)) return rerankCandidates(x, wasmNeighborCandidates(x, h, { threads: options.threads, symmetric: options.symmetric }), h, k);
  const { candidates } = scanDistances(x, { metric: 'euclidean', candidates: h, blockRows: options.blockRows });
  return rerankCandidates(x, candidates ?? new Int32Array(0), h, k);
}

/**
 * Exact float64 re-ranking of engine candidates (`h` other cells per cell, row-major, nearest first
 * by the engine's distances): distances recomputed from the input, the cell itself first (distance
 * 0), then by distance, ties by index; the first `k` kept.
 */
export function rerankCandidates(x: Embedding, cand: Int32Array, h: number, k: number): NeighborsResult {
  const n = x.nRows;
  const d = x.nCols;
  const xd = x.data;
  const indices = new Int32Array(n * k);
  const distances = new Float64Array(n * k);
  const ids = new Int32Array(h);
  const dist = new Float64Array(h);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let t = 0; t < h; t++) {
      const j = cand[i * h + t]!;
      if (j === i || j < 0) continue;
      let s = 0;
      for (let c = 0; c < d; c++) {
        const diff = xd[i * d + c]! - xd[j * d + c]!;
        s += diff * diff;
      }
      const dj = Math.sqrt(s);
      // Insertion sort by (distance, index): the engine order is already nearly right.
      let p = m++;
      while (p > 0 && (dist[p - 1]! > dj || (dist[p - 1] === dj && ids[p - 1]! > j))) {
        dist[p] = dist[p - 1]!;
        ids[p] = ids[p - 1]!;
        p--;
      }
      dist[p] = dj;
      ids[p] = j;
    }
    if (m < k - 1) throw new Error(`rerankCandidates: cell ${i} has ${m} candidates, ${k - 1} needed.`);
    indices[i * k] = i;
    distances[i * k] = 0;
    for (let t = 1; t < k; t++) {
      indices[i * k + t] = ids[t - 1]!;
      distances[i * k + t] = dist[t - 1]!;
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
 * Exact kNN and the label silhouettes (what the Benchmarker needs from every embedding): equal to
 * `exactNeighbors(x, k)` and `silhouetteSamples(x, labels)` (Euclidean, nearest). With WebAssembly
 * threads, the neighbours come from the SIMD search and the silhouettes from the cluster-sums
 * kernel; above `sampling.maxExactCells` cells (default 200,000) only a seeded stratified sample of
 * cells gets a silhouette (each exact against all cells; NaN elsewhere) and `sampling` says so, with
 * the standard error of the mean silhouette. Otherwise one pass over the pairwise distances on the engine.
 */
export function neighborsAndSilhouette(
  x: Embedding,
  k: number,
  codes: Int32Array,
  nClusters: number,
  options: NeighborsOptions & { readonly sampling?: SilhouetteSamplingOptions } = {},
): { neighbors: NeighborsResult; silhouette: Float64Array; sampling: SilhouetteSampling } {
  checkMatrix(x, 'embedding');
  const n = x.nRows;
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new BenchInputError('k', `Cannot find ${k} neighbours among ${n} cells.`, { hint: `k must be an integer in [1, ${n}].` });
  }
  const h = Math.min(n - 1, k - 1 + (options.margin ?? 4));
  if (useWasmSearch(options)) {
    const neighbors = exactNeighbors(x, k, options);
    const sampling = options.sampling ?? {};
    checkSamplingOptions(sampling);
    const all = Int32Array.from({ length: n }, (_, i) => i);
    if (!isSubsampled(n, sampling)) return { neighbors, silhouette: silhouettesOfRows(x, all, codes, nClusters, all, 'euclidean', 'nearest'), sampling: { mode: 'exact' } };
    const seed = sampling.seed ?? 0;
    const rows = stratifiedSample(codes, nClusters, sampling.sampleSize ?? SILHOUETTE_SAMPLE_SIZE, seed);
    const s = silhouettesOfRows(x, all, codes, nClusters, rows, 'euclidean', 'nearest');
    const silhouette = new Float64Array(n).fill(NaN);
    rows.forEach((r, t) => (silhouette[r] = s[t]!));
    const { se } = stratifiedMean(silhouette, codes, nClusters);
    return { neighbors, silhouette, sampling: { mode: 'subsampled', cells: rows.length, seed, se } };
  }
  const scan = scanDistances(x, { metric: 'euclidean', candidates: h, clusters: { codes, count: nClusters }, blockRows: options.blockRows });
  return { neighbors: rerankCandidates(x, scan.candidates ?? new Int32Array(0), h, k), silhouette: silhouetteFromSums(scan.clusterSums!, codes, nClusters), sampling: { mode: 'exact' } };
}
