import { WasmThreadPool, wasmThreadsSupported } from '@invae/common';
import type { Embedding } from '../internal/matrix';
import { scanThreads } from './fold-worker';
import { KNN_WASM_BASE64 } from './knn-binary';
import { selectSmallestPairs, sortPairs } from './tile-fold';

/** Default column panels (of 8 cells) per spatial block of the WebAssembly search. */
export const DEFAULT_BLOCK_PANELS = 32;

/** Options of {@link wasmNeighborCandidates}. */
export interface WasmSearchOptions {
  /** Threads (default: `INVAE_BENCH_THREADS`, else min(2, cores)). Results never depend on it. */
  readonly threads?: number;
  /** Panels of 8 cells per spatial block (default {@link DEFAULT_BLOCK_PANELS}). */
  readonly blockPanels?: number;
  /**
   * Compute every pair of cells once, for both cells' heaps, with no triangle-inequality pruning
   * (default false): about half the products of an unpruned search, so faster where pruning rules
   * out little (one cluster in many dimensions, as kBET's diffusion maps); the same neighbours.
   */
  readonly symmetric?: boolean;
}

/**
 * The rounds of the symmetric search: first every block with itself, then the pairs of blocks of a
 * round-robin tournament (circle method), so no block appears twice in a round. Each round is a
 * flat list of (I, J) pairs.
 */
export function symmetricRounds(nBlocks: number): Int32Array[] {
  const rounds: Int32Array[] = [Int32Array.from({ length: 2 * nBlocks }, (_, t) => t >> 1)];
  const N = nBlocks + (nBlocks % 2);
  for (let r = 0; r < N - 1; r++) {
    const pairs: number[] = [];
    const add = (a: number, b: number) => {
      if (a < nBlocks && b < nBlocks) pairs.push(Math.min(a, b), Math.max(a, b));
    };
    add(N - 1, r);
    for (let k = 1; k < N / 2; k++) add((r + k) % (N - 1), (r - k + N - 1) % (N - 1));
    if (pairs.length > 0) rounds.push(Int32Array.from(pairs));
  }
  return rounds;
}

let lastSearchStats = { tiles: 0, allTiles: 0, blocks: 0 };

/**
 * Work of the last WebAssembly kNN search in this thread: 4-row × column-block tiles computed, of
 * all there are (the rest were ruled out by the triangle inequality), and the number of blocks.
 * @internal
 */
export function wasmSearchStats(): { readonly tiles: number; readonly allTiles: number; readonly blocks: number } {
  return { ...lastSearchStats };
}

/** Whether the WebAssembly search can run here (shared-memory WebAssembly threads). */
export function wasmSearchAvailable(): boolean {
  return wasmThreadsSupported();
}

/**
 * Orders the cells so that consecutive runs of `B` cells are spatially compact: recursive bisection
 * along each node's principal direction (power iteration), split at a multiple of `B`. Deterministic.
 */
export function spatialOrder(xc: Float32Array, n: number, d: number, B: number): Int32Array {
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const proj = new Float32Array(n);
  const mean = new Float64Array(d);
  const v = new Float64Array(d);
  const w = new Float64Array(d);
  const stack: [number, number][] = [[0, n]];
  while (stack.length) {
    const [lo, hi] = stack.pop()!;
    if (hi - lo <= B) continue;
    mean.fill(0);
    for (let t = lo; t < hi; t++) {
      const o = perm[t]! * d;
      for (let c = 0; c < d; c++) mean[c]! += xc[o + c]!;
    }
    for (let c = 0; c < d; c++) mean[c]! /= hi - lo;
    // Start from the spread of the node's first and middle cells, then 3 power iterations.
    const a = perm[lo]! * d;
    const b = perm[(lo + hi) >> 1]! * d;
    for (let c = 0; c < d; c++) v[c] = xc[a + c]! - xc[b + c]! + 1e-3 * (c + 1);
    for (let it = 0; it < 3; it++) {
      w.fill(0);
      for (let t = lo; t < hi; t++) {
        const o = perm[t]! * d;
        let s = 0;
        for (let c = 0; c < d; c++) s += (xc[o + c]! - mean[c]!) * v[c]!;
        for (let c = 0; c < d; c++) w[c]! += s * (xc[o + c]! - mean[c]!);
      }
      let norm = 0;
      for (let c = 0; c < d; c++) norm += w[c]! * w[c]!;
      norm = Math.sqrt(norm);
      if (!(norm > 0)) break;
      for (let c = 0; c < d; c++) v[c] = w[c]! / norm;
    }
    for (let t = lo; t < hi; t++) {
      const o = perm[t]! * d;
      let s = 0;
      for (let c = 0; c < d; c++) s += (xc[o + c]! - mean[c]!) * v[c]!;
      proj[t] = s;
    }
    const mid = lo + B * Math.ceil((hi - lo) / (2 * B));
    selectSmallestPairs(proj, perm, lo, hi - 1, mid);
    stack.push([mid, hi], [lo, mid]);
  }
  return perm;
}

/**
 * The `h` nearest other cells of every cell (original indices, row-major n × h), ordered by the
 * kernel's float32 squared distances, ties by index — exactly the h smallest (float32 distance,
 * index) pairs — by the SIMD kernel of `knn.wat` on a {@link WasmThreadPool}: cells in spatial blocks,
 * every row block against the column blocks nearest first, blocks that the triangle inequality rules
 * out skipped. Requires 1 ≤ h ≤ n − 1.
 */
export function wasmNeighborCandidates(x: Embedding, h: number, options: WasmSearchOptions = {}): Int32Array {
  const { nRows: n, nCols: d } = x;
  const bp = Math.max(1, Math.floor(options.blockPanels ?? DEFAULT_BLOCK_PANELS));
  const B = bp * 8;
  const threads = Math.max(1, Math.floor(options.threads ?? scanThreads()));
  // Centre (float64 mean), keep float32.
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) mean[c]! += x.data[i * d + c]!;
  for (let c = 0; c < d; c++) mean[c]! /= n;
  const xc = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) xc[i] = x.data[i]! - mean[i % d]!;
  const perm = spatialOrder(xc, n, d, B);
  const nBlocks = Math.ceil(n / B);
  const nPad = nBlocks * B;
  const nPanels = Math.ceil(n / 8);
  // Block centres and radii (float64, radius rounded up).
  const cen = new Float32Array(nBlocks * d);
  const rad = new Float32Array(nBlocks);
  let maxNorm2 = 0;
  const cd = new Float64Array(d);
  for (let I = 0; I < nBlocks; I++) {
    const lo = I * B;
    const hi = Math.min(n, lo + B);
    cd.fill(0);
    for (let t = lo; t < hi; t++) for (let c = 0; c < d; c++) cd[c]! += xc[perm[t]! * d + c]!;
    for (let c = 0; c < d; c++) cd[c]! /= hi - lo;
    let r2 = 0;
    for (let t = lo; t < hi; t++) {
      let s = 0;
      let nn = 0;
      for (let c = 0; c < d; c++) {
        const v = xc[perm[t]! * d + c]!;
        s += (v - cd[c]!) ** 2;
        nn += v * v;
      }
      if (s > r2) r2 = s;
      if (nn > maxNorm2) maxNorm2 = nn;
    }
    for (let c = 0; c < d; c++) cen[I * d + c] = cd[c]!;
    rad[I] = Math.sqrt(r2) * (1 + 1e-6);
  }
  const maxNorm = Math.sqrt(maxNorm2);
  const symmetric = options.symmetric === true;
  // Column blocks of each row block, by key = ‖c_I − c_J‖ − rad_J ascending (the pruned search).
  const nOrder = symmetric ? 0 : nBlocks * nBlocks;
  const order = new Int32Array(nOrder);
  const key = new Float32Array(nOrder);
  for (let I = 0; I < (symmetric ? 0 : nBlocks); I++) {
    const o = I * nBlocks;
    for (let J = 0; J < nBlocks; J++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += (cen[I * d + c]! - cen[J * d + c]!) ** 2;
      key[o + J] = Math.sqrt(s) - rad[J]!;
      order[o + J] = J;
    }
    sortPairs(key.subarray(o, o + nBlocks), order.subarray(o, o + nBlocks), 0, nBlocks - 1);
  }

  const pool = new WasmThreadPool({ name: 'kNN kernel', bytes: Buffer.from(KNN_WASM_BASE64, 'base64'), kernels: ['knnBlocks', 'knnSymPairs', 'sortRows'] as const, threads });
    const rounds = symmetric ? symmetricRounds(nBlocks) : [];
  try {
    const pstride = (d + 1) * 8;
    const aParams = pool.alloc(32);
    const aPairs = pool.alloc(Math.max(1, ...rounds.map((r) => r.length)));
    const aPanels = pool.alloc(nPanels * pstride + pstride);
    const aQ = pool.alloc(nPad * d);
    const aQn = pool.alloc(nPad);
    const aHval = pool.alloc(n * h);
    const aHidx = pool.alloc(n * h);
    const aHcnt = pool.alloc(n);
    const aPerm = pool.alloc(nPad);
    const aTau = pool.alloc(nPad);
    const aCen = pool.alloc(nBlocks * d);
    const aRad = pool.alloc(nBlocks);
    const aOrder = pool.alloc(Math.max(1, nOrder));
    const aKey = pool.alloc(Math.max(1, nOrder));
    const aCounter = pool.alloc(16);
    const buf = pool.memory.buffer;
    const f32 = new Float32Array(buf);
    const i32 = new Int32Array(buf);
    const panels = f32.subarray(aPanels / 4, aPanels / 4 + nPanels * pstride + pstride);
    panels.fill(0);
    for (let p = 0; p < nPanels; p++) {
      const o = p * pstride;
      for (let l = 0; l < 8; l++) {
        const t = p * 8 + l;
        if (t >= n) {
          panels[o + l] = Infinity;
          continue;
        }
        const src = perm[t]! * d;
        let nn = 0;
        for (let c = 0; c < d; c++) {
          const v = xc[src + c]!;
          nn += v * v;
          panels[o + 8 + c * 8 + l] = v;
        }
        panels[o + l] = nn;
      }
    }
    const q = f32.subarray(aQ / 4, aQ / 4 + nPad * d);
    const qn = f32.subarray(aQn / 4, aQn / 4 + nPad);
    const tau = f32.subarray(aTau / 4, aTau / 4 + nPad);
    q.fill(0);
    qn.fill(0);
    tau.fill(-Infinity);
    const permMem = i32.subarray(aPerm / 4, aPerm / 4 + nPad);
    permMem.fill(0);
    for (let t = 0; t < n; t++) {
      const src = perm[t]! * d;
      let nn = 0;
      for (let c = 0; c < d; c++) {
        const v = xc[src + c]!;
        nn += v * v;
        q[t * d + c] = -2 * v;
      }
      qn[t] = nn;
      tau[t] = Infinity;
      permMem[t] = perm[t]!;
    }
    i32.fill(0, aHcnt / 4, aHcnt / 4 + n);
    i32.fill(0, aCounter / 4, aCounter / 4 + 16);
    f32.set(cen, aCen / 4);
    f32.set(rad, aRad / 4);
    i32.set(order, aOrder / 4);
    f32.set(key, aKey / 4);
    const params = [n, d, aPanels, aQ, aQn, aHval, aHidx, aHcnt, h, aPerm, aTau, aCen, aRad, aOrder, aKey, nBlocks, bp, aCounter];
    i32.set(params, aParams / 4);
    f32[aParams / 4 + 18] = 1e-4 * maxNorm + 1e-30;
    f32[aParams / 4 + 19] = 1e-4 * maxNorm2 + 1e-30;
    i32[aParams / 4 + 20] = aPairs;
    if (symmetric) {
      // One pool run per round (its end is the barrier between rounds), then the heaps sorted.
      for (const pairs of rounds) {
        new Int32Array(pool.memory.buffer).set(pairs, aPairs / 4);
        pool.run([{ kernel: 'knnSymPairs', args: [0, 0, aParams], splitAt: 0, units: pairs.length / 2, align: 1 }]);
      }
      pool.run([{ kernel: 'sortRows', args: [0, 0, aParams], splitAt: 0, units: nPad, align: 4 }]);
      lastSearchStats = { tiles: (nPad / 4) * ((nBlocks + 1) / 2), allTiles: (nPad / 4) * nBlocks, blocks: nBlocks };
    } else {
      pool.run([{ kernel: 'knnBlocks', args: [0, 0, aParams], splitAt: 0, units: threads, align: 1 }]);
      lastSearchStats = { tiles: new Int32Array(pool.memory.buffer, aCounter + 4, 1)[0]!, allTiles: (nPad / 4) * nBlocks, blocks: nBlocks };
    }
    const cnt = new Int32Array(pool.memory.buffer, aHcnt, n);
    const hidx = new Int32Array(pool.memory.buffer, aHidx, n * h);
    const out = new Int32Array(n * h);
    for (let t = 0; t < n; t++) {
      if (cnt[t] !== h) throw new Error(`wasmNeighborCandidates: cell ${perm[t]} has ${cnt[t]} candidates, ${h} expected.`);
      out.set(hidx.subarray(t * h, (t + 1) * h), perm[t]! * h);
    }
    return out;
  } finally {
    pool.close();
  }
}
