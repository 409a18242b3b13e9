import { tf } from '@invae/core';
import type { Embedding } from '../internal/matrix';
import { FoldHelper, scanThreads } from './fold-worker';
import { CandidateBuffers, foldTile, type TileSink } from './tile-fold';

/** Distance used by the blocked kernels: Euclidean, or cosine distance 1 − cos(x, y) clipped to [0, 2]. */
export type DistanceMetric = 'euclidean' | 'cosine';

/** Default side of the square distance tiles formed on the engine (rows = columns). */
export const DEFAULT_TILE = 2048;

/** What {@link scanDistances} should compute. */
export interface ScanRequest {
  readonly metric: DistanceMetric;
  /**
   * Return, per cell, this many nearest *other* cells (the cell itself excluded), ordered by the
   * engine's float32 squared distance (Euclidean only).
   */
  readonly candidates?: number;
  /** Return, per cell, the sum of distances to the cells of each cluster (self excluded). */
  readonly clusters?: { readonly codes: Int32Array; readonly count: number };
  /** Side of the square tiles (rows and columns per engine product; default {@link DEFAULT_TILE}). */
  readonly blockRows?: number;
  /**
   * Threads folding the tiles: 1 = main thread only, 2 = a helper worker thread takes tiles whenever
   * it is free (default: `INVAE_BENCH_THREADS`, else the available parallelism, at most 2, and then
   * only for scans of at least {@link MIN_PAIRS_FOR_HELPER} pairs). The helper is never started for
   * fewer than {@link MIN_TILES_FOR_HELPER} tiles.
   */
  readonly threads?: number;
  /**
   * Wait up to this many milliseconds for the helper thread to start before the first tile (default
   * 0: the main thread starts at once and hands tiles over once the helper is up). For tests.
   * @internal
   */
  readonly waitForHelperMs?: number;
}

/** Smallest scan (in tiles) for which a helper thread is started. */
export const MIN_TILES_FOR_HELPER = 6;
/** Smallest scan (in cell pairs) for which a helper thread is started by default (it costs ~0.1 s to start). */
export const MIN_PAIRS_FOR_HELPER = 2e7;

/** Output of {@link scanDistances}. */
export interface ScanResult {
  /** n × `candidates` cell indices (row-major), nearest first by the engine's float32 distances. */
  readonly candidates?: Int32Array;
  /** n × clusters.count distance sums (row-major), in float64. */
  readonly clusterSums?: Float64Array;
  /** Tiles folded by the helper thread (0 when it was not used). */
  readonly helperTiles: number;
}

/**
 * Points augmented so that one matrix product gives the distances: for Euclidean,
 * q' = [−2q, |q|², 1] and x' = [x, 1, |x|²] give q'·x' = |q − x|² (data centred first); for cosine,
 * q' = [−q̂, 1, 0] and x' = [x̂, 1, 0] give 1 − cos. Returns the rows (n × D) and the transposed
 * columns (D × n), float32.
 */
function augment(x: Embedding, cosine: boolean): { D: number; qa: Float32Array; xa: Float32Array } {
  const { nRows: n, nCols: d } = x;
  const D = d + 2;
  const c = new Float64Array(n * d);
  if (!cosine) {
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x.data[i * d + j]!;
    for (let j = 0; j < d; j++) mean[j] /= Math.max(1, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) c[i * d + j] = x.data[i * d + j]! - mean[j]!;
  } else {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += x.data[i * d + j]! ** 2;
      // A zero vector has no direction; it gets cosine distance 1 to every other point.
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let j = 0; j < d; j++) c[i * d + j] = x.data[i * d + j]! * inv;
    }
  }
  const qa = new Float32Array(n * D);
  const xa = new Float32Array(D * n);
  for (let i = 0; i < n; i++) {
    let sq = 0;
    for (let j = 0; j < d; j++) {
      const v = c[i * d + j]!;
      sq += v * v;
      qa[i * D + j] = cosine ? -v : -2 * v;
      xa[j * n + i] = v;
    }
    qa[i * D + d] = cosine ? 1 : sq;
    qa[i * D + d + 1] = cosine ? 0 : 1;
    xa[d * n + i] = 1;
    xa[(d + 1) * n + i] = cosine ? 0 : sq;
  }
  return { D, qa, xa };
}

/** The slice of the wasm heap behind a float32 tensor, if the engine is the wasm backend. */
interface WasmBackendView {
  readonly wasm?: { readonly HEAPU8?: Uint8Array };
  readonly dataIdMap?: { get(id: object): { memoryOffset?: number } | undefined };
}

/**
 * The values of a float32 tensor for reading on the host. On the wasm backend this is a view of the
 * engine's own memory (no copy: a tile is read once, and copying it costs as much as folding it),
 * valid until the tensor is disposed or the next engine operation; elsewhere `dataSync()`.
 */
function tileValues(t: tf.Tensor): Float32Array {
  if (tf.getBackend() === 'wasm' && t.dtype === 'float32') {
    const be = tf.backend() as unknown as WasmBackendView;
    const heap = be.wasm?.HEAPU8;
    const offset = be.dataIdMap?.get(t.dataId)?.memoryOffset;
    if (heap && typeof offset === 'number' && offset % 4 === 0 && offset + t.size * 4 <= heap.byteLength) {
      return new Float32Array(heap.buffer, heap.byteOffset + offset, t.size);
    }
  }
  return t.dataSync() as Float32Array;
}

/**
 * One tiled pass over all pairwise distances, serving both the kNN search and the silhouettes so
 * that the n² distances are formed once, and each unordered pair only once.
 *
 * The cells are cut into blocks of `blockRows`; for every pair of blocks (I, J) with J ≥ I the tile of
 * squared Euclidean (or cosine) distances is one matrix product of augmented points on the tensor
 * engine (float32; see {@link augment}); the tile is then folded on the host, both ways (rows and
 * columns, by symmetry), into:
 * - cluster sums: √max(0, d²) (or clip(1 − cos, 0, 2)) added in float64 to each cell's sum for the
 *   other cell's cluster (the cell itself excluded);
 * - candidates: per cell a buffer of the values below its current threshold (see
 *   `CandidateBuffers`), so the scan costs about one comparison per entry; the result is exact for
 *   the engine's values.
 *
 * Large scans put the second core to work: while the main thread drives the engine, a helper
 * worker thread folds every tile it is free to take (see `FoldHelper`) into its own sums and
 * buffers, merged at the end (sums may differ in the last bits with the summation order).
 */
export function scanDistances(x: Embedding, req: ScanRequest): ScanResult {
  const { nRows: n } = x;
  const cosine = req.metric === 'cosine';
  const want = Math.min(req.candidates ?? 0, Math.max(0, n - 1));
  const L = req.clusters?.count ?? 0;
  const codes = req.clusters?.codes;
  const cand = want > 0 ? new CandidateBuffers(n, want) : undefined;
  const sums = L > 0 ? new Float64Array(n * L) : undefined;
  if (n === 0 || (!cand && !sums)) return { candidates: cand ? new Int32Array(0) : undefined, clusterSums: sums, helperTiles: 0 };
  const T = Math.max(1, Math.floor(req.blockRows ?? DEFAULT_TILE));
  const { D, qa, xa } = augment(x, cosine);
  const nBlocks = Math.ceil(n / T);
  const nTiles = (nBlocks * (nBlocks + 1)) / 2;
  const sink: TileSink = { cosine, codes, L, sums, rowAcc: new Float64Array(Math.max(1, L)), cand };
  const threads = req.threads ?? scanThreads();
  // By default the helper is only worth its start (~0.1 s) on scans of some size.
  const worthIt = req.threads !== undefined || (n * n) / 2 >= MIN_PAIRS_FOR_HELPER;
  const helper = threads > 1 && nTiles >= MIN_TILES_FOR_HELPER && worthIt ? new FoldHelper({ n, tileEntries: Math.min(n, T) ** 2, cosine, codes, L, h: want }) : null;
  if (helper && req.waitForHelperMs) helper.waitForStart(req.waitForHelperMs);
  const qBlocks: tf.Tensor2D[] = [];
  const xBlocks: tf.Tensor2D[] = [];
  let other: ReturnType<FoldHelper['finish']> = {};
  try {
    for (let b = 0; b < nBlocks; b++) {
      const start = b * T;
      const size = Math.min(n, start + T) - start;
      qBlocks.push(tf.tensor2d(qa.subarray(start * D, (start + size) * D), [size, D]));
      const cols = new Float32Array(D * size);
      for (let r = 0; r < D; r++) cols.set(xa.subarray(r * n + start, r * n + start + size), r * size);
      xBlocks.push(tf.tensor2d(cols, [D, size]));
    }
    for (let bi = 0; bi < nBlocks; bi++) {
      const i0 = bi * T;
      const rows = qBlocks[bi]!.shape[0];
      for (let bj = bi; bj < nBlocks; bj++) {
        const j0 = bj * T;
        const cols = xBlocks[bj]!.shape[1];
        const tile = tf.matMul(qBlocks[bi]!, xBlocks[bj]!);
        try {
          const vals = tileValues(tile);
          if (!helper?.offer(vals, i0, rows, j0, cols, bi === bj)) foldTile(vals, i0, rows, j0, cols, bi === bj, sink);
        } finally {
          tile.dispose();
        }
      }
    }
    if (helper) other = helper.finish();
  } finally {
    helper?.dispose();
    for (const t of qBlocks) t.dispose();
    for (const t of xBlocks) t.dispose();
  }
  if (sums && other.sums) for (let t = 0; t < sums.length; t++) sums[t]! += other.sums[t]!;
  return { candidates: cand ? cand.sorted(other.cand) : undefined, clusterSums: sums, helperTiles: helper?.handedOver ?? 0 };
}
