import { encodeCategorical, type Categorical } from '../internal/categories';

/**
 * Why a metric (or one label's part of it) is NaN: `label` names the label that was skipped, or is
 * null when the whole metric could not be computed.
 */
export interface NanReason {
  readonly label: string | null;
  readonly reason: string;
}

/** Metric name → reasons, for the metrics with at least one. */
export type NanReasons = Record<string, NanReason[]>;

/** Label/batch layout: cells and distinct batches per label. */
export interface LabelBatchLayout {
  readonly labels: readonly string[];
  readonly cellsPerLabel: Int32Array;
  readonly batchesPerLabel: Int32Array;
  readonly nBatches: number;
}

/** Cells and distinct batches per label (labels in sorted order). */
export function labelBatchLayout(labels: Categorical, batches: Categorical): LabelBatchLayout {
  const lab = encodeCategorical(labels, 'labels');
  const bat = encodeCategorical(batches, 'batches', lab.codes.length);
  const nl = lab.categories.length;
  const nb = bat.categories.length;
  const seen = new Uint8Array(nl * nb);
  const batchesPerLabel = new Int32Array(nl);
  for (let i = 0; i < lab.codes.length; i++) {
    const key = lab.codes[i]! * nb + bat.codes[i]!;
    if (!seen[key]) {
      seen[key] = 1;
      batchesPerLabel[lab.codes[i]!]++;
    }
  }
  return { labels: lab.categories.map(String), cellsPerLabel: lab.counts, batchesPerLabel, nBatches: nb };
}

/**
 * The NaNs the scib-metrics definitions produce from the label/batch layout alone, with their
 * reasons, by metric name (scib-metrics 0.6 behaviour):
 * - `KBET`: a label with fewer than 10 cells, or present in one batch, is skipped (NaN); all skipped → NaN.
 * - `BRAS` / `Silhouette batch`: a label present in one batch, or in as many batches as it has cells,
 *   is skipped; all skipped → NaN.
 * - `iLISI` and `PCR comparison`: NaN with a single batch; `cLISI`: NaN with a single label.
 * - With a single label, the label silhouettes and the k-means agreement scores are undefined
 *   (`Isolated labels`, `Silhouette label`, `KMeans NMI`, `KMeans ARI`): NaN.
 */
export function layoutNanReasons(layout: LabelBatchLayout): NanReasons {
  const out: NanReasons = {};
  const add = (metric: string, r: NanReason) => (out[metric] ??= []).push(r);
  const nl = layout.labels.length;
  let kbetSkipped = 0;
  let silSkipped = 0;
  for (let l = 0; l < nl; l++) {
    const label = layout.labels[l]!;
    const cells = layout.cellsPerLabel[l]!;
    const nb = layout.batchesPerLabel[l]!;
    if (cells < 10) {
      add('KBET', { label, reason: `label has ${cells} cell${cells === 1 ? '' : 's'} (kBET needs at least 10): skipped` });
      kbetSkipped++;
    } else if (nb === 1) {
      add('KBET', { label, reason: 'label is present in one batch only: skipped' });
      kbetSkipped++;
    }
    if (nb === 1 || nb === cells) {
      const why = nb === 1 ? 'label is present in one batch only: skipped' : `label has as many batches as cells (${cells}): silhouette undefined, skipped`;
      add('BRAS', { label, reason: why });
      add('Silhouette batch', { label, reason: why });
      silSkipped++;
    }
  }
  if (nl > 0 && kbetSkipped === nl) add('KBET', { label: null, reason: 'every label was skipped (see above): KBET is NaN' });
  if (nl > 0 && silSkipped === nl) {
    add('BRAS', { label: null, reason: 'every label was skipped (see above): BRAS is NaN' });
    add('Silhouette batch', { label: null, reason: 'every label was skipped (see above): silhouette batch is NaN' });
  }
  if (layout.nBatches === 1) {
    add('iLISI', { label: null, reason: 'a single batch: iLISI is scaled by (batches − 1) and undefined' });
    add('PCR comparison', { label: null, reason: 'a single batch: the batch explains no variance before integration, the comparison is 0/0' });
  }
  if (nl === 1) {
    for (const m of ['Isolated labels', 'Silhouette label', 'KMeans NMI', 'KMeans ARI']) {
      add(m, { label: null, reason: 'a single label: silhouettes and clustering agreement are undefined' });
    }
    add('cLISI', { label: null, reason: 'a single label: cLISI is scaled by (labels − 1) and undefined' });
  }
  return out;
}
