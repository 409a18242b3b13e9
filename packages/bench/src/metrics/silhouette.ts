import { encodeCategorical, indicesOf, type Categorical } from '../internal/categories';
import type { DistanceMetric } from '../neighbors/distances';
import { checkMatrix, takeRows, type Embedding } from '../internal/matrix';
import { silhouetteSamplesCoded, type BetweenClusterDistances } from '../neighbors/silhouette-samples';

/** Options of {@link silhouetteLabel}. */
export interface SilhouetteLabelOptions {
  /** Map the ASW from [−1, 1] to [0, 1] by (ASW + 1) / 2 (default true). */
  readonly rescale?: boolean;
  /** Distance (default `euclidean`, as scIB). */
  readonly metric?: DistanceMetric;
  /** Precomputed `silhouetteSamples(x, labels)` (Euclidean, nearest) to reuse, e.g. from isolated labels. */
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
  for (let i = 0; i < s.length; i++) asw += s[i]!;
  asw /= s.length;
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
  options: { metric?: DistanceMetric; betweenClusterDistances?: 'mean_other' | 'furthest' } = {},
): number {
  return silhouetteBatch(x, labels, batches, {
    rescale: true,
    metric: options.metric ?? 'cosine',
    betweenClusterDistances: options.betweenClusterDistances ?? 'mean_other',
  });
}
