import { encodeCategorical, indicesOf, type Categorical } from '../internal/categories';
import type { DistanceMetric } from '../neighbors/distances';
import { checkMatrix, takeRows, type Embedding } from '../internal/matrix';
import { silhouetteSamplesCoded, type BetweenClusterDistances } from '../neighbors/silhouette-samples';
import { checkSamplingOptions, isSubsampled, silhouettesOfRows, stratifiedMean, stratifiedSample, wasmSilhouettesAvailable, type SilhouetteSampling, type SilhouetteSamplingOptions } from './silhouette-sampling';

/** Options of {@link silhouetteLabel}. */
export interface SilhouetteLabelOptions {
  /** Map the ASW from [−1, 1] to [0, 1] by (ASW + 1) / 2 (default true). */
  readonly rescale?: boolean;
  /** Distance (default `euclidean`, as scIB). */
  readonly metric?: DistanceMetric;
  /**
   * Precomputed `silhouetteSamples(x, labels)` (Euclidean, nearest) to reuse, e.g. from isolated
   * labels; NaN for cells outside a stratified sample (then the mean is the stratified estimate).
   */
  readonly samples?: Float64Array;
}

/**
 * scib-metrics `silhouette_label`: average silhouette width of the cell-type labels,
 * `mean_i s(i)`, rescaled to `(ASW + 1) / 2` by default. Higher is better (bio conservation).
 */
export function silhouetteLabel(x: Embedding, labels: Categorical, options: SilhouetteLabelOptions = {}): number {
  checkMatrix(x, 'embedding');
  const enc = encodeCategorical(labels, 'labels', x.nRows);
  const s =
    options.samples && (options.metric ?? 'euclidean') === 'euclidean'
      ? options.samples
      : silhouetteSamplesCoded(x, enc.codes, enc.counts.length, { metric: options.metric });
  let asw = 0;
  let sampled = false;
  for (let i = 0; i < s.length; i++) {
    if (Number.isNaN(s[i]!)) sampled = true;
    asw += s[i]!;
  }
  asw /= s.length;
  // Subsampled silhouettes (NaN where a cell was not sampled): the stratified estimate of the mean.
  if (sampled) asw = stratifiedMean(s, enc.codes, enc.counts.length).mean;
  return options.rescale === false ? asw : (asw + 1) / 2;
}

/** Options of {@link silhouetteBatch} and {@link bras}. */
export interface SilhouetteBatchOptions {
  /** Report 1 − |s| (higher = better mixing; default true). Without it the mean |s| is returned. */
  readonly rescale?: boolean;
  /** Distance (silhouette batch: `euclidean`; BRAS: `cosine`). */
  readonly metric?: DistanceMetric;
  /** Between-cluster distance (silhouette batch: `nearest`; BRAS: `mean_other`). */
  readonly betweenClusterDistances?: BetweenClusterDistances;
  /**
   * Above `maxExactCells` cells (default 200,000; needs WebAssembly threads), each label's score is
   * estimated from a seeded sample of its cells, each scored exactly against all of the label's cells.
   */
  readonly sampling?: SilhouetteSamplingOptions;
}

/** {@link silhouetteBatch}'s score with how it was computed (exact, or subsampled with its standard error). */
export function silhouetteBatchEstimate(x: Embedding, labels: Categorical, batches: Categorical, options: SilhouetteBatchOptions = {}): { score: number; sampling: SilhouetteSampling } {
  checkMatrix(x, 'embedding');
  const sampling = options.sampling ?? {};
  checkSamplingOptions(sampling);
  if (!isSubsampled(x.nRows, sampling) || !wasmSilhouettesAvailable()) return { score: silhouetteBatch(x, labels, batches, { ...options, sampling: { maxExactCells: Infinity } }), sampling: { mode: 'exact' } };
  const lab = encodeCategorical(labels, 'labels', x.nRows);
  const bat = encodeCategorical(batches, 'batches', x.nRows);
  const metric = options.metric ?? 'euclidean';
  const between = options.betweenClusterDistances ?? 'nearest';
  const rescale = options.rescale ?? true;
  const size = sampling.sampleSize ?? 20_000;
  const seed = sampling.seed ?? 0;
  let total = 0;
  let varSum = 0;
  let groups = 0;
  let cells = 0;
  for (let l = 0; l < lab.counts.length; l++) {
    const idx = indicesOf(lab.codes, l);
    const sub = encodeCategorical(Array.from(idx, (i) => bat.codes[i]!), 'batches');
    const nb = sub.counts.length;
    if (nb === 1 || nb === idx.length) continue;
    const nl = idx.length;
    const ml = Math.min(nl, Math.max(2, Math.round((size * nl) / x.nRows)));
    // A seeded sample of the label's cells (one stratum), scored against all of them.
    const pick = stratifiedSample(new Int32Array(nl), 1, ml, seed + l);
    const rows = Int32Array.from(pick, (t) => idx[t]!);
    const s = silhouettesOfRows(x, Int32Array.from(idx), sub.codes, nb, rows, metric, between);
    let m = 0;
    let sq = 0;
    for (let i = 0; i < s.length; i++) {
      const v = rescale ? 1 - Math.abs(s[i]!) : Math.abs(s[i]!);
      m += v;
      sq += v * v;
    }
    const mean = m / s.length;
    if (s.length > 1 && s.length < nl) varSum += ((1 - s.length / nl) * Math.max(0, (sq - s.length * mean * mean) / (s.length - 1))) / s.length;
    total += mean;
    cells += s.length;
    groups++;
  }
  if (groups === 0) return { score: NaN, sampling: { mode: 'subsampled', cells: 0, seed, se: NaN } };
  return { score: total / groups, sampling: { mode: 'subsampled', cells, seed, se: Math.sqrt(varSum) / groups } };
}

/**
 * scib-metrics `silhouette_batch`: for every cell-type label present in more than one batch and with
 * fewer batches than cells, the silhouette of the cells of that label with the batches as clusters;
 * each cell scores `1 − |s(i)|`; the score is the mean over labels of the per-label mean. Labels that
 * are skipped do not count; when every label is skipped the result is NaN (scib-metrics raises).
 * Defaults: Euclidean distance, nearest other batch. Higher is better (batch correction).
 */
export function silhouetteBatch(x: Embedding, labels: Categorical, batches: Categorical, options: SilhouetteBatchOptions = {}): number {
  checkMatrix(x, 'embedding');
  if (options.sampling && isSubsampled(x.nRows, options.sampling) && wasmSilhouettesAvailable()) return silhouetteBatchEstimate(x, labels, batches, options).score;
  const lab = encodeCategorical(labels, 'labels', x.nRows);
  const bat = encodeCategorical(batches, 'batches', x.nRows);
  const metric = options.metric ?? 'euclidean';
  const between = options.betweenClusterDistances ?? 'nearest';
  const rescale = options.rescale ?? true;
  let total = 0;
  let groups = 0;
  for (let l = 0; l < lab.counts.length; l++) {
    const idx = indicesOf(lab.codes, l);
    const sub = encodeCategorical(Array.from(idx, (i) => bat.codes[i]!), 'batches');
    const nb = sub.counts.length;
    if (nb === 1 || nb === idx.length) continue;
    const s = silhouetteSamplesCoded(takeRows(x, idx), sub.codes, nb, { metric, betweenClusterDistances: between });
    let m = 0;
    for (let i = 0; i < s.length; i++) m += rescale ? 1 - Math.abs(s[i]!) : Math.abs(s[i]!);
    total += m / s.length;
    groups++;
  }
  return groups === 0 ? NaN : total / groups;
}

/**
 * scib-metrics `bras` (batch removal adapted silhouette, Rautenstrauch & Ohler 2025), the current
 * scib-metrics default batch silhouette: {@link silhouetteBatch} with cosine distance and the
 * `mean_other` between-cluster distance, rescaled to 1 − |s|. Higher is better.
 */
export function bras(
  x: Embedding,
  labels: Categorical,
  batches: Categorical,
  options: { metric?: DistanceMetric; betweenClusterDistances?: 'mean_other' | 'furthest'; sampling?: SilhouetteSamplingOptions } = {},
): number {
  return brasEstimate(x, labels, batches, options).score;
}

/** {@link bras} with how it was computed (see {@link silhouetteBatchEstimate}). */
export function brasEstimate(
  x: Embedding,
  labels: Categorical,
  batches: Categorical,
  options: { metric?: DistanceMetric; betweenClusterDistances?: 'mean_other' | 'furthest'; sampling?: SilhouetteSamplingOptions } = {},
): { score: number; sampling: SilhouetteSampling } {
  return silhouetteBatchEstimate(x, labels, batches, {
    rescale: true,
    metric: options.metric ?? 'cosine',
    betweenClusterDistances: options.betweenClusterDistances ?? 'mean_other',
    sampling: options.sampling,
  });
}
