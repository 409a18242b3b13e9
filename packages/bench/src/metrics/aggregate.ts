/** The two metric families of scIB; aggregates are their means. */
export type MetricType = 'Bio conservation' | 'Batch correction';

/** Aggregate scores of one embedding (scib-metrics `get_results`). */
export interface Aggregates {
  readonly 'Batch correction': number;
  readonly 'Bio conservation': number;
  /** 0.4 · batch correction + 0.6 · bio conservation (scIB's weighting). */
  readonly Total: number;
}

function nanMean(values: number[]): number {
  const v = values.filter((x) => !Number.isNaN(x));
  return v.length === 0 ? NaN : v.reduce((a, b) => a + b, 0) / v.length;
}

/**
 * Aggregates as scib-metrics' `Benchmarker.get_results`: the unweighted mean of the metrics of each
 * type (NaN metrics skipped, as pandas' groupby mean) and Total = 0.4·batch + 0.6·bio (NaN if either
 * family has no finite metric).
 */
export function aggregateScores(values: Readonly<Record<string, number>>, types: Readonly<Record<string, MetricType>>): Aggregates {
  const bio: number[] = [];
  const batch: number[] = [];
  for (const [name, v] of Object.entries(values)) {
    const t = types[name];
    if (t === 'Bio conservation') bio.push(v);
    else if (t === 'Batch correction') batch.push(v);
  }
  const b = nanMean(batch);
  const c = nanMean(bio);
  return { 'Batch correction': b, 'Bio conservation': c, Total: 0.4 * b + 0.6 * c };
}

/**
 * Min-max scales every metric across embeddings, as scikit-learn's `MinMaxScaler` (which
 * `get_results(min_max_scale=True)` uses): (x − min) / (max − min) per metric, NaN kept and ignored,
 * a constant metric becomes 0. `table` maps embedding → metric → value; a new table is returned.
 */
export function minMaxScale(table: Readonly<Record<string, Readonly<Record<string, number>>>>): Record<string, Record<string, number>> {
  const names = Object.keys(table);
  const metrics = new Set<string>();
  for (const e of names) for (const m of Object.keys(table[e]!)) metrics.add(m);
  const out: Record<string, Record<string, number>> = {};
  for (const e of names) out[e] = { ...table[e]! };
  for (const m of metrics) {
    const vals = names.map((e) => table[e]![m]).filter((v): v is number => v !== undefined && !Number.isNaN(v));
    if (vals.length === 0) continue;
    const lo = Math.min(...vals);
    const range = Math.max(...vals) - lo;
    const scale = range === 0 ? 1 : range;
    for (const e of names) {
      const v = table[e]![m];
      if (v !== undefined && !Number.isNaN(v)) out[e]![m] = (v - lo) / scale;
    }
  }
  return out;
}
