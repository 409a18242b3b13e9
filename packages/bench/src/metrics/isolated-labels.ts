import { encodeCategorical, type Categorical } from '../internal/categories';
import { BenchInputError } from '../errors';
import { checkMatrix, type Embedding } from '../internal/matrix';
import { silhouetteSamplesCoded } from '../neighbors/silhouette-samples';

/** Options of {@link isolatedLabels}. */
export interface IsolatedLabelsOptions {
  /** Map silhouettes to [0, 1] by (s + 1) / 2 before averaging (default true). */
  readonly rescale?: boolean;
  /**
   * A label is isolated when it occurs in at most this many batches. Default (scib-metrics' `None`):
   * the smallest number of batches any label occurs in.
   */
  readonly isoThreshold?: number;
  /** Precomputed `silhouetteSamples(x, labels)` (Euclidean, nearest) to reuse. */
  readonly samples?: Float64Array;
}

/** The labels (as codes) that occur in at most `threshold` batches, and the threshold used. */
export function isolatedLabelCodes(labelCodes: Int32Array, nLabels: number, batchCodes: Int32Array, nBatches: number, isoThreshold?: number): { codes: number[]; threshold: number } {
  const seen = new Uint8Array(nLabels * nBatches);
  const nb = new Int32Array(nLabels);
  for (let i = 0; i < labelCodes.length; i++) {
    const key = labelCodes[i]! * nBatches + batchCodes[i]!;
    if (!seen[key]) {
      seen[key] = 1;
      nb[labelCodes[i]!]++;
    }
  }
  const threshold = isoThreshold ?? Math.min(...nb);
  const codes: number[] = [];
  for (let l = 0; l < nLabels; l++) if (nb[l]! <= threshold) codes.push(l);
  return { codes, threshold };
}

/**
 * scib-metrics `isolated_labels` (ASW variant): the labels present in the fewest batches (at most
 * `isoThreshold`) are "isolated"; the score is the mean over isolated labels of the mean silhouette
 * (labels as clusters, Euclidean, over all cells; rescaled to (s + 1) / 2) of that label's cells.
 * NaN when no label is isolated (only possible with an explicit `isoThreshold`). Higher is better.
 */
export function isolatedLabels(x: Embedding, labels: Categorical, batches: Categorical, options: IsolatedLabelsOptions = {}): number {
  checkMatrix(x, 'embedding');
  const lab = encodeCategorical(labels, 'labels', x.nRows);
  const bat = encodeCategorical(batches, 'batches', x.nRows);
  if (options.isoThreshold !== undefined && !(Number.isFinite(options.isoThreshold) && options.isoThreshold >= 0)) {
    throw new BenchInputError('isoThreshold', `isoThreshold must be a non-negative number, got ${options.isoThreshold}.`);
  }
  if (options.samples && options.samples.length !== x.nRows) {
    throw new BenchInputError('samples', `samples has ${options.samples.length} values for ${x.nRows} cells.`);
  }
  const { codes } = isolatedLabelCodes(lab.codes, lab.counts.length, bat.codes, bat.counts.length, options.isoThreshold);
  if (codes.length === 0) return NaN;
  const s = options.samples ?? silhouetteSamplesCoded(x, lab.codes, lab.counts.length);
  const rescale = options.rescale ?? true;
  const sums = new Float64Array(lab.counts.length);
  // Subsampled silhouettes are NaN outside the sample: each label's mean is over its sampled cells.
  const counts = new Float64Array(lab.counts.length);
  for (let i = 0; i < s.length; i++) {
    if (Number.isNaN(s[i]!)) continue;
    sums[lab.codes[i]!] += rescale ? (s[i]! + 1) / 2 : s[i]!;
    counts[lab.codes[i]!]++;
  }
  let total = 0;
  for (const l of codes) total += sums[l]! / counts[l]!;
  return total / codes.length;
}
