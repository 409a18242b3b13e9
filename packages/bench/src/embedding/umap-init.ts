import { Rng, fillNormal } from '@invae/core';
import { lanczosLargestMagnitude } from '../internal/linalg';
import type { FuzzyGraph } from '../neighbors/umap-graph';

/** Number of connected components of a symmetric graph (union–find with path halving). */
export function countComponents(graph: FuzzyGraph): number {
  const parent = Int32Array.from({ length: graph.n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  let count = graph.n;
  for (let i = 0; i < graph.n; i++) {
    for (let p = graph.indptr[i]!; p < graph.indptr[i + 1]!; p++) {
      const a = find(i);
      const b = find(graph.indices[p]!);
      if (a !== b) {
        parent[a] = b;
        count--;
      }
    }
  }
  return count;
}

/**
 * A 2-D spectral layout of a fuzzy graph: the two leading non-trivial eigenvectors of the normalised
 * adjacency D^(−1/2) W D^(−1/2) (the smallest non-trivial ones of the normalised Laplacian, as
 * umap-learn's `spectral_layout`), found by Lanczos with at most `maxBasis` vectors (an approximate
 * solution is a fine start for the optimisation). A disconnected graph is first regularised with weak
 * all-to-all edges of total weight `0.1 ×` the mean degree per point (regularised spectral
 * embedding), so that components are told apart instead of forming a degenerate eigenspace. Returns
 * row-major n × 2 coordinates, or null when the graph is too small or the solver fails.
 */
export function spectralLayout(graph: FuzzyGraph, rng: Rng, maxBasis = 64): Float64Array | null {
  const n = graph.n;
  if (n < 4) return null;
  const deg = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let p = graph.indptr[i]!; p < graph.indptr[i + 1]!; p++) deg[i] += graph.weights[p]!;
    total += deg[i]!;
  }
  const tau = countComponents(graph) > 1 ? (0.1 * total) / n : 0;
  const invSqrt = new Float64Array(n);
  const trivial = new Float64Array(n); // leading eigenvector ∝ √(degree)
  let tn = 0;
  for (let i = 0; i < n; i++) {
    const d = deg[i]! + tau;
    if (!(d > 0)) return null;
    invSqrt[i] = 1 / Math.sqrt(d);
    trivial[i] = Math.sqrt(d);
    tn += d;
  }
  tn = Math.sqrt(tn);
  for (let i = 0; i < n; i++) trivial[i]! /= tn;
  const s = new Float64Array(n);
  // y = (I + D^(−1/2) (W + τ/n 11ᵀ) D^(−1/2)) v with the trivial direction projected out: a PSD
  // operator whose largest eigenpairs are the wanted ones.
  const op = {
    n,
    apply(v: Float64Array, y: Float64Array) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += trivial[i]! * v[i]!;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        s[i] = (v[i]! - dot * trivial[i]!) * invSqrt[i]!;
        sum += s[i]!;
      }
      const shift = (tau / n) * sum;
      for (let i = 0; i < n; i++) {
        let acc = shift;
        for (let p = graph.indptr[i]!; p < graph.indptr[i + 1]!; p++) acc += graph.weights[p]! * s[graph.indices[p]!]!;
        y[i] = v[i]! - dot * trivial[i]! + acc * invSqrt[i]!;
      }
      let back = 0;
      for (let i = 0; i < n; i++) back += trivial[i]! * y[i]!;
      for (let i = 0; i < n; i++) y[i]! -= back * trivial[i]!;
    },
  };
  let vectors: Float64Array;
  try {
    vectors = lanczosLargestMagnitude(op, 2, rng, 1e-4, Math.min(n - 1, maxBasis)).vectors;
  } catch {
    return null;
  }
  return vectors.every(Number.isFinite) ? vectors : null;
}

/**
 * umap-learn's initial layout from raw 2-D coordinates: scaled so that the largest |coordinate| is
 * 10, jittered by N(0, 1e-4) noise (spectral starts only), then each axis mapped to [0, 10].
 */
export function normalizeInitialLayout(coords: Float64Array, rng: Rng, jitter: boolean): Float64Array {
  const out = Float64Array.from(coords);
  const n = out.length / 2;
  if (jitter) {
    let max = 0;
    for (const v of out) max = Math.max(max, Math.abs(v));
    const f = max > 0 ? 10 / max : 1;
    const noise = fillNormal(rng, out.length, 0, 1e-4);
    for (let t = 0; t < out.length; t++) out[t] = out[t]! * f + noise[t]!;
  }
  for (let d = 0; d < 2; d++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      lo = Math.min(lo, out[2 * i + d]!);
      hi = Math.max(hi, out[2 * i + d]!);
    }
    const span = hi - lo;
    for (let i = 0; i < n; i++) out[2 * i + d] = span > 0 ? (10 * (out[2 * i + d]! - lo)) / span : 5;
  }
  return out;
}
