import type { PresetName } from '@invae/core';
import type { BenchmarkSeedsSummary, SeedStat } from '../pipeline/seeds';
import type { BenchmarkResults } from '../metrics/benchmarker';
import type { LoboResult } from '../metrics/invariant-prediction';
import type { ReportIdentifiability } from './report-html';
import { AGGREGATE_COLUMNS } from './results-csv';

/** What the results table says of a method: its preset, epochs, and whether it reads the labels (as scANVI does). */
export interface MethodInfo {
  /** Preset of a trained method; null for PCA and embeddings computed elsewhere. */
  preset: PresetName | null;
  /** Epochs it trained; null when not trained here. */
  epochs: number | null;
  /** Whether training read the cell labels (supervised, as scANVI). */
  readsLabels: boolean;
}

/** Extra sections of results.md. */
export interface ResultsMarkdownExtras {
  /** Leave-one-batch-out invariant prediction of `label`, per method. */
  invariantPrediction?: { label: string; methods: { method: string; result: LoboResult }[] } | null;
  /** Identifiability against the true latents in obsm[`truthKey`]. */
  identifiability?: { truthKey: string; rows: ReportIdentifiability[] } | null;
  /** Preset, epochs and label use of the trained methods (methods reading the labels get a dagger). */
  methodInfo?: Record<string, MethodInfo>;
  /** What the dagger means. */
  labelNote?: string;
}

/**
 * results.md: the table sorted by Total, as scib-metrics' results table (plus invariant prediction
 * and identifiability when given).
 */
export function resultsMarkdown(r: BenchmarkResults, extras: ResultsMarkdownExtras = {}): string {
  const metrics = Object.keys(r.metricTypes);
  const sorted = [...r.methods].sort((a, b) => (b.aggregates.Total ?? -Infinity) - (a.aggregates.Total ?? -Infinity));
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(3));
  const head = ['Method', ...metrics, ...AGGREGATE_COLUMNS];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  const info = extras.methodInfo ?? {};
  for (const m of sorted) {
    const name = info[m.embedding]?.readsLabels ? `${m.embedding} †` : m.embedding;
    lines.push(`| ${[name, ...metrics.map((k) => fmt(m.metrics[k as keyof typeof m.metrics])), ...AGGREGATE_COLUMNS.map((k) => fmt(m.aggregates[k]))].join(' | ')} |`);
  }
  let text = `${lines.join('\n')}\n\n${r.nCells} cells, ${r.nLabels} labels, ${r.nBatches} batches; scib-metrics ${r.scibMetrics} definitions, scale: ${r.scale}.\n`;
  const trained = Object.entries(info).filter(([, m]) => m.preset);
  if (trained.length) {
    if (Object.values(info).some((m) => m.readsLabels) && extras.labelNote) text += `† ${extras.labelNote}.\n`;
    text += `Trained methods: ${trained.map(([n, m]) => `${n} (preset ${m.preset}, ${m.epochs} epochs)`).join('; ')}.\n`;
  }
  const ip = extras.invariantPrediction;
  if (ip && ip.methods.length) {
    text += `\nInvariant prediction of '${ip.label}', leave one batch out (mean over held-out batches):\n\n| Method | Predictor | Accuracy | Macro-F1 |\n| --- | --- | --- | --- |\n`;
    for (const m of ip.methods) text += `| ${m.method} | ${m.result.classifier} | ${fmt(m.result.mean.accuracy)} | ${fmt(m.result.mean.macroF1)} |\n`;
  }
  const idf = extras.identifiability;
  if (idf && idf.rows.length) {
    text += `\nIdentifiability against obsm['${idf.truthKey}']:\n\n| Method | MCC (Pearson) | MCC (Spearman) | Linear R² |\n| --- | --- | --- | --- |\n`;
    for (const m of idf.rows) text += `| ${m.method} | ${fmt(m.mccPearson)} | ${fmt(m.mccSpearman)} | ${fmt(m.linearR2)} |\n`;
  }
  return text;
}

/** `mean ± sd` (3 decimals), the mean alone without sd, `–` when not computable. */
export function formatSeedStat(s: SeedStat | undefined): string {
  if (!s || s.mean === null) return '–';
  return s.sd === null ? s.mean.toFixed(3) : `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}`;
}

/**
 * results.md of a seeded benchmark: the table of mean ± sd sorted by mean Total, what the seeds
 * were (`note`), the trained methods' epochs per seed, and invariant prediction and identifiability
 * as mean ± sd.
 */
export function seededResultsMarkdown(s: BenchmarkSeedsSummary, extras: { labelNote?: string; note?: string } = {}): string {
  const metrics = Object.keys(s.metricTypes);
  const sorted = [...s.methods].sort((a, b) => (b.aggregates.Total.mean ?? -Infinity) - (a.aggregates.Total.mean ?? -Infinity));
  const head = ['Method', 'Runs', ...metrics, ...AGGREGATE_COLUMNS];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const m of sorted) {
    const name = m.readsLabels ? `${m.embedding} †` : m.embedding;
    lines.push(`| ${[name, String(m.seeds.length), ...metrics.map((k) => formatSeedStat(m.metrics[k as keyof typeof m.metrics])), ...AGGREGATE_COLUMNS.map((k) => formatSeedStat(m.aggregates[k]))].join(' | ')} |`);
  }
  let text = `${lines.join('\n')}\n\n${s.nCells} cells, ${s.nLabels} labels, ${s.nBatches} batches; scib-metrics ${s.scibMetrics} definitions, scale: ${s.scale}; ${extras.note ?? `seeds ${s.seeds.join(', ')}`}.\n`;
  const trained = s.methods.filter((m) => m.trained);
  if (trained.length) {
    if (s.methods.some((m) => m.readsLabels) && extras.labelNote) text += `† ${extras.labelNote}.\n`;
    text += `Trained methods: ${trained.map((m) => `${m.embedding} (preset ${m.preset}, epochs ${m.epochs.map((e, i) => `${e} (seed ${m.seeds[i]})`).join(', ')})`).join('; ')}.\n`;
  }
  const ip = s.methods.filter((m) => m.invariantPrediction);
  if (ip.length) {
    text += `\nInvariant prediction of '${s.dataset.labelKey}', leave one batch out (mean over held-out batches; mean ± sd over seeds):\n\n| Method | Predictor | Accuracy | Macro-F1 |\n| --- | --- | --- | --- |\n`;
    for (const m of ip) text += `| ${m.embedding} | ${m.invariantPrediction!.classifier} | ${formatSeedStat(m.invariantPrediction!.accuracy)} | ${formatSeedStat(m.invariantPrediction!.macroF1)} |\n`;
  }
  const idf = s.methods.filter((m) => m.identifiability);
  if (idf.length) {
    text += `\nIdentifiability against obsm['${idf[0]!.identifiability!.truthKey}'] (mean ± sd over seeds):\n\n| Method | MCC (Pearson) | MCC (Spearman) | Linear R² |\n| --- | --- | --- | --- |\n`;
    for (const m of idf) text += `| ${m.embedding} | ${formatSeedStat(m.identifiability!.mccPearson)} | ${formatSeedStat(m.identifiability!.mccSpearman)} | ${formatSeedStat(m.identifiability!.linearR2)} |\n`;
  }
  return text;
}
