import { encodeCategorical, type Categorical } from '../internal/categories';
import { BenchInputError } from '../errors';
import { checkNeighbors, type NeighborsResult } from '../neighbors/neighbors';

/**
 * Perplexity-calibrated neighbour probabilities of one cell (the t-SNE/Harmony binary search on the
 * precision `beta`, start 1, tolerance `tol` on the entropy, at most 50 halvings/doublings); self
 * edges get probability 0. Returns the entropy H (0 when every weight vanished).
 */
function neighborProbabilities(dists: Float64Array, selfMask: Uint8Array, perplexity: number, tol: number, P: Float64Array): number {
  const k = dists.length;
  const logU = Math.log(perplexity);
  const hbeta = (beta: number): number => {
    let sumP = 0;
    let sumDP = 0;
    for (let j = 0; j < k; j++) {
      const p = selfMask[j] ? Math.exp(-dists[j]! * beta) : 0;
      P[j] = p;
      sumP += p;
      sumDP += dists[j]! * p;
    }
    if (sumP === 0) {
      P.fill(0);
      return 0;
    }
    for (let j = 0; j < k; j++) P[j]! /= sumP;
    return Math.log(sumP) + (beta * sumDP) / sumP;
  };
  let beta = 1;
  let betaMin = -Infinity;
  let betaMax = Infinity;
  let H = hbeta(beta);
  let diff = H - logU;
  let tries = 0;
  while (Math.abs(diff) >= tol && tries < 50) {
    if (diff > 0) {
      betaMin = beta;
      beta = betaMax === Infinity ? beta * 2 : (beta + betaMax) / 2;
    } else {
      betaMax = beta;
      beta = betaMin === -Infinity ? beta / 2 : (beta + betaMin) / 2;
    }
    H = hbeta(beta);
    diff = H - logU;
    tries++;
  }
  return H;
}

/**
 * Perplexity-calibrated neighbour weights of every cell, the part of LISI that depends only on the
 * neighbour distances (so cLISI and iLISI on the same neighbours can share it): row-major
 * `nObs × nNeighbors` probabilities (self edges 0), and per cell whether any weight survived
 * (`valid[i] = 0` when all vanished; such a cell's LISI is −1).
 */
export interface LisiWeights {
  readonly probabilities: Float64Array;
  readonly valid: Uint8Array;
  readonly nObs: number;
  readonly nNeighbors: number;
  readonly perplexity: number;
}

/** Computes the {@link LisiWeights} of `nn` (perplexity default ⌊k / 3⌋, tolerance 1e-5). */
export function lisiWeights(nn: NeighborsResult, options: { perplexity?: number; tol?: number } = {}): LisiWeights {
  checkNeighbors(nn, nn.nObs);
  const k = nn.nNeighbors;
  const perplexity = options.perplexity ?? Math.floor(k / 3);
  if (!(perplexity > 0)) {
    throw new BenchInputError('perplexity', `LISI perplexity must be positive, got ${perplexity}.`, {
      hint: 'Use at least 3 neighbours or pass a positive perplexity.',
    });
  }
  const tol = options.tol ?? 1e-5;
  const probabilities = new Float64Array(nn.nObs * k);
  const valid = new Uint8Array(nn.nObs);
  const P = new Float64Array(k);
  const dists = new Float64Array(k);
  const mask = new Uint8Array(k);
  for (let i = 0; i < nn.nObs; i++) {
    for (let j = 0; j < k; j++) {
      dists[j] = nn.distances[i * k + j]!;
      mask[j] = nn.indices[i * k + j]! !== i ? 1 : 0;
    }
    const H = neighborProbabilities(dists, mask, perplexity, tol, P);
    if (H === 0) continue;
    valid[i] = 1;
    probabilities.set(P, i * k);
  }
  return { probabilities, valid, nObs: nn.nObs, nNeighbors: k, perplexity };
}

/**
 * Local inverse Simpson index of every cell (scib-metrics `lisi_knn`, Korsunsky et al. 2019): from the
 * kNN distances (self excluded), perplexity-calibrated Gaussian weights; LISI = 1 / Σ_c (Σ_{j∈c} p_j)².
 * A cell whose weights all vanish gets −1 (scib-metrics' convention). `perplexity` defaults to
 * ⌊k / 3⌋ (30 for 90 neighbours). Pass `weights` (from {@link lisiWeights} on the same `nn`) to reuse
 * the calibration across label sets.
 */
export function lisiKnn(
  nn: NeighborsResult,
  labels: Categorical,
  options: { perplexity?: number; tol?: number; weights?: LisiWeights } = {},
): Float64Array {
  const enc = encodeCategorical(labels, 'labels', nn.nObs);
  checkNeighbors(nn, enc.codes.length);
  const k = nn.nNeighbors;
  const w = options.weights ?? lisiWeights(nn, options);
  if (w.nObs !== nn.nObs || w.nNeighbors !== k || (options.perplexity !== undefined && options.perplexity !== w.perplexity)) {
    throw new BenchInputError('weights', `LISI weights (${w.nObs} × ${w.nNeighbors} neighbours, perplexity ${w.perplexity}) do not match these neighbours (${nn.nObs} × ${k}) or options.`, {
      hint: 'Compute them with lisiWeights() on the same neighbours.',
    });
  }
  const L = enc.counts.length;
  const out = new Float64Array(nn.nObs);
  const sums = new Float64Array(L);
  for (let i = 0; i < nn.nObs; i++) {
    if (!w.valid[i]) {
      out[i] = 1 / -1;
      continue;
    }
    sums.fill(0);
    for (let j = 0; j < k; j++) sums[enc.codes[nn.indices[i * k + j]!]!] += w.probabilities[i * k + j]!;
    let simpson = 0;
    for (let c = 0; c < L; c++) simpson += sums[c]! * sums[c]!;
    out[i] = 1 / simpson;
  }
  return out;
}

function nanMedian(v: Float64Array): number {
  const a = Array.from(v).filter((x) => !Number.isNaN(x)).sort((p, q) => p - q);
  if (a.length === 0) return NaN;
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

/**
 * scib-metrics `ilisi_knn`: median iLISI over cells with the batches as categories, scaled to
 * (median − 1) / (number of batches − 1) by default (1 = perfectly mixed). NaN for a single batch.
 * Use 90 neighbours (the Benchmarker does). Higher is better (batch correction). `weights` (see
 * {@link lisiWeights}) lets cLISI and iLISI share one perplexity calibration.
 */
export function ilisiKnn(nn: NeighborsResult, batches: Categorical, options: { perplexity?: number; scale?: boolean; weights?: LisiWeights } = {}): number {
  const enc = encodeCategorical(batches, 'batches', nn.nObs);
  const med = nanMedian(lisiKnn(nn, enc.codes, options));
  if (options.scale === false) return med;
  const nb = enc.counts.length;
  return nb === 1 ? NaN : (med - 1) / (nb - 1);
}

/**
 * scib-metrics `clisi_knn`: median cLISI over cells with the cell-type labels as categories, scaled to
 * (number of labels − median) / (number of labels − 1) by default (1 = pure neighbourhoods). NaN for a
 * single label. Use 90 neighbours. Higher is better (bio conservation). `weights` as for
 * {@link ilisiKnn}.
 */
export function clisiKnn(nn: NeighborsResult, labels: Categorical, options: { perplexity?: number; scale?: boolean; weights?: LisiWeights } = {}): number {
  const enc = encodeCategorical(labels, 'labels', nn.nObs);
  const med = nanMedian(lisiKnn(nn, enc.codes, options));
  if (options.scale === false) return med;
  const nl = enc.counts.length;
  return nl === 1 ? NaN : (nl - med) / (nl - 1);
}
