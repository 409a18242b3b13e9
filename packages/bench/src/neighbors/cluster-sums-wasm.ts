import { WasmThreadPool } from '@invae/common';
import type { Embedding } from '../internal/matrix';
import type { DistanceMetric } from './distances';
import { scanThreads } from './fold-worker';
import { KNN_WASM_BASE64 } from './knn-binary';

/**
 * Per-cluster distance sums of some cells against all cells, by the SIMD kernel `clusterSums` of
 * `knn.wat` on a {@link WasmThreadPool}: for each row cell `rows[t]`, the sum of its distances to
 * the cells of every cluster (itself excluded), float64 (float32 within runs of at most 512 cells of
 * one cluster). Euclidean distances are √max(0, ‖x‖² + ‖y‖² − 2x·y) of the centred data (float32
 * products); cosine distances 1 − x̂·ŷ clipped to [0, 2] (a zero vector has distance 1 to all).
 * Every row is computed by one thread in a fixed order: results do not depend on the thread count.
 *
 * @param cols the column cells (indices into `x`; default all), with `codes[t]` the cluster of `cols[t]`.
 * @param rows the row cells (indices into `x`); each must be among `cols` or not, self is excluded when it is.
 * @returns rows.length × nClusters sums, row-major.
 */
export function wasmClusterSums(
  x: Embedding,
  cols: Int32Array,
  codes: Int32Array,
  nClusters: number,
  rows: Int32Array,
  metric: DistanceMetric,
  threads = scanThreads(),
): Float64Array {
  const d = x.nCols;
  const L = nClusters;
  const m = rows.length;
  const mPad = Math.ceil(m / 4) * 4;
  const cosine = metric === 'cosine';
  // Centre (Euclidean) or normalise (cosine) the cells used, float64 → float32.
  const mean = new Float64Array(d);
  if (!cosine) {
    for (const i of cols) for (let c = 0; c < d; c++) mean[c]! += x.data[i * d + c]!;
    for (let c = 0; c < d; c++) mean[c]! /= Math.max(1, cols.length);
  }
  const point = (i: number, out: Float32Array, at: number): number => {
    let s = 0;
    for (let c = 0; c < d; c++) {
      const v = x.data[i * d + c]! - mean[c]!;
      out[at + c] = v;
      s += v * v;
    }
    if (cosine) {
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let c = 0; c < d; c++) out[at + c]! *= inv;
      return 0;
    }
    let nn = 0;
    for (let c = 0; c < d; c++) nn += out[at + c]! * out[at + c]!;
    return nn;
  };
  // Columns by cluster, each cluster padded to whole panels of 8.
  const byCode: number[][] = Array.from({ length: L }, () => []);
  cols.forEach((i, t) => byCode[codes[t]!]!.push(i));
  let nPanels = 0;
  for (const list of byCode) nPanels += Math.ceil(list.length / 8);
  const pstride = (d + 1) * 8;
  const pool = new WasmThreadPool({ name: 'cluster sums kernel', bytes: Buffer.from(KNN_WASM_BASE64, 'base64'), kernels: ['clusterSums'] as const, threads });
  try {
    const aParams = pool.alloc(16);
    const aPanels = pool.alloc(nPanels * pstride + pstride);
    const aCodes = pool.alloc(nPanels + 1);
    const aMask = pool.alloc(nPanels * 8);
    const aQ = pool.alloc(mPad * d);
    const aQn = pool.alloc(mPad);
    const aSelf = pool.alloc(mPad);
    const aSums = pool.alloc(mPad * L * 2);
    const aCounter = pool.alloc(16);
    const buf = pool.memory.buffer;
    const f32 = new Float32Array(buf);
    const i32 = new Int32Array(buf);
    const panels = f32.subarray(aPanels / 4, aPanels / 4 + nPanels * pstride + pstride);
    panels.fill(0);
    const pcodes = i32.subarray(aCodes / 4, aCodes / 4 + nPanels + 1);
    pcodes.fill(-1);
    const mask = f32.subarray(aMask / 4, aMask / 4 + nPanels * 8);
    mask.fill(0);
    const position = new Map<number, number>();
    const tmp = new Float32Array(d);
    let p = 0;
    for (let l = 0; l < L; l++) {
      const list = byCode[l]!;
      for (let t = 0; t < list.length; t++) {
        const pp = p + (t >> 3);
        const lane = t & 7;
        const o = pp * pstride;
        const nn = point(list[t]!, tmp, 0);
        panels[o + lane] = nn;
        for (let c = 0; c < d; c++) panels[o + 8 + c * 8 + lane] = tmp[c]!;
        mask[pp * 8 + lane] = 1;
        position.set(list[t]!, pp * 8 + lane);
      }
      const np = Math.ceil(list.length / 8);
      for (let t = 0; t < np; t++) pcodes[p + t] = l;
      p += np;
    }
    const q = f32.subarray(aQ / 4, aQ / 4 + mPad * d);
    const qn = f32.subarray(aQn / 4, aQn / 4 + mPad);
    const self = i32.subarray(aSelf / 4, aSelf / 4 + mPad);
    q.fill(0);
    qn.fill(0);
    self.fill(-1);
    for (let t = 0; t < m; t++) {
      qn[t] = point(rows[t]!, tmp, 0);
      for (let c = 0; c < d; c++) q[t * d + c] = -2 * tmp[c]!;
      self[t] = position.get(rows[t]!) ?? -1;
    }
    new Float64Array(buf, aSums, mPad * L).fill(0);
    i32.fill(0, aCounter / 4, aCounter / 4 + 16);
    i32.set([mPad, d, aPanels, nPanels, aCodes, aMask, aQ, aQn, aSelf, aSums, L, aCounter, cosine ? 1 : 0], aParams / 4);
    pool.run([{ kernel: 'clusterSums', args: [0, 0, aParams], splitAt: 0, units: threads, align: 1 }]);
    return new Float64Array(pool.memory.buffer, aSums, m * L).slice();
  } finally {
    pool.close();
  }
}
