/**
 * The host side of the tiled distance scan (see `scanDistances`): candidate buffers and the folding
 * of one tile of engine values into cluster sums and candidates.
 *
 * Everything here is self-contained plain code with no imports: the same functions run on the main
 * thread and, by their source text, in the helper worker of `fold-worker.ts`. Keep it that way (no
 * references to other modules, no closures over module state).
 */

/**
 * Per-cell candidate buffers for the nearest `h` values: entries below the cell's admission threshold
 * `tau[i]` are appended to its buffer (capacity `cap` > h); a full buffer is cut back to its `h`
 * smallest entries by quickselect, and `tau[i]` becomes the h-th smallest value seen so far. Appends
 * are cheap and cuts are rare, so the scan costs about one comparison per entry. `tau` is stored
 * contiguously so the scan tests it cheaply.
 */
export class CandidateBuffers {
  readonly val: Float32Array;
  readonly idx: Int32Array;
  readonly cnt: Int32Array;
  readonly tau: Float32Array;
  readonly h: number;
  readonly cap: number;

  /**
   * Buffers of `h` candidates for `n` cells, in fresh memory or, with `shared`, in the given
   * SharedArrayBuffers (see {@link candidateStorage}) so that a worker thread can fill them.
   */
  constructor(n: number, h: number, shared?: CandidateStorage) {
    this.h = h;
    this.cap = candidateCapacity(h);
    const st = shared ?? candidateStorage(n, h, false);
    this.val = new Float32Array(st.val);
    this.idx = new Int32Array(st.idx);
    this.cnt = new Int32Array(st.cnt);
    this.tau = new Float32Array(st.tau);
    if (!shared) this.tau.fill(Infinity);
  }

  /** Appends (v, j) to cell i's buffer (call only when v < tau[i]). */
  push(i: number, v: number, j: number): void {
    const o = i * this.cap + this.cnt[i]!++;
    this.val[o] = v;
    this.idx[o] = j;
    if (this.cnt[i] === this.cap) this.cut(i);
  }

  /** Keeps the h smallest entries of cell i's buffer and lowers its threshold to the largest of them. */
  private cut(i: number): void {
    const lo = i * this.cap;
    selectSmallestPairs(this.val, this.idx, lo, lo + this.cnt[i]! - 1, lo + this.h - 1);
    let m = -Infinity;
    for (let t = lo; t < lo + this.h; t++) if (this.val[t]! > m) m = this.val[t]!;
    this.tau[i] = m;
    this.cnt[i] = this.h;
  }

  /**
   * The h nearest of every cell, ascending by value (ties in any order), n × h row-major; with
   * `other`, the h nearest among both buffers' entries (the two halves of one scan).
   */
  sorted(other?: CandidateBuffers): Int32Array {
    const { h, cap, val, idx, cnt } = this;
    const n = cnt.length;
    const out = new Int32Array(n * h);
    const mv = other ? new Float32Array(cap + other.cap) : val;
    const mi = other ? new Int32Array(cap + other.cap) : idx;
    for (let i = 0; i < n; i++) {
      let lo = i * cap;
      let c = cnt[i]!;
      if (other) {
        mv.set(val.subarray(lo, lo + c), 0);
        mi.set(idx.subarray(lo, lo + c), 0);
        const ol = i * other.cap;
        const oc = other.cnt[i]!;
        mv.set(other.val.subarray(ol, ol + oc), c);
        mi.set(other.idx.subarray(ol, ol + oc), c);
        lo = 0;
        c += oc;
      }
      if (c > h) selectSmallestPairs(mv, mi, lo, lo + c - 1, lo + h - 1);
      const m = Math.min(c, h);
      sortPairs(mv, mi, lo, lo + m - 1);
      out.set(mi.subarray(lo, lo + m), i * h);
      for (let t = m; t < h; t++) out[i * h + t] = -1;
    }
    return out;
  }
}

/** Capacity of each cell's candidate buffer for `h` kept candidates. */
export function candidateCapacity(h: number): number {
  return h + (h >> 1) + 16;
}

/** The memory behind {@link CandidateBuffers}: values, indices, counts and thresholds. */
export interface CandidateStorage {
  readonly val: ArrayBufferLike;
  readonly idx: ArrayBufferLike;
  readonly cnt: ArrayBufferLike;
  readonly tau: ArrayBufferLike;
}

/** Memory for the candidate buffers of `n` cells (shared between threads if `shared`), thresholds +∞. */
export function candidateStorage(n: number, h: number, shared: boolean): CandidateStorage {
  const cap = candidateCapacity(h);
  const make = (bytes: number) => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const st = { val: make(n * cap * 4), idx: make(n * cap * 4), cnt: make(n * 4), tau: make(n * 4) };
  new Float32Array(st.tau).fill(Infinity);
  return st;
}

/** Swaps entries a and b of the paired arrays. */
export function swapPairs(val: Float32Array, idx: Int32Array, a: number, b: number): void {
  const v = val[a]!;
  val[a] = val[b]!;
  val[b] = v;
  const j = idx[a]!;
  idx[a] = idx[b]!;
  idx[b] = j;
}

/**
 * Reorders val[lo..hi] (and idx alongside) so that position `k` holds the value it would have after
 * sorting, with no larger value before it and no smaller after it (quickselect, Hoare partition).
 */
export function selectSmallestPairs(val: Float32Array, idx: Int32Array, lo: number, hi: number, k: number): void {
  while (lo < hi) {
    const pivot = val[(lo + hi) >> 1]!;
    let a = lo;
    let b = hi;
    while (a <= b) {
      while (val[a]! < pivot) a++;
      while (val[b]! > pivot) b--;
      if (a <= b) swapPairs(val, idx, a++, b--);
    }
    if (k <= b) hi = b;
    else if (k >= a) lo = a;
    else return;
  }
}

/** Sorts val[lo..hi] ascending, idx alongside (quicksort, insertion sort for short runs). */
export function sortPairs(val: Float32Array, idx: Int32Array, lo: number, hi: number): void {
  while (hi - lo > 16) {
    const pivot = val[(lo + hi) >> 1]!;
    let a = lo;
    let b = hi;
    while (a <= b) {
      while (val[a]! < pivot) a++;
      while (val[b]! > pivot) b--;
      if (a <= b) swapPairs(val, idx, a++, b--);
    }
    // Recurse into the smaller part, loop on the larger.
    if (b - lo < hi - a) {
      sortPairs(val, idx, lo, b);
      lo = a;
    } else {
      sortPairs(val, idx, a, hi);
      hi = b;
    }
  }
  for (let t = lo + 1; t <= hi; t++) {
    const v = val[t]!;
    const j = idx[t]!;
    let p = t - 1;
    while (p >= lo && val[p]! > v) {
      val[p + 1] = val[p]!;
      idx[p + 1] = idx[p]!;
      p--;
    }
    val[p + 1] = v;
    idx[p + 1] = j;
  }
}

/** The reductions of one tile (see {@link scanDistances}). */
export interface TileSink {
  readonly cosine: boolean;
  readonly codes?: Int32Array;
  readonly L: number;
  readonly sums?: Float64Array;
  readonly rowAcc: Float64Array;
  readonly cand?: CandidateBuffers;
}

/**
 * Folds one tile of engine values (rows i0 … i0 + rows − 1 against columns j0 … j0 + cols − 1,
 * row-major) into the per-cluster sums and the candidate buffers, both ways: entry (i, j) counts for
 * cell i (column j's cluster, candidate j) and for cell j (row i's cluster, candidate i). On a
 * diagonal tile only the pairs above the diagonal are read, so every unordered pair counts once per
 * side and the cell itself never. One specialised loop per case keeps the hot loops branch-light.
 */
export function foldTile(vals: Float32Array, i0: number, rows: number, j0: number, cols: number, diagonal: boolean, s: TileSink): void {
  const { cosine, codes, L, sums, rowAcc, cand } = s;
  for (let r = 0; r < rows; r++) {
    const c0 = diagonal ? r + 1 : 0;
    if (sums) {
      rowAcc.fill(0);
      if (cand) foldRowSumsCandidates(vals, r * cols, i0 + r, j0, c0, cols, codes!, L, sums, rowAcc, cand);
      else if (cosine) foldRowSumsCosine(vals, r * cols, i0 + r, j0, c0, cols, codes!, L, sums, rowAcc);
      else foldRowSumsEuclidean(vals, r * cols, i0 + r, j0, c0, cols, codes!, L, sums, rowAcc);
      const o = (i0 + r) * L;
      for (let l = 0; l < L; l++) sums[o + l]! += rowAcc[l]!;
    } else if (cand) foldRowCandidates(vals, r * cols, i0 + r, j0, c0, cols, cand);
  }
}

/** Euclidean distance sums and candidates of one tile row (see {@link foldTile}). */
function foldRowSumsCandidates(
  vals: Float32Array,
  base: number,
  i: number,
  j0: number,
  c0: number,
  cols: number,
  codes: Int32Array,
  L: number,
  sums: Float64Array,
  rowAcc: Float64Array,
  cand: CandidateBuffers,
): void {
  const tau = cand.tau;
  const li = codes[i]!;
  let ti = tau[i]!;
  for (let c = c0; c < cols; c++) {
    const v = vals[base + c]!;
    const j = j0 + c;
    const dist = v > 0 ? Math.sqrt(v) : 0;
    rowAcc[codes[j]!]! += dist;
    sums[j * L + li]! += dist;
    if (v < ti) {
      cand.push(i, v, j);
      ti = tau[i]!;
    }
    if (v < tau[j]!) cand.push(j, v, i);
  }
}

/** Euclidean distance sums of one tile row. */
function foldRowSumsEuclidean(vals: Float32Array, base: number, i: number, j0: number, c0: number, cols: number, codes: Int32Array, L: number, sums: Float64Array, rowAcc: Float64Array): void {
  const li = codes[i]!;
  for (let c = c0; c < cols; c++) {
    const v = vals[base + c]!;
    const dist = v > 0 ? Math.sqrt(v) : 0;
    const j = j0 + c;
    rowAcc[codes[j]!]! += dist;
    sums[j * L + li]! += dist;
  }
}

/** Cosine distance sums (1 − cos clipped to [0, 2]) of one tile row. */
function foldRowSumsCosine(vals: Float32Array, base: number, i: number, j0: number, c0: number, cols: number, codes: Int32Array, L: number, sums: Float64Array, rowAcc: Float64Array): void {
  const li = codes[i]!;
  for (let c = c0; c < cols; c++) {
    const v = vals[base + c]!;
    const dist = v < 0 ? 0 : v > 2 ? 2 : v;
    const j = j0 + c;
    rowAcc[codes[j]!]! += dist;
    sums[j * L + li]! += dist;
  }
}

/** Candidates of one tile row. */
function foldRowCandidates(vals: Float32Array, base: number, i: number, j0: number, c0: number, cols: number, cand: CandidateBuffers): void {
  const tau = cand.tau;
  let ti = tau[i]!;
  for (let c = c0; c < cols; c++) {
    const v = vals[base + c]!;
    if (v < ti) {
      cand.push(i, v, j0 + c);
      ti = tau[i]!;
    }
    if (v < tau[j0 + c]!) cand.push(j0 + c, v, i);
  }
}


/**
 * Source text of this module's functions, each as `const name = (source);` (bundlers may emit a class
 * as an anonymous class expression, and may rename), for evaluation in the helper worker, followed
 * by `const tileFold = { CandidateBuffers, foldTile };` naming the two entry points.
 */
export function tileFoldSource(): string {
  const parts = [
    candidateCapacity,
    candidateStorage,
    swapPairs,
    selectSmallestPairs,
    sortPairs,
    CandidateBuffers,
    foldRowSumsCandidates,
    foldRowSumsEuclidean,
    foldRowSumsCosine,
    foldRowCandidates,
    foldTile,
  ].map((f) => `const ${f.name} = (${f.toString()});`);
  return `${parts.join('\n')}\nconst tileFold = { CandidateBuffers: ${CandidateBuffers.name}, foldTile: ${foldTile.name} };\n`;
}
