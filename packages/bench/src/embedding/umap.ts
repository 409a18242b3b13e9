import { Rng } from '@invae/core';
import { UMAP } from 'umap-js';
import { BenchInputError } from '../errors';
import { checkMatrix, takeRows, type Embedding } from '../internal/matrix';
import { checkNeighbors, exactNeighbors, subsetNeighbors, type NeighborsResult } from '../neighbors/neighbors';
import { umapLayout } from './umap-layout';

/** Options of {@link umapEmbedding}. */
export interface UmapOptions {
  /** Neighbours of the fuzzy graph, the cell itself included (default 15, scanpy's `pp.neighbors`). */
  readonly nNeighbors?: number;
  /** Minimum distance between embedded points (default 0.5, scanpy's `tl.umap`). */
  readonly minDist?: number;
  /** Scale of the embedded points (default 1). */
  readonly spread?: number;
  /**
   * Optimisation epochs (default: umap-learn's rule, as scanpy: 500 up to 10 000 points, else 200).
   */
  readonly nEpochs?: number;
  /** Seed of the initial layout, the negative sampling and the downsampling (default 0). */
  readonly seed?: number;
  /**
   * Layout code: `native` (default), this package's typed-array implementation of UMAP's published
   * algorithm, or `umap-js` (the umap-js package; several times slower, random start only).
   */
  readonly implementation?: 'native' | 'umap-js';
  /** Initial layout of the `native` implementation: `spectral` (default, as scanpy) or `random`. */
  readonly init?: 'spectral' | 'random';
  /**
   * Precomputed neighbours of `x` (e.g. the Benchmarker's exact kNN), the cell itself first, with at
   * least `nNeighbors` columns; used when no downsampling happens, else ignored.
   */
  readonly neighbors?: NeighborsResult;
  /**
   * At most this many points are embedded (default 50 000): a larger embedding is downsampled to a
   * seeded uniform random subset of cells (kept in their original order) and its neighbours are
   * recomputed on the subset. Plots then show that subset; `indices` says which cells.
   */
  readonly maxPoints?: number;
}

/** A 2-D UMAP layout of (a subset of) the cells of an embedding. */
export interface UmapResult {
  /** Point coordinates, row-major `nPoints × 2`. */
  readonly coordinates: Float64Array;
  /** Number of embedded points. */
  readonly nPoints: number;
  /** The cell (row of the input) of every point, increasing. */
  readonly indices: Int32Array;
  /** True when the input had more than `maxPoints` cells and was downsampled. */
  readonly downsampled: boolean;
  /** Epochs run. */
  readonly nEpochs: number;
  /** Neighbours used (cell itself included). */
  readonly nNeighbors: number;
  /** Implementation that computed the layout. */
  readonly implementation: 'native' | 'umap-js';
  /** Initial layout used (`spectral` falls back to `random` when its eigen-solver fails). */
  readonly init: 'spectral' | 'random';
}

function positiveInteger(v: number, where: string): void {
  if (!Number.isInteger(v) || v < 1) throw new BenchInputError(where, `${where} must be a positive integer, got ${v}.`);
}

/** `m` distinct indices of `0 … n−1`, uniform at random (seeded partial Fisher–Yates), sorted. */
export function sampleIndices(n: number, m: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(n - i);
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return perm.slice(0, m).sort();
}

/**
 * A 2-D UMAP (McInnes et al. 2018) of an embedding, set up as scanpy's `pp.neighbors` + `tl.umap`
 * defaults: 15 neighbours (the cell itself included) from the exact kNN graph (computed here, or
 * passed as `neighbors` to reuse the Benchmarker's), min_dist 0.5, spread 1, umap-learn's epoch rule.
 * By default the fuzzy graph, the spectral start and the optimisation are this package's own
 * implementation of the published algorithm (see `umapLayout`); `implementation: 'umap-js'` runs
 * umap-js instead (its seeded uniform random start, its optimiser; several times slower).
 * Deterministic for a given seed.
 *
 * More than `maxPoints` cells (default 50 000) are downsampled first (see {@link UmapOptions.maxPoints}).
 */
export function umapEmbedding(x: Embedding, options: UmapOptions = {}): UmapResult {
  checkMatrix(x, 'embedding');
  const nNeighbors = options.nNeighbors ?? 15;
  const maxPoints = options.maxPoints ?? 50_000;
  const seed = options.seed ?? 0;
  const minDist = options.minDist ?? 0.5;
  const spread = options.spread ?? 1;
  positiveInteger(nNeighbors, 'nNeighbors');
  positiveInteger(maxPoints, 'maxPoints');
  if (nNeighbors < 2) throw new BenchInputError('nNeighbors', 'UMAP needs at least 2 neighbours (the cell itself and one other).');
  if (!(minDist >= 0) || !(spread > 0) || minDist > spread) {
    throw new BenchInputError('minDist', `UMAP needs 0 ≤ minDist ≤ spread and spread > 0, got minDist ${minDist}, spread ${spread}.`);
  }
  if (options.nEpochs !== undefined) positiveInteger(options.nEpochs, 'nEpochs');
  const n = x.nRows;
  const downsampled = n > maxPoints;
  const indices = downsampled ? sampleIndices(n, maxPoints, seed) : Int32Array.from({ length: n }, (_, i) => i);
  const sub = downsampled ? takeRows(x, indices) : x;
  const m = sub.nRows;
  if (m <= nNeighbors) {
    throw new BenchInputError('embedding', `UMAP with ${nNeighbors} neighbours needs more than ${nNeighbors} cells, got ${m}.`, {
      hint: 'Pass a smaller nNeighbors for a tiny data set.',
    });
  }
  let nn: NeighborsResult;
  if (options.neighbors && !downsampled) {
    checkNeighbors(options.neighbors, n, nNeighbors, 'neighbors');
    nn = subsetNeighbors(options.neighbors, nNeighbors);
  } else {
    nn = exactNeighbors(sub, nNeighbors);
  }
  const implementation = options.implementation ?? 'native';
  if (implementation !== 'native' && implementation !== 'umap-js') {
    throw new BenchInputError('implementation', `Unknown UMAP implementation '${String(implementation)}'.`, { hint: "Use 'native' or 'umap-js'." });
  }
  if (implementation === 'native') {
    const r = umapLayout(nn, { minDist, spread, nEpochs: options.nEpochs, init: options.init, seed });
    return { coordinates: r.coordinates, nPoints: m, indices, downsampled, nEpochs: r.nEpochs, nNeighbors, implementation, init: r.init };
  }
  const knnIndices: number[][] = new Array(m);
  const knnDistances: number[][] = new Array(m);
  for (let i = 0; i < m; i++) {
    knnIndices[i] = Array.from(nn.indices.subarray(i * nNeighbors, (i + 1) * nNeighbors));
    knnDistances[i] = Array.from(nn.distances.subarray(i * nNeighbors, (i + 1) * nNeighbors));
  }
  // umap-js only reads the number of rows of X once neighbours are given; rows are passed for its bookkeeping.
  const rows: number[][] = new Array(m);
  for (let i = 0; i < m; i++) rows[i] = Array.from(sub.data.subarray(i * sub.nCols, (i + 1) * sub.nCols));
  const rng = new Rng(seed);
  const nEpochs = options.nEpochs ?? (m <= 10_000 ? 500 : 200);
  const umap = new UMAP({ nComponents: 2, nNeighbors, minDist, spread, nEpochs, random: () => rng.uniform() });
  umap.setPrecomputedKNN(knnIndices, knnDistances);
  const epochs = umap.initializeFit(rows);
  for (let e = 0; e < epochs; e++) umap.step();
  const emb = umap.getEmbedding();
  const coordinates = new Float64Array(m * 2);
  for (let i = 0; i < m; i++) {
    const p = emb[i]!;
    coordinates[2 * i] = p[0]!;
    coordinates[2 * i + 1] = p[1]!;
  }
  return { coordinates, nPoints: m, indices, downsampled, nEpochs: epochs, nNeighbors, implementation, init: 'random' };
}
