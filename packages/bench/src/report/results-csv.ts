import type { BenchmarkResults } from '../metrics/benchmarker';

/** The aggregate columns of every results table, in scib-metrics' order. */
export const AGGREGATE_COLUMNS = ['Batch correction', 'Bio conservation', 'Total'] as const;

/**
 * results.csv: one row per method, every metric and aggregate as a column (an empty cell for a
 * metric that was not computed or failed).
 */
export function resultsCsv(r: BenchmarkResults): string {
  const metrics = Object.keys(r.metricTypes);
  const cell = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));
  const rows = r.methods.map((m) => [
    m.embedding,
    ...metrics.map((k) => cell(m.metrics[k as keyof typeof m.metrics])),
    ...AGGREGATE_COLUMNS.map((k) => cell(m.aggregates[k])),
  ]);
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return `${[['method', ...metrics, ...AGGREGATE_COLUMNS], ...rows].map((row) => row.map(quote).join(',')).join('\n')}\n`;
}
