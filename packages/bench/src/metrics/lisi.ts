import { encodeCategorical, type Categorical } from '../categories';
import { BenchInputError } from '../errors';
import { checkNeighbors, type NeighborsResult } from '../neighbors';

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
 * Local inverse Simpson index of every cell (scib-metrics `lisi_knn`, Korsunsky et al. 2019): from the
 * kNN distances (self excluded), perplexity-calibrated Gaussian weights; LISI = 1 / Σ_c (Σ_{j∈c} p_j)².
 * A cell whose weights all vanish gets −1 (scib-metrics' convention). `perplexity` defaults to
 * ⌊k / 3⌋ (30 for 90 neighbours).
 */
export function lisiKnn(nn: NeighborsResult, labels: Categorical, options: { perplexity?: number; tol?: number } = {}): Float64Array {
  const enc = encodeCategorical(labels, 'labels', nn.nObs);
  checkNeighbors(nn, enc.codes.length);
  const k = nn.nNeighbors;
  const perplexity = options.perplexity ?? Math.floor(k / 3);
  if (!(perplexity > 0)) {
    throw new BenchInputError('perplexity', `LISI perplexity must be positive, got ${perplexity}.`, {
      hint: 'Use at least 3 neighbours or pass a positive perplexity.',
    });
  }
  const tol = options.tol ?? 1e-5;
  const L = enc.counts.length;
  const out = new Float64Array(nn.nObs);
  const P = new Float64Array(k);
  const dists = new Float64Array(k);
  const mask = new Uint8Array(k);
  const sums = new Float64Array(L);
  for (let i = 0; i < nn.nObs; i++) {
    for (let j = 0; j < k; j++) {
      const idx = nn.indices[i * k + j]!;
      dists[j] = nn.distances[i * k + j]!;
      mask[j] = idx !== i ? 1 : 0;
    }
    const H = neighborProbabilities(dists, mask, perplexity, tol, P);
    if (H === 0) {
      out[i] = 1 / -1;
      continue;
    }
    sums.fill(0);
    for (let j = 0; j < k; j++) sums[enc.codes[nn.indices[i * k + j]!]!] += P[j]!;
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
 * Use 90 neighbours (the Benchmarker does). Higher is better (batch correction).
 */
export function ilisiKnn(nn: NeighborsResult, batches: Categorical, options: { perplexity?: number; scale?: boolean } = {}): number {
  const enc = encodeCategorical(batches, 'batches', nn.nObs);
  const med = nanMedian(lisiKnn(nn, enc.codes, options));
  if (options.scale === false) return med;
  const nb = enc.counts.length;
  return nb === 1 ? NaN : (med - 1) / (nb - 1);
}

/**
 * scib-metrics `clisi_knn`: median cLISI over cells with the cell-type labels as categories, scaled to
 * (number of labels − median) / (number of labels − 1) by default (1 = pure neighbourhoods). NaN for a
 * single label. Use 90 neighbours. Higher is better (bio conservation).
 */
export function clisiKnn(nn: NeighborsResult, labels: Categorical, options: { perplexity?: number; scale?: boolean } = {}): number {
  const enc = encodeCategorical(labels, 'labels', nn.nObs);
  const med = nanMedian(lisiKnn(nn, enc.codes, options));
  if (options.scale === false) return med;
  const nl = enc.counts.length;
  return nl === 1 ? NaN : (nl - med) / (nl - 1);
}
