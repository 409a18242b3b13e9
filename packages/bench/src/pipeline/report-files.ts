import { deResultCsv, type TrainHistory } from '@invae/core';
import { encodeCategorical } from '../internal/categories';
import type { Embedding } from '../internal/matrix';
import type { BenchmarkResults } from '../metrics/benchmarker';
import type { NeighborsResult } from '../neighbors/neighbors';
import { umapEmbedding } from '../embedding/umap';
import { lossPlot } from '../report/loss-plot';
import { pngSize, svgToPng } from '../report/png';
import { reportHtml, type CategoryCount, type ReportDe, type ReportLossCurve, type ReportUmap } from '../report/report-html';
import { resultsCsv } from '../report/results-csv';
import { resultsMarkdown, type MethodInfo } from '../report/results-markdown';
import { resultsTableSvg } from '../report/results-table-svg';
import { scatterSvg } from '../report/scatter-svg';
import { volcanoSvg } from '../report/volcano-svg';
import type { BenchmarkDe, BenchmarkDatasetSummary, BenchmarkIdentifiability, BenchmarkInvariantPrediction, BenchmarkResultsJson, BenchmarkTiming } from './run-benchmark';

/** The files of a report folder by name: text (SVG, JSON, CSV, Markdown, HTML) or bytes (PNG). */
export type ReportFiles = ReadonlyMap<string, string | Uint8Array>;

/** The UMAP plots of one embedding (file names in the report folder). */
export interface BenchmarkUmap {
  batch: { svg: string; png: string; width: number; height: number };
  label: { svg: string; png: string; width: number; height: number };
  nPoints: number;
  downsampled: boolean;
  nEpochs: number;
  implementation: string;
  init: string;
  /** Seconds of the layout and its plots. */
  seconds: number;
}

/** A file-name-safe form of a method name (unique among `taken`). */
function fileStem(name: string, taken: Set<string>): string {
  const base = name.replace(/[^A-Za-z0-9_.-]+/g, '_') || 'method';
  let stem = base;
  for (let i = 2; taken.has(stem); i++) stem = `${base}_${i}`;
  taken.add(stem);
  return stem;
}

/** The categories of a column and their cells, in category order. */
export function categoryCounts(values: readonly string[]): CategoryCount[] {
  const enc = encodeCategorical(values, 'values');
  return enc.categories.map((c, i) => ({ name: String(c), cells: enc.counts[i]! }));
}

interface BuildOptions {
  batch: string;
  label: string;
  seed: number;
  umap: boolean;
  umapMaxPoints: number;
  umapEpochs?: number;
  umapImpl: 'native' | 'umap-js';
}

/**
 * The report folder of a benchmark run, in two steps: `buildReport` draws the UMAPs (coloured by
 * batch and by label, SVG and PNG) and the loss curves, timing them; `finish` adds the tables
 * (results.json/csv/md/svg) and report.html.
 */
export function buildReport(a: {
  name: string;
  embeddings: Readonly<Record<string, Embedding>>;
  batches: readonly string[];
  labels: readonly string[];
  histories: Readonly<Record<string, TrainHistory>>;
  neighbors: ReadonlyMap<string, NeighborsResult>;
  options: BuildOptions;
  timings: BenchmarkTiming[];
  onUmap?: (method: string, layout: { nPoints: number; seconds: number }, seconds: number) => void;
}) {
  const o = a.options;
  // Every file of the output folder, written at the end (never a partial folder).
  const outputs = new Map<string, string | Uint8Array>();
  const umaps: ReportUmap[] = [];
  const umapJson: Record<string, BenchmarkUmap> = {};
  if (o.umap) {
    const taken = new Set<string>();
    for (const [name, x] of Object.entries(a.embeddings)) {
      const stem = fileStem(name, taken);
      const t = performance.now();
      const u = umapEmbedding(x, { neighbors: a.neighbors.get(name), seed: o.seed, maxPoints: o.umapMaxPoints, nEpochs: o.umapEpochs, implementation: o.umapImpl });
      const tUmap = (performance.now() - t) / 1000;
      const files: Record<string, { svg: string; png: string; width: number; height: number }> = {};
      for (const [colour, key, values] of [
        ['batch', o.batch, a.batches],
        ['label', o.label, a.labels],
      ] as const) {
        const cats = Array.from(u.indices, (i) => values[i]!);
        const svg = scatterSvg(u.coordinates, cats, { title: `${name} · ${key}`, legendTitle: key, seed: o.seed });
        const png = svgToPng(svg);
        const base = `umap_${stem}_${colour}`;
        outputs.set(`${base}.svg`, svg);
        outputs.set(`${base}.png`, png);
        const size = pngSize(png);
        files[colour] = { svg: `${base}.svg`, png: `${base}.png`, width: size.width / 2, height: size.height / 2 };
      }
      const seconds = (performance.now() - t) / 1000;
      a.timings.push({ step: `UMAP ${name}`, seconds });
      a.onUmap?.(name, { nPoints: u.nPoints, seconds: tUmap }, seconds);
      umaps.push({ method: name, byBatch: files.batch!, byLabel: files.label!, nPoints: u.nPoints, downsampled: u.downsampled });
      umapJson[name] = { batch: files.batch!, label: files.label!, nPoints: u.nPoints, downsampled: u.downsampled, nEpochs: u.nEpochs, implementation: u.implementation, init: u.init, seconds };
    }
  }
  // Loss curve of every trained model (loss_<method>.svg/png).
  const lossCurves: ReportLossCurve[] = [];
  const lossTaken = new Set<string>();
  for (const [name, h] of Object.entries(a.histories)) {
    const plot = lossPlot(h, `${name} · ${a.name}`);
    if (!plot) continue;
    const base = `loss_${fileStem(name, lossTaken)}`;
    outputs.set(`${base}.svg`, plot.svg);
    outputs.set(`${base}.png`, plot.png);
    lossCurves.push({ method: name, image: { svg: `${base}.svg`, png: `${base}.png`, width: plot.width, height: plot.height }, epochs: h.epochs.length, stoppedBy: h.stoppedBy, restoredEpoch: h.restoredEpoch ?? null });
  }

  return {
    umaps: umapJson,
    umapJson: umapJson as Record<string, unknown>,
    categoryCounts,
    /** The tables and report.html, added to the plots; the folder's files and results.md's text. */
    finish(f: {
      results: BenchmarkResults;
      json: BenchmarkResultsJson;
      dataset: BenchmarkDatasetSummary;
      methodInfo: Record<string, MethodInfo>;
      identifiability: BenchmarkIdentifiability | null;
      invariantPrediction: BenchmarkInvariantPrediction | null;
      environment: Record<string, string>;
      de?: readonly BenchmarkDe[];
    }): { files: ReportFiles; markdown: string } {
      // differential expression of every trained model: de_<method>.csv, volcano_<method>.svg/png
      const de: ReportDe[] = [];
      const deTaken = new Set<string>();
      for (const { method, result } of f.de ?? []) {
        const stem = fileStem(method, deTaken);
        const title = `${method} · ${result.groupby}: ${result.group} vs ${result.reference ?? 'rest'}`;
        const svg = volcanoSvg(result.genes, { title, delta: result.delta });
        const png = svgToPng(svg);
        const size = pngSize(png);
        outputs.set(`de_${stem}.csv`, deResultCsv(result));
        outputs.set(`volcano_${stem}.svg`, svg);
        outputs.set(`volcano_${stem}.png`, png);
        de.push({ method, result, csv: `de_${stem}.csv`, image: { svg: `volcano_${stem}.svg`, png: `volcano_${stem}.png`, width: size.width / 2, height: size.height / 2 } });
      }
      const readers = Object.entries(f.methodInfo)
        .filter(([, m]) => m.readsLabels)
        .map(([n]) => n);
      const labelNote = `reads '${o.label}' during training (supervised, as scANVI); the others do not`;
      const resultsSvg = resultsTableSvg(f.results, { title: a.name, marked: readers, footnote: labelNote });
      const ip = f.invariantPrediction;
      const markdown = resultsMarkdown(f.results, { invariantPrediction: ip ? { label: o.label, methods: ip.methods } : null, identifiability: f.identifiability, methodInfo: f.methodInfo, labelNote });
      outputs.set('results.json', `${JSON.stringify(f.json, null, 2)}\n`);
      outputs.set('results.csv', resultsCsv(f.results));
      outputs.set('results.md', markdown);
      outputs.set('results.svg', resultsSvg);
      outputs.set(
        'report.html',
        reportHtml({
          dataset: f.dataset,
          results: f.results,
          resultsSvg,
          umaps,
          lossCurves,
          identifiability: f.identifiability,
          invariantPrediction: ip ? { protocol: ip.protocol, methods: ip.methods } : null,
          de,
          timings: a.timings,
          environment: f.environment,
          generatedAt: new Date().toISOString(),
        }),
      );
      return { files: outputs, markdown };
    },
  };
}
