import { Rng } from '@invae/core';
import { BenchInputError } from '../errors';
import type { NeighborsResult } from '../neighbors/neighbors';
import { fuzzySimplicialSet, type FuzzyGraph } from '../neighbors/umap-graph';
import { normalizeInitialLayout, spectralLayout } from './umap-init';

/**
 * The parameters (a, b) of UMAP's low-dimensional similarity 1 / (1 + a d^(2b)): a least-squares fit
 * (Levenberg–Marquardt from a = b = 1, as umap-learn's `find_ab_params` with scipy's `curve_fit`) to
 * the curve that is 1 up to `minDist` and exp(−(d − minDist)/spread) beyond, on 300 points of
 * [0, 3·spread].
 */
export function findAbParams(spread: number, minDist: number): { a: number; b: number } {
  const m = 300;
  const xs = new Float64Array(m);
  const ys = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const x = (3 * spread * i) / (m - 1);
    xs[i] = x;
    ys[i] = x < minDist ? 1 : Math.exp(-(x - minDist) / spread);
  }
  const cost = (a: number, b: number): number => {
    let s = 0;
    for (let i = 0; i < m; i++) {
      const u = xs[i]! > 0 ? Math.pow(xs[i]!, 2 * b) : 0;
      s += (1 / (1 + a * u) - ys[i]!) ** 2;
    }
    return s;
  };
  let a = 1;
  let b = 1;
  let lambda = 1e-3;
  let c = cost(a, b);
  for (let it = 0; it < 500; it++) {
    // Normal equations JᵀJ δ = −Jᵀr of the residuals r = f − y.
    let jaa = 0;
    let jab = 0;
    let jbb = 0;
    let ga = 0;
    let gb = 0;
    for (let i = 0; i < m; i++) {
      const x = xs[i]!;
      if (!(x > 0)) continue; // f(0) = 1 whatever a, b
      const u = Math.pow(x, 2 * b);
      const q = 1 + a * u;
      const r = 1 / q - ys[i]!;
      const da = -u / (q * q);
      const db = (-a * u * 2 * Math.log(x)) / (q * q);
      jaa += da * da;
      jab += da * db;
      jbb += db * db;
      ga += da * r;
      gb += db * r;
    }
    let improved = false;
    for (let tries = 0; tries < 30; tries++) {
      const A11 = jaa * (1 + lambda);
      const A22 = jbb * (1 + lambda);
      const det = A11 * A22 - jab * jab;
      const na = a + (-ga * A22 + gb * jab) / det;
      const nb = b + (-gb * A11 + ga * jab) / det;
      const nc = na > 0 && nb > 0 ? cost(na, nb) : Infinity;
      if (nc < c) {
        const step = Math.abs(na - a) + Math.abs(nb - b);
        a = na;
        b = nb;
        const rel = (c - nc) / Math.max(c, 1e-300);
        c = nc;
        lambda = Math.max(lambda / 10, 1e-12);
        improved = step > 1e-13 && rel > 1e-15;
        break;
      }
      lambda *= 10;
    }
    if (!improved) break;
  }
  return { a, b };
}

/** Options of {@link optimizeLayout}. */
export interface LayoutOptions {
  readonly nEpochs: number;
  readonly a: number;
  readonly b: number;
  /** Weight of the repulsive term (umap-learn's `repulsion_strength`, default 1). */
  readonly gamma?: number;
  /** Initial learning rate, decaying linearly to 0 (default 1). */
  readonly learningRate?: number;
  /** Negative samples per positive one (default 5). */
  readonly negativeSampleRate?: number;
  /** Seed of the negative sampling. */
  readonly seed: number;
}

const clip4 = (v: number): number => (v > 4 ? 4 : v < -4 ? -4 : v);

/** Distance out to which the gradient coefficients are tabulated, and the tables' intervals. */
const TABLE_RANGE = 64;
const TABLE_STEPS = 16384;

/**
 * The gradient coefficients of UMAP's loss at distances d = 0, h, 2h, …, TABLE_RANGE
 * (h = TABLE_RANGE / TABLE_STEPS = 1/256), for linear interpolation, as a power costs several times
 * a table lookup (float32, so that both tables stay in the processor's cache beside the layout). `repulsion`: 2γb / ((0.001 + d²)(1 + a d^(2b))), the coefficient of a negative
 * sample; `attraction`: d · 2ab d^(2b−2) / (1 + a d^(2b)), the magnitude of the attractive
 * gradient (finite at 0 for every b > 1/2; the coefficient is this divided by d). With the default
 * a, b the relative interpolation error is below 1e-4 beyond distance 0.5 and below 1e-3 beyond
 * 0.1; closer in, a negative sample's coefficient exceeds 100 and its update is clipped to ±4 anyway
 * unless that axis' offset is tiny, and the attraction is nearly 0.
 */
export function gradientTables(a: number, b: number, gamma: number): { repulsion: Float32Array; attraction: Float32Array } {
  const repulsion = new Float32Array(TABLE_STEPS + 2);
  const attraction = new Float32Array(TABLE_STEPS + 2);
  for (let t = 0; t < repulsion.length; t++) {
    const d = (t * TABLE_RANGE) / TABLE_STEPS;
    const d2b = Math.pow(d * d, b);
    repulsion[t] = (2 * gamma * b) / ((0.001 + d * d) * (a * d2b + 1));
    attraction[t] = d > 0 ? (2 * a * b * (d2b / d)) / (a * d2b + 1) : 0;
  }
  return { repulsion, attraction };
}

/**
 * UMAP's layout optimisation (umap-learn's `optimize_layout_euclidean`, 2-D, one thread): each
 * epoch, every edge whose turn has come (edge i is sampled every n_epochs · max(w) / wᵢ epochs) pulls
 * its two ends together with the gradient of log(1 / (1 + a d^(2b))), then pushes the head away from
 * as many uniformly drawn points as its negative-sampling schedule owes (the repulsive gradient
 * 2γb / ((0.001 + d²)(1 + a d^(2b))), nothing at distance 0); gradients are clipped to ±4 per axis
 * and the learning rate decays linearly. Edges below max(w) / n_epochs are not sampled (umap-learn
 * drops them; for n_epochs ≤ 10 the cut uses its default epoch count instead). `coords` (row-major n × 2) is updated in place and returned.
 */
export function optimizeLayout(graph: FuzzyGraph, coords: Float64Array, options: LayoutOptions): Float64Array {
  const { nEpochs, a, b } = options;
  const gamma = options.gamma ?? 1;
  const alpha0 = options.learningRate ?? 1;
  const negRate = options.negativeSampleRate ?? 5;
  const n = graph.n;
  const { head, tail, epochsPerSample } = sampledEdges(graph, pruningEpochs(nEpochs, graph.n));
  const E = head.length;
  const nextSample = Float64Array.from(epochsPerSample);
  const perNeg = new Float64Array(E);
  for (let i = 0; i < E; i++) perNeg[i] = epochsPerSample[i]! / negRate;
  const nextNeg = Float64Array.from(perNeg);
  // xorshift32 of the negative sampling, seeded from the core generator (never 0).
  let state = new Rng(options.seed).nextUint32() | 0 || 0x2545f491;
  const emb = coords;
  const twoAB = 2 * a * b;
  const twoGB = 2 * gamma * b;
  // Gradient coefficients as functions of distance, tabulated (linear interpolation; see
  // gradientTables) out to TABLE_RANGE, exact beyond.
  const { repulsion: rep, attraction: att } = gradientTables(a, b, gamma);
  const scale = TABLE_STEPS / TABLE_RANGE;
  const maxD2 = TABLE_RANGE * TABLE_RANGE;
  const pick = n / 4294967296;
  for (let epoch = 0; epoch < nEpochs; epoch++) {
    const alpha = alpha0 * (1 - epoch / nEpochs);
    for (let i = 0; i < E; i++) {
      if (nextSample[i]! > epoch) continue;
      const j = head[i]!;
      const k = tail[i]!;
      const jx = 2 * j;
      const kx = 2 * k;
      let cx = emb[jx]!;
      let cy = emb[jx + 1]!;
      const dx = cx - emb[kx]!;
      const dy = cy - emb[kx + 1]!;
      const d2 = dx * dx + dy * dy;
      if (d2 > 0) {
        let g: number;
        if (d2 < maxD2) {
          const dist = Math.sqrt(d2);
          const u = dist * scale;
          const t = u | 0;
          g = -(att[t]! + (u - t) * (att[t + 1]! - att[t]!)) / dist;
        } else {
          const pb = Math.exp(b * Math.log(d2)); // d²ᵇ (twice as fast as Math.pow in V8)
          g = (-twoAB * (pb / d2)) / (a * pb + 1);
        }
        const gx = clip4(g * dx) * alpha;
        const gy = clip4(g * dy) * alpha;
        cx += gx;
        cy += gy;
        emb[kx]! -= gx;
        emb[kx + 1]! -= gy;
      }
      nextSample[i]! += epochsPerSample[i]!;
      const nNeg = Math.floor((epoch - nextNeg[i]!) / perNeg[i]!);
      for (let p = 0; p < nNeg; p++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        const r = ((state >>> 0) * pick) | 0; // ⌊u · n / 2³²⌋, cheaper than a modulo
        if (r === j) continue;
        const ox = cx - emb[2 * r]!;
        const oy = cy - emb[2 * r + 1]!;
        const e2 = ox * ox + oy * oy;
        if (e2 > 0) {
          let g: number;
          if (e2 < maxD2) {
            const u = Math.sqrt(e2) * scale;
            const t = u | 0;
            g = rep[t]! + (u - t) * (rep[t + 1]! - rep[t]!);
          } else g = twoGB / ((0.001 + e2) * (a * Math.exp(b * Math.log(e2)) + 1));
          cx += clip4(g * ox) * alpha;
          cy += clip4(g * oy) * alpha;
        }
      }
      emb[jx] = cx;
      emb[jx + 1] = cy;
      if (nNeg > 0) nextNeg[i]! += nNeg * perNeg[i]!;
    }
  }
  return emb;
}

/**
 * The epoch count whose share of the largest weight is the lightest edge kept: `nEpochs`, or the
 * default epoch count for very short runs (umap-learn's rule for n_epochs ≤ 10).
 */
function pruningEpochs(nEpochs: number, n: number): number {
  return nEpochs > 10 ? nEpochs : n <= 10_000 ? 500 : 200;
}

/**
 * The directed edges (both directions of every graph edge) that the optimisation samples, with their
 * sampling periods max(w) / w in epochs (an edge is sampled n_epochs · w / max(w) times); edges
 * lighter than max(w) / `pruneEpochs` are dropped.
 */
function sampledEdges(graph: FuzzyGraph, pruneEpochs: number): { head: Int32Array; tail: Int32Array; epochsPerSample: Float64Array } {
  let max = 0;
  for (const w of graph.weights) max = Math.max(max, w);
  const cut = max / pruneEpochs;
  let count = 0;
  for (const w of graph.weights) if (w >= cut && w > 0) count++;
  const head = new Int32Array(count);
  const tail = new Int32Array(count);
  const epochsPerSample = new Float64Array(count);
  let e = 0;
  for (let i = 0; i < graph.n; i++) {
    for (let p = graph.indptr[i]!; p < graph.indptr[i + 1]!; p++) {
      const w = graph.weights[p]!;
      if (!(w >= cut && w > 0)) continue;
      head[e] = i;
      tail[e] = graph.indices[p]!;
      epochsPerSample[e] = max / w; // = n_epochs / (n_epochs · w / max)
      e++;
    }
  }
  return { head, tail, epochsPerSample };
}

/** Options of {@link umapLayout}. */
export interface UmapLayoutOptions {
  /** Minimum distance between embedded points (default 0.5, scanpy's). */
  readonly minDist?: number;
  /** Scale of the embedded points (default 1). */
  readonly spread?: number;
  /** Optimisation epochs (default umap-learn's rule: 500 up to 10 000 points, else 200). */
  readonly nEpochs?: number;
  /** Initial layout: `spectral` (default, as umap-learn and scanpy) or seeded uniform `random`. */
  readonly init?: 'spectral' | 'random';
  /** Seed of the initial layout and the negative sampling (default 0). */
  readonly seed?: number;
}

/**
 * A 2-D UMAP layout from a kNN graph (the point itself first in every row): the fuzzy simplicial set
 * ({@link fuzzySimplicialSet}), a spectral (or random) initial layout scaled to [0, 10]², and the
 * optimisation ({@link optimizeLayout}) with (a, b) from ({@link findAbParams}). Returns row-major
 * n × 2 coordinates and the epochs run. Deterministic for a seed.
 */
export function umapLayout(nn: NeighborsResult, options: UmapLayoutOptions = {}): { coordinates: Float64Array; nEpochs: number; init: 'spectral' | 'random' } {
  const n = nn.nObs;
  const minDist = options.minDist ?? 0.5;
  const spread = options.spread ?? 1;
  const seed = options.seed ?? 0;
  const nEpochs = options.nEpochs ?? (n <= 10_000 ? 500 : 200);
  const init = options.init ?? 'spectral';
  if (init !== 'spectral' && init !== 'random') {
    throw new BenchInputError('init', `Unknown UMAP initialisation '${String(init)}'.`, { hint: "Use 'spectral' or 'random'." });
  }
  const graph = fuzzySimplicialSet(nn);
  const rng = new Rng(seed);
  let start: Float64Array | null = null;
  let used: 'spectral' | 'random' = 'random';
  if (init === 'spectral') {
    const spectral = spectralLayout(sampledGraph(graph, pruningEpochs(nEpochs, n)), rng);
    if (spectral) {
      start = normalizeInitialLayout(spectral, rng, true);
      used = 'spectral';
    }
  }
  if (!start) {
    const raw = new Float64Array(2 * n);
    for (let t = 0; t < raw.length; t++) raw[t] = rng.uniformRange(-10, 10);
    start = normalizeInitialLayout(raw, rng, false);
  }
  const { a, b } = findAbParams(spread, minDist);
  const coordinates = optimizeLayout(graph, start, { nEpochs, a, b, seed: rng.nextUint32() });
  return { coordinates, nEpochs, init: used };
}

/** The graph without the edges the optimisation never samples (umap-learn's spectral start sees this one). */
function sampledGraph(graph: FuzzyGraph, pruneEpochs: number): FuzzyGraph {
  let max = 0;
  for (const w of graph.weights) max = Math.max(max, w);
  const cut = max / pruneEpochs;
  let count = 0;
  for (const w of graph.weights) if (w >= cut) count++;
  const indptr = new Int32Array(graph.n + 1);
  const indices = new Int32Array(count);
  const weights = new Float64Array(count);
  let e = 0;
  for (let i = 0; i < graph.n; i++) {
    for (let p = graph.indptr[i]!; p < graph.indptr[i + 1]!; p++) {
      if (!(graph.weights[p]! >= cut)) continue;
      indices[e] = graph.indices[p]!;
      weights[e] = graph.weights[p]!;
      e++;
    }
    indptr[i + 1] = e;
  }
  return { n: graph.n, indptr, indices, weights };
}
