import type { NeighborsResult } from './neighbors';
import { smoothKnnDistances } from './umap-graph';

/**
 * A weighted kNN graph over `n` cells (UMAP connectivities, diffusion transitions): its square weight
 * matrix in compressed-row form, column indices sorted per row. Not a count matrix (see
 * `@invae/common`'s `CsrMatrix` for those).
 */
export interface NeighborGraph {
  readonly n: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly data: Float64Array;
}

/**
 * kNN connectivities as UMAP's `fuzzy_simplicial_set` (used by scanpy and scib-metrics'
 * `knn_graph_connectivities`): directed memberships w_ij = exp(−max(0, d_ij − rho_i)/sigma_i)
 * (1 when d_ij ≤ rho_i, 0 for self), symmetrised by the fuzzy union W + Wᵀ − W∘Wᵀ.
 */
export function umapConnectivities(nn: NeighborsResult): NeighborGraph {
  const { nObs: n, nNeighbors: k } = nn;
  const { sigmas, rhos } = smoothKnnDistances(nn);
  // Directed memberships as CSR, columns ascending per row.
  const wPtr = new Int32Array(n + 1);
  const wInd = new Int32Array(n * k);
  const wVal = new Float64Array(n * k);
  const order = new Int32Array(k);
  const vals = new Float64Array(k);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < k; j++) {
      const c = nn.indices[i * k + j]!;
      if (c === i || c < 0) continue;
      const d = nn.distances[i * k + j]!;
      const v = d - rhos[i]! <= 0 || sigmas[i] === 0 ? 1 : Math.exp(-((d - rhos[i]!) / sigmas[i]!));
      if (v === 0) continue;
      vals[j] = v;
      // Insertion by column (neighbour lists are short and nearly random in column).
      let p = m++;
      while (p > 0 && nn.indices[i * k + order[p - 1]!]! > c) {
        order[p] = order[p - 1]!;
        p--;
      }
      order[p] = j;
    }
    for (let p = 0; p < m; p++) {
      const j = order[p]!;
      wInd[nnz + p] = nn.indices[i * k + j]!;
      wVal[nnz + p] = vals[j]!;
    }
    nnz += m;
    wPtr[i + 1] = nnz;
  }
  // Transpose (counting sort by column): row c of Wᵀ lists the cells i with an edge i → c, ascending.
  const tPtr = new Int32Array(n + 1);
  for (let p = 0; p < nnz; p++) tPtr[wInd[p]! + 1]++;
  for (let i = 0; i < n; i++) tPtr[i + 1] += tPtr[i]!;
  const tInd = new Int32Array(nnz);
  const tVal = new Float64Array(nnz);
  const fill = tPtr.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let p = wPtr[i]!; p < wPtr[i + 1]!; p++) {
      const q = fill[wInd[p]!]!++;
      tInd[q] = i;
      tVal[q] = wVal[p]!;
    }
  }
  // Fuzzy union row by row: merge row i of W (a = w_ic) with row i of Wᵀ (b = w_ci).
  const indptr = new Int32Array(n + 1);
  for (let pass = 0; pass < 2; pass++) {
    const indices = pass === 0 ? null : new Int32Array(indptr[n]!);
    const data = pass === 0 ? null : new Float64Array(indptr[n]!);
    for (let i = 0; i < n; i++) {
      let p = wPtr[i]!;
      const pe = wPtr[i + 1]!;
      let q = tPtr[i]!;
      const qe = tPtr[i + 1]!;
      let out = pass === 0 ? 0 : indptr[i]!;
      while (p < pe || q < qe) {
        const cp = p < pe ? wInd[p]! : n;
        const cq = q < qe ? tInd[q]! : n;
        const c = cp < cq ? cp : cq;
        const a = cp === c ? wVal[p++]! : 0;
        const b = cq === c ? tVal[q++]! : 0;
        if (indices) {
          indices[out] = c;
          data![out] = a + b - a * b;
        }
        out++;
      }
      if (pass === 0) indptr[i + 1] = indptr[i]! + out;
    }
    if (indices) return { n, indptr, indices, data: data! };
  }
  throw new Error('unreachable');
}

/** The submatrix of `g` on the nodes `idx` (in that order). */
export function subgraph(g: NeighborGraph, idx: ArrayLike<number>): NeighborGraph {
  const local = new Int32Array(g.n).fill(-1);
  for (let t = 0; t < idx.length; t++) local[idx[t]!] = t;
  const ip = new Int32Array(idx.length + 1);
  for (let t = 0; t < idx.length; t++) {
    const i = idx[t]!;
    let cnt = 0;
    for (let p = g.indptr[i]!; p < g.indptr[i + 1]!; p++) if (local[g.indices[p]!]! >= 0) cnt++;
    ip[t + 1] = ip[t]! + cnt;
  }
  const ind = new Int32Array(ip[idx.length]!);
  const dat = new Float64Array(ip[idx.length]!);
  for (let t = 0; t < idx.length; t++) {
    const i = idx[t]!;
    let o = ip[t]!;
    let sorted = true;
    for (let p = g.indptr[i]!; p < g.indptr[i + 1]!; p++) {
      const c = local[g.indices[p]!]!;
      if (c < 0) continue;
      if (o > ip[t]! && ind[o - 1]! > c) sorted = false;
      ind[o] = c;
      dat[o++] = g.data[p]!;
    }
    if (!sorted) {
      // idx was not increasing: sort this row's entries by local column.
      const s = ip[t]!;
      const e = ip[t + 1]!;
      const perm = Array.from({ length: e - s }, (_, u) => s + u).sort((a, b) => ind[a]! - ind[b]!);
      const ci = perm.map((u) => ind[u]!);
      const cv = perm.map((u) => dat[u]!);
      ind.set(ci, s);
      dat.set(cv, s);
    }
  }
  return { n: idx.length, indptr: ip, indices: ind, data: dat };
}
