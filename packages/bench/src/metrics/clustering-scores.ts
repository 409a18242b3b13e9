import { encodeCategorical, type Categorical } from '../internal/categories';
import { BenchInputError } from '../errors';

function contingency(a: Categorical, b: Categorical): { table: Map<number, number>; rows: Int32Array; cols: Int32Array; n: number; nb: number } {
  if (a.length !== b.length) {
    throw new BenchInputError('labelsPred', `The two labelings have ${a.length} and ${b.length} entries.`, {
      hint: 'Both labelings must describe the same cells.',
    });
  }
  const ea = encodeCategorical(a, 'labelsTrue');
  const eb = encodeCategorical(b, 'labelsPred');
  const nb = eb.counts.length;
  const table = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    const key = ea.codes[i]! * nb + eb.codes[i]!;
    table.set(key, (table.get(key) ?? 0) + 1);
  }
  return { table, rows: ea.counts, cols: eb.counts, n: a.length, nb };
}

function entropy(counts: Int32Array, n: number): number {
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * (Math.log(c) - Math.log(n));
  return h;
}

/**
 * Normalised mutual information with arithmetic-mean normalisation, as
 * `sklearn.metrics.normalized_mutual_info_score(average_method='arithmetic')`: MI / ((H(U) + H(V)) / 2);
 * 1 when both labelings have a single class, 0 when MI is 0.
 */
export function normalizedMutualInfo(labelsTrue: Categorical, labelsPred: Categorical): number {
  const { table, rows, cols, n } = contingency(labelsTrue, labelsPred);
  if (n === 0 || (rows.length === 1 && cols.length === 1)) return 1;
  const nb = cols.length;
  let mi = 0;
  for (const [key, nij] of table) {
    const i = Math.floor(key / nb);
    const j = key - i * nb;
    const term = (nij / n) * (Math.log(nij) - Math.log(n)) + (nij / n) * (-Math.log(rows[i]! * cols[j]!) + 2 * Math.log(n));
    mi += Math.abs(term) < Number.EPSILON ? 0 : term;
  }
  mi = Math.max(0, mi);
  if (mi < Number.EPSILON) return 0;
  const norm = (entropy(rows, n) + entropy(cols, n)) / 2;
  return mi / norm;
}

/**
 * Adjusted Rand index, as `sklearn.metrics.adjusted_rand_score` (from the pair confusion matrix;
 * 1 when there are no disagreeing pairs).
 */
export function adjustedRandIndex(labelsTrue: Categorical, labelsPred: Categorical): number {
  const { table, rows, cols, n, nb } = contingency(labelsTrue, labelsPred);
  let sumSq = 0;
  let rowDot = 0; // sum_ij n_ij * n_.j
  let colDot = 0; // sum_ij n_ij * n_i.
  for (const [key, nij] of table) {
    const i = Math.floor(key / nb);
    const j = key - i * nb;
    sumSq += nij * nij;
    rowDot += nij * cols[j]!;
    colDot += nij * rows[i]!;
  }
  const tp = sumSq - n;
  const fp = rowDot - sumSq;
  const fn = colDot - sumSq;
  const tn = n * n - fp - fn - sumSq;
  if (fn === 0 && fp === 0) return 1;
  return (2 * (tp * tn - fn * fp)) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
}
