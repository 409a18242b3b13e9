import { tf } from '@invae/core';
import type { Matrix } from './matrix';

/** Distance used by the blocked kernels: Euclidean, or cosine distance 1 − cos(x, y) clipped to [0, 2]. */
export type DistanceMetric = 'euclidean' | 'cosine';

/** Largest number of distance entries (rows × cells) held on the engine per block. */
const BLOCK_ENTRIES = 1 << 25;
/** Columns per segment of the two-stage top-k (see {@link scanDistances}). */
const SEGMENT = 32;
/** Squared distance of the padding columns (never among the nearest). */
const FAR = 1e30;

/** Rows per block for `n` reference cells (at least 1, at most 1024). */
export function blockRowsFor(n: number): number {
  return Math.max(1, Math.min(1024, Math.floor(BLOCK_ENTRIES / Math.max(1, n))));
}

/**
 * One-hot float32 matrix of `indices` (int32) with `depth` columns. Built as an int32 one-hot and
 * cast: `tf.oneHot(..., 'float32')` on the wasm backend (tfjs 4.22) writes the integer bit pattern
 * (1 → 1.4e-45) into the float buffer.
 */
export function oneHotFloat(indices: tf.Tensor1D, depth: number): tf.Tensor2D {
  // tf.oneHot refuses depth 1; then every index is 0 and the matrix is a column of ones.
  if (depth === 1) return tf.ones([indices.shape[0], 1], 'float32') as tf.Tensor2D;
  return tf.tidy(() => tf.oneHot(indices, depth).cast('float32') as tf.Tensor2D);
}

/** What {@link scanDistances} should compute. */
export interface ScanRequest {
  readonly metric: DistanceMetric;
  /** Return, per cell, this many nearest candidates (Euclidean only), unordered. */
  readonly candidates?: number;
  /** Return, per cell, the sum of distances to the cells of each cluster (self excluded). */
  readonly clusters?: { readonly codes: Int32Array; readonly count: number };
  /** Rows per engine block. */
  readonly blockRows?: number;
}

/** Output of {@link scanDistances}. */
export interface ScanResult {
  /** n × `candidates` cell indices (row-major), unordered, typically including the cell itself. */
  readonly candidates?: Int32Array;
  /** n × clusters.count distance sums (row-major). */
  readonly clusterSums?: Float64Array;
}

/**
 * One blocked pass over all pairwise distances, serving both the kNN search and the silhouettes so
 * that the n² distances are formed once.
 *
 * Points are augmented so that a single matrix product on the tensor engine gives the distances
 * directly: for Euclidean, q' = [−2q, |q|², 1] and x' = [x, 1, |x|²] give q'·x' = |q − x|² (data centred
 * first, float32); for cosine, q' = [−q̂, 1] and x' = [x̂, 1] give 1 − cos. Per block of query rows:
 * - cluster sums: √max(0, d²) (or clip(1 − cos, 0, 2)) times a one-hot cluster matrix on the engine,
 *   minus each row's own (near-zero) self distance read back from the same block;
 * - candidates: an exact two-stage selection — the columns are cut into segments of 32 whose minima
 *   are formed on the engine; the `c` segments with the smallest minima are kept (the c-th smallest
 *   segment minimum T bounds the c-th nearest distance, so every cell nearer than T lies in a kept
 *   segment); their values are gathered and the `c` smallest are the candidates.
 */
export function scanDistances(x: Matrix, req: ScanRequest): ScanResult {
  const { nRows: n, nCols: d } = x;
  const cosine = req.metric === 'cosine';
  const nSeg = Math.ceil(n / SEGMENT);
  const nPad = nSeg * SEGMENT;
  const D = d + 2;
  // Centred (Euclidean) or normalised (cosine) float64 coordinates.
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
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sq[i] += c[i * d + j]! ** 2;
  const qa = new Float32Array(n * D);
  const xa = new Float32Array(D * nPad); // D × nPad
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      qa[i * D + j] = cosine ? -c[i * d + j]! : -2 * c[i * d + j]!;
      xa[j * nPad + i] = c[i * d + j]!;
    }
    qa[i * D + d] = cosine ? 1 : sq[i]!;
    qa[i * D + d + 1] = cosine ? 0 : 1;
    xa[d * nPad + i] = 1;
    xa[(d + 1) * nPad + i] = cosine ? 0 : sq[i]!;
  }
  for (let i = n; i < nPad; i++) xa[(d + 1) * nPad + i] = FAR;

  const want = Math.min(req.candidates ?? 0, n);
  const L = req.clusters?.count ?? 0;
  const codes = req.clusters?.codes;
  const cand = want > 0 ? new Int32Array(n * want) : undefined;
  const sums = L > 0 ? new Float64Array(n * L) : undefined;
  const blockRows = req.blockRows ?? blockRowsFor(nPad);
  const segTake = Math.min(nSeg, want);
  const segMin = new Float64Array(nSeg);
  const segOrder = new Int32Array(nSeg);
  const pool = new Int32Array(segTake * SEGMENT);
  const poolVal = new Float64Array(segTake * SEGMENT);
  const poolIdx = new Int32Array(segTake * SEGMENT);

  const xT = tf.tensor2d(xa, [D, nPad]);
  const onehot = L > 0 ? tf.tidy(() => tf.pad(oneHotFloat(tf.tensor1d(codes!, 'int32'), L), [[0, nPad - n], [0, 0]])) : null;
  try {
    for (let start = 0; start < n; start += blockRows) {
      const end = Math.min(n, start + blockRows);
      const b = end - start;
      // Engine: the block of distances, its per-cluster sums, its diagonal and its segment minima.
      const v = tf.matMul(tf.tensor2d(qa.subarray(start * D, end * D), [b, D]), xT); // b × nPad
      const outs = tf.tidy(() => {
        const res: tf.Tensor[] = [];
        if (L > 0) {
          const dist = cosine ? tf.clipByValue(v, 0, 2) : tf.sqrt(tf.relu(v));
          res.push(tf.matMul(dist, onehot!));
          const diagIdx = tf.add(tf.mul(tf.range(0, b, 1, 'int32'), tf.scalar(nPad, 'int32')), tf.range(start, end, 1, 'int32'));
          res.push(tf.gather(v.reshape([-1]), diagIdx));
        }
        if (want > 0) res.push(v.reshape([b, nSeg, SEGMENT]).min(2));
        return res;
      });
      let o = 0;
      if (L > 0) {
        const s = outs[o++]!.dataSync();
        const diag = outs[o++]!.dataSync();
        for (let r = 0; r < b; r++) {
          const i = start + r;
          for (let l = 0; l < L; l++) sums![i * L + l] = s[r * L + l]!;
          // The cell itself is excluded (its computed distance is rounding noise around 0).
          const t = diag[r]!;
          sums![i * L + codes![i]!]! -= cosine ? (t < 0 ? 0 : t > 2 ? 2 : t) : t > 0 ? Math.sqrt(t) : 0;
        }
      }
      if (want > 0) {
        const mins = outs[o++]!.dataSync();
        // JS: choose the segments per row, then gather their values on the engine (flat indices:
        // tf.gather's batchDims is wrong on wasm in tfjs 4.22) and select the nearest among them.
        const flat = new Int32Array(b * segTake);
        for (let r = 0; r < b; r++) {
          for (let g = 0; g < nSeg; g++) {
            segMin[g] = mins[r * nSeg + g]!;
            segOrder[g] = g;
          }
          selectSmallest(segOrder, segMin, segTake);
          for (let t = 0; t < segTake; t++) flat[r * segTake + t] = r * nSeg + segOrder[t]!;
        }
        const gT = tf.tidy(() => tf.gather(v.reshape([b * nSeg, SEGMENT]), tf.tensor1d(flat, 'int32'), 0));
        const vals = gT.dataSync();
        gT.dispose();
        for (let r = 0; r < b; r++) {
          const i = start + r;
          let p = 0;
          for (let t = 0; t < segTake; t++) {
            const g = flat[r * segTake + t]! - r * nSeg;
            for (let u = 0; u < SEGMENT; u++) {
              const col = g * SEGMENT + u;
              if (col >= n) break;
              pool[p] = col;
              poolVal[p++] = vals[(r * segTake + t) * SEGMENT + u]!;
            }
          }
          const idx = poolIdx.subarray(0, p);
          for (let t = 0; t < p; t++) idx[t] = t;
          selectSmallest(idx, poolVal, want);
          for (let t = 0; t < want; t++) cand![i * want + t] = pool[idx[t]!]!;
        }
      }
      for (const t of outs) t.dispose();
      v.dispose();
    }
  } finally {
    xT.dispose();
    onehot?.dispose();
  }
  return { candidates: cand, clusterSums: sums };
}

/**
 * Reorders `idx` in place so that its first `k` entries index the `k` smallest `val[idx[·]]`
 * (unordered; quickselect, ties arbitrary).
 */
export function selectSmallest(idx: Int32Array, val: Float64Array, k: number): void {
  let lo = 0;
  let hi = idx.length - 1;
  if (k <= 0 || k >= idx.length) return;
  while (lo < hi) {
    const pivot = val[idx[(lo + hi) >> 1]!]!;
    let a = lo;
    let b = hi;
    while (a <= b) {
      while (val[idx[a]!]! < pivot) a++;
      while (val[idx[b]!]! > pivot) b--;
      if (a <= b) {
        const t = idx[a]!;
        idx[a] = idx[b]!;
        idx[b] = t;
        a++;
        b--;
      }
    }
    if (k - 1 <= b) hi = b;
    else if (k - 1 >= a) lo = a;
    else return;
  }
}
