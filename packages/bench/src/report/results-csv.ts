import type { BenchmarkResults } from '../metrics/benchmarker';
import type { BenchmarkSeedsSummary, SeedStat } from '../pipeline/seeds';

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

/**
 * results.csv of a seeded benchmark: one row per method with its preset, the seeds it ran with, and
 * for every metric and aggregate two columns `<name> mean` and `<name> sd` (empty where not
 * computable; sd empty for a single run).
 */
export function seededResultsCsv(s: BenchmarkSeedsSummary): string {
  const metrics = Object.keys(s.metricTypes);
  const columns = [...metrics, ...AGGREGATE_COLUMNS];
  const cell = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));
  const rows = s.methods.map((m) => [
    m.embedding,
    m.preset ?? '',
    m.seeds.join(' '),
    ...columns.flatMap((k) => {
      const st = (m.metrics as Record<string, SeedStat | undefined>)[k] ?? (m.aggregates as Record<string, SeedStat | undefined>)[k];
      return [cell(st?.mean), cell(st?.sd)];
    }),
  ]);
  const quote = (x: string) => (/[",\n]/.test(x) ? `"${x.replace(/"/g, '""')}"` : x);
  return `${[['method', 'preset', 'seeds', ...columns.flatMap((c) => [`${c} mean`, `${c} sd`])], ...rows].map((row) => row.map(quote).join(',')).join('\n')}\n`;
}
