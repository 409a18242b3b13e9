import type { DeResult } from '@invae/core';
import type { BenchmarkResults, MethodResults } from '../metrics/benchmarker';
import type { LoboResult } from '../metrics/invariant-prediction';
import { escapeXml as esc } from './xml';

/** One category and its number of cells (dataset summary). */
export interface CategoryCount {
  readonly name: string;
  readonly cells: number;
}

/** Dataset summary at the top of the report. */
export interface ReportDataset {
  /** File name (shown as given). */
  readonly file: string;
  readonly nCells: number;
  readonly nGenes: number;
  readonly batchKey: string;
  readonly labelKey: string;
  /** Counts layer, if not X. */
  readonly layer?: string | null;
  readonly batches: readonly CategoryCount[];
  readonly labels: readonly CategoryCount[];
}

/** A picture file of the output folder, referenced by a relative path. */
export interface ReportImage {
  /** PNG shown in the page (relative path), if rendered. */
  readonly png?: string;
  /** SVG (relative path), linked from the picture, or shown when there is no PNG. */
  readonly svg: string;
  /** Pixel size of the picture as shown (CSS pixels). */
  readonly width?: number;
  readonly height?: number;
}

/** The UMAPs of one embedding. */
export interface ReportUmap {
  readonly method: string;
  readonly byBatch: ReportImage;
  readonly byLabel: ReportImage;
  /** Points drawn, and whether they are a random subset of the cells. */
  readonly nPoints: number;
  readonly downsampled: boolean;
}

/** Identifiability scores of one embedding against the simulator's true latents. */
export interface ReportIdentifiability {
  readonly method: string;
  readonly mccPearson: number | null;
  readonly mccSpearman: number | null;
  readonly linearR2: number | null;
}

/** Leave-one-batch-out invariant prediction of one embedding. */
export interface ReportInvariantPrediction {
  readonly method: string;
  readonly result: LoboResult;
  /** How the latents of this method were obtained (e.g. "held-out cells encoded without their labels"). */
  readonly note?: string;
}

/** The loss curve of one trained method. */
export interface ReportLossCurve {
  readonly method: string;
  /** The plot ({@link lossCurveSvg}, and its PNG). */
  readonly image: ReportImage;
  /** Epochs trained, and why training ended (`epochs`, `early-stopping`, `aborted`). */
  readonly epochs: number;
  readonly stoppedBy: string;
  /** Epoch whose weights early stopping restored, if any. */
  readonly restoredEpoch?: number | null;
}

/** Everything {@link reportHtml} puts together. */
/** Differential expression of one model in the report: its result, CSV file and volcano plot. */
export interface ReportDe {
  readonly method: string;
  readonly result: DeResult;
  /** File name of the full table. */
  readonly csv: string;
  readonly image: ReportImage;
}

export interface ReportInput {
  readonly title?: string;
  readonly dataset: ReportDataset;
  readonly results: BenchmarkResults & { readonly methods: readonly MethodResults[] };
  /** The scib-style results SVG (inlined). */
  readonly resultsSvg?: string;
  readonly umaps?: readonly ReportUmap[];
  /** Training loss per epoch of each trained method. */
  readonly lossCurves?: readonly ReportLossCurve[];
  /** Identifiability section (only when true latents exist). */
  readonly identifiability?: { readonly truthKey: string; readonly rows: readonly ReportIdentifiability[] } | null;
  /** Invariant-prediction section. */
  readonly invariantPrediction?: { readonly protocol: string; readonly methods: readonly ReportInvariantPrediction[] } | null;
  /** Differential expression of the trained models (a section with each volcano plot and its top genes). */
  readonly de?: readonly ReportDe[] | null;
  /** Wall-clock seconds of the run's steps (training, metrics, UMAP …). */
  readonly timings?: readonly { readonly step: string; readonly seconds: number }[];
  /** Versions, engine, platform (name → value). */
  readonly environment?: Readonly<Record<string, string>>;
  /** ISO time of the run. */
  readonly generatedAt?: string;
}

const AGGREGATES = ['Batch correction', 'Bio conservation', 'Total'] as const;

const CSS = `
body{font-family:Helvetica,Arial,"DejaVu Sans",sans-serif;margin:0;color:#222;background:#fafafa;line-height:1.4}
main{max-width:1400px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:1.6em;margin:.4em 0}h2{font-size:1.25em;margin:1.6em 0 .5em;border-bottom:1px solid #ddd;padding-bottom:.2em}
section{background:#fff;border:1px solid #e4e4e4;border-radius:6px;padding:8px 16px 16px;margin:16px 0}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}th,td{padding:4px 8px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th{background:#f2f2f2;position:sticky;top:0}td:first-child,th:first-child{text-align:left}
tr.best td{font-weight:bold}.na{color:#999}.scroll{overflow-x:auto}
#results-table th{white-space:normal;vertical-align:bottom}#results-table th,#results-table td{padding:4px 6px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:12px}figure.umap,figure.loss-curve{margin:0;background:#fff;border:1px solid #eee;padding:4px}
figure.umap img,figure.loss-curve img{display:block;width:100%;max-width:100%;height:auto}figcaption{font-size:.85em;color:#555;padding:2px 4px}
.umap-row{margin:12px 0}.umap-row h3{margin:.3em 0;font-size:1.05em}
.results-svg svg{max-width:100%;height:auto}.note{color:#555;font-size:.9em}dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px}dt{font-weight:bold}dd{margin:0}
code{background:#f4f4f4;padding:0 3px;border-radius:3px}
`;

function num(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '<span class="na">–</span>' : v.toFixed(digits);
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, '-');
}

function counts(list: readonly CategoryCount[], max = 40): string {
  const shown = list.slice(0, max).map((c) => `${esc(c.name)} (${c.cells})`);
  if (list.length > max) shown.push(`… ${list.length - max} more`);
  return shown.join(', ');
}

function image(img: ReportImage, alt: string, cls: string, method: string, colour: string, caption: string): string {
  const src = img.png ?? img.svg;
  const size = img.width && img.height ? ` width="${img.width}" height="${img.height}"` : '';
  return `<figure class="${cls}" data-method="${esc(method)}" data-color="${colour}"><a href="${esc(img.svg)}"><img src="${esc(src)}" alt="${esc(alt)}"${size}></a><figcaption>${esc(caption)}</figcaption></figure>`;
}

/**
 * The benchmark report as one self-contained HTML page (inline CSS, no scripts, no external
 * requests; pictures are the relative paths given, the results SVG is inlined). Sections and their
 * ids: `summary` (dataset), `results` (table `#results-table`, one `tr.method-row` per method, sorted
 * by Total, every metric and aggregate), `results-plot` (the SVG), `umaps` (`figure.umap` per method
 * and colouring, `data-method` / `data-color`), `training` (`figure.loss-curve` per trained method,
 * `data-method`, when given), `identifiability` (`#identifiability-table`, when
 * given), `invariant-prediction` (`#lobo-table`), `nan-reasons` (`#nan-reasons`), `timings`
 * (`#timings-table`) and `environment` (`#environment`). Pure.
 */
export function reportHtml(input: ReportInput): string {
  const { dataset: d, results: r } = input;
  const title = input.title ?? `invae bench · ${d.file}`;
  const metrics = Object.keys(r.metricTypes) as (keyof MethodResults['metrics'])[];
  const sorted = [...r.methods].sort((a, b) => (b.aggregates.Total ?? -Infinity) - (a.aggregates.Total ?? -Infinity));
  const out: string[] = [];
  out.push('<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">', '<meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push(`<title>${esc(title)}</title>`, `<style>${CSS}</style>`, '</head>', '<body>', '<main>');
  out.push(`<h1 id="title">${esc(title)}</h1>`);
  if (input.generatedAt) out.push(`<p class="note">Generated ${esc(input.generatedAt)} by invae bench; metrics follow scib-metrics ${esc(r.scibMetrics)}, scale: ${esc(r.scale)}.</p>`);

  // Dataset summary.
  out.push('<section id="summary"><h2>Dataset</h2><dl>');
  out.push(`<dt>File</dt><dd><code>${esc(d.file)}</code></dd>`);
  out.push(`<dt>Cells × genes</dt><dd><span id="n-cells">${d.nCells}</span> × <span id="n-genes">${d.nGenes}</span>${d.layer ? ` (counts from layer <code>${esc(d.layer)}</code>)` : ''}</dd>`);
  out.push(`<dt>Batch key</dt><dd><code>${esc(d.batchKey)}</code>: ${d.batches.length} batches — ${counts(d.batches)}</dd>`);
  out.push(`<dt>Label key</dt><dd><code>${esc(d.labelKey)}</code>: ${d.labels.length} labels — ${counts(d.labels)}</dd>`);
  out.push('</dl></section>');

  // Results table.
  out.push('<section id="results"><h2>Results</h2>');
  out.push('<p class="note">One row per method, best Total first. Total = 0.4 · Batch correction + 0.6 · Bio conservation (means of each family). “–”: not computable (hover for the reason; see <a href="#nan-reasons">NaN reasons</a>).</p>');
  out.push('<div class="scroll"><table id="results-table"><thead><tr><th>Method</th>');
  for (const m of metrics) out.push(`<th data-metric="${esc(m)}" title="${esc(r.metricTypes[m] ?? '')}">${esc(m)}</th>`);
  for (const a of AGGREGATES) out.push(`<th class="aggregate">${a}</th>`);
  out.push('</tr></thead><tbody>');
  sorted.forEach((m, i) => {
    out.push(`<tr class="method-row${i === 0 ? ' best' : ''}" data-method="${esc(m.embedding)}"><td>${esc(m.embedding)}</td>`);
    for (const k of metrics) {
      const v = m.metrics[k];
      const reasons = (m.nanReasons?.[k] ?? []).filter((x) => x.label === null).map((x) => x.reason);
      const tip = v === null || v === undefined ? ` title="${esc(reasons.join('; ') || 'not computed')}"` : '';
      out.push(`<td${tip}>${num(v)}</td>`);
    }
    for (const a of AGGREGATES) out.push(`<td class="aggregate">${num(m.aggregates[a])}</td>`);
    out.push('</tr>');
  });
  out.push('</tbody></table></div>');
  // How the silhouettes were computed (exact, or a stated subsample), as recorded by the Benchmarker.
  const samplingNotes: string[] = [];
  for (const m of sorted) for (const [metric, how] of Object.entries(m.sampling ?? {})) samplingNotes.push(`<li data-method="${esc(m.embedding)}" data-metric="${esc(metric)}"><b>${esc(m.embedding)}</b> · ${esc(metric)}: ${esc(how)}</li>`);
  if (samplingNotes.length) out.push(`<p class="note" id="silhouette-sampling-note">Silhouettes (exact, or estimated from a stated stratified sample of cells, each scored exactly against all cells):</p><ul class="note" id="silhouette-sampling">${samplingNotes.join('')}</ul>`);
  out.push('</section>');

  if (input.resultsSvg) out.push(`<section id="results-plot"><h2>Results table (scib-metrics style)</h2><div class="results-svg">${input.resultsSvg.replace(/^<\?xml[^>]*>\s*/, '')}</div></section>`);

  if (input.umaps && input.umaps.length) {
    out.push('<section id="umaps"><h2>UMAPs</h2>');
    out.push('<p class="note">2-D UMAP (15 exact neighbours, min_dist 0.5, seeded) of each embedding, coloured by batch (left) and label (right). Click a picture for its SVG.</p>');
    for (const u of input.umaps) {
      const sub = u.downsampled ? ` — a random subset of ${u.nPoints} cells` : '';
      out.push(`<div class="umap-row" id="umap-${slug(u.method)}"><h3>${esc(u.method)}</h3><div class="grid">`);
      out.push(image(u.byBatch, `UMAP of ${u.method} coloured by ${d.batchKey}`, 'umap umap-batch', u.method, 'batch', `${u.method} · ${d.batchKey}${sub}`));
      out.push(image(u.byLabel, `UMAP of ${u.method} coloured by ${d.labelKey}`, 'umap umap-label', u.method, 'label', `${u.method} · ${d.labelKey}${sub}`));
      out.push('</div></div>');
    }
    out.push('</section>');
  }

  if (input.lossCurves && input.lossCurves.length) {
    out.push('<section id="training"><h2>Training loss</h2>');
    out.push('<p class="note">Loss (−ELBO, with the epoch\'s KL weight) per epoch of each trained model: the mean over the epoch\'s minibatches, and the loss of the held-out validation cells when some were held out. Click a picture for its SVG.</p><div class="grid">');
    for (const c of input.lossCurves) {
      const restored = c.restoredEpoch ? `; weights of epoch ${c.restoredEpoch} restored` : '';
      const caption = `${c.method} · ${c.epochs} epochs (${c.stoppedBy}${restored})`;
      out.push(image(c.image, `Training loss of ${c.method}`, 'loss-curve', c.method, 'loss', caption));
    }
    out.push('</div></section>');
  }

  if (input.identifiability && input.identifiability.rows.length) {
    const idf = input.identifiability;
    out.push('<section id="identifiability"><h2>Identifiability</h2>');
    out.push(`<p class="note">Against the true latents <code>obsm['${esc(idf.truthKey)}']</code> of the simulation: mean correlation coefficient (absolute Pearson / Spearman correlations matched one-to-one by the Hungarian algorithm) and linear R² (least squares of each estimated dimension on the true latents), as inVAE's simulations report. Higher is better.</p>`);
    out.push('<table id="identifiability-table"><thead><tr><th>Method</th><th>MCC (Pearson)</th><th>MCC (Spearman)</th><th>Linear R²</th></tr></thead><tbody>');
    for (const row of idf.rows) out.push(`<tr class="method-row" data-method="${esc(row.method)}"><td>${esc(row.method)}</td><td>${num(row.mccPearson)}</td><td>${num(row.mccSpearman)}</td><td>${num(row.linearR2)}</td></tr>`);
    out.push('</tbody></table></section>');
  }

  if (input.de && input.de.length) {
    out.push('<section id="de"><h2>Differential expression</h2>');
    const r0 = input.de[0]!.result;
    out.push(
      `<p class="note"><code>${esc(r0.groupby)}</code>: <b>${esc(r0.group)}</b> (${r0.nCellsGroup} cells) vs <b>${esc(r0.reference ?? 'rest')}</b> (${r0.nCellsReference} cells). Bayesian change mode on ${r0.batchCorrected ? 'batch-corrected' : 'uncorrected'} normalised expression: P(|log2 fold change| ≥ ${r0.delta}), its Bayes factor, and the genes called at a posterior expected FDR of ${r0.fdrTarget}. Top genes by Bayes factor; the full tables are the CSV files.</p><div class="grid">`,
    );
    for (const d of input.de) out.push(image(d.image, `Volcano plot of ${d.method}`, 'volcano', d.method, 'de', `${d.method} · ${d.result.nDe} of ${d.result.genes.length} genes called`));
    out.push('</div>');
    for (const d of input.de) {
      out.push(`<h3>${esc(d.method)} <a href="${esc(d.csv)}">(${esc(d.csv)})</a></h3>`);
      out.push(`<table class="de-table" data-method="${esc(d.method)}"><thead><tr><th>Gene</th><th>LFC (mean)</th><th>LFC (sd)</th><th>P(DE)</th><th>ln BF</th><th>Called</th><th>Mean expr. group / ref.</th><th>Detection group / ref.</th></tr></thead><tbody>`);
      for (const g of d.result.genes.slice(0, 15)) {
        out.push(`<tr><td>${esc(g.gene)}</td><td>${num(g.lfcMean, 2)}</td><td>${num(g.lfcStd, 2)}</td><td>${num(g.probaDe)}</td><td>${num(g.bayesFactor, 2)}</td><td>${g.isDe ? 'yes' : 'no'}</td><td>${num(g.scaleGroup, 2)} / ${num(g.scaleReference, 2)}</td><td>${num(g.detectionGroup, 2)} / ${num(g.detectionReference, 2)}</td></tr>`);
      }
      out.push('</tbody></table>');
    }
    out.push('</section>');
  }

  if (input.invariantPrediction && input.invariantPrediction.methods.length) {
    const ip = input.invariantPrediction;
    const batches = [...new Set(ip.methods.flatMap((m) => m.result.perBatch.map((p) => p.batch)))];
    out.push('<section id="invariant-prediction"><h2>Invariant prediction (leave one batch out)</h2>');
    out.push(`<p class="note">${esc(ip.protocol)}</p>`);
    out.push('<div class="scroll"><table id="lobo-table"><thead><tr><th>Method</th><th>Predictor</th><th>Mean accuracy</th><th>Mean macro-F1</th>');
    for (const b of batches) out.push(`<th title="held-out batch">${esc(b)} (acc / F1)</th>`);
    out.push('</tr></thead><tbody>');
    for (const m of ip.methods) {
      out.push(`<tr class="method-row" data-method="${esc(m.method)}"><td${m.note ? ` title="${esc(m.note)}"` : ''}>${esc(m.method)}</td><td>${m.result.classifier}</td><td>${num(m.result.mean.accuracy)}</td><td>${num(m.result.mean.macroF1)}</td>`);
      for (const b of batches) {
        const p = m.result.perBatch.find((x) => x.batch === b);
        if (!p || p.accuracy === null) out.push(`<td title="${esc(p?.skipped ?? 'not scored')}"><span class="na">–</span></td>`);
        else {
          const unseen = p.unseenLabels.length ? ` title="labels never seen in training: ${esc(p.unseenLabels.join(', '))}"` : '';
          out.push(`<td${unseen}>${num(p.accuracy)} / ${num(p.macroF1)}${p.unseenLabels.length ? '*' : ''}</td>`);
        }
      }
      out.push('</tr>');
    }
    out.push('</tbody></table></div>');
    if (ip.methods.some((m) => m.result.perBatch.some((p) => p.unseenLabels.length))) out.push('<p class="note">* the held-out batch has labels no other batch has; they cannot be predicted.</p>');
    const notes = ip.methods.filter((m) => m.note);
    if (notes.length) out.push(`<ul class="note">${notes.map((m) => `<li><b>${esc(m.method)}</b>: ${esc(m.note!)}</li>`).join('')}</ul>`);
    out.push('</section>');
  }

  // NaN reasons.
  out.push('<section id="nan-reasons"><h2>NaN reasons</h2>');
  const items: string[] = [];
  for (const m of r.methods) {
    for (const [metric, reasons] of Object.entries(m.nanReasons ?? {})) {
      for (const x of reasons ?? []) items.push(`<li data-method="${esc(m.embedding)}" data-metric="${esc(metric)}"><b>${esc(m.embedding)}</b> · ${esc(metric)}${x.label === null ? '' : ` · label <code>${esc(x.label)}</code>`}: ${esc(x.reason)}</li>`);
    }
  }
  out.push(items.length ? `<ul id="nan-reason-list">${items.join('')}</ul>` : '<p>Every metric was computed for every label.</p>');
  out.push('</section>');

  if (input.timings && input.timings.length) {
    out.push('<section id="timings"><h2>Timings</h2><table id="timings-table"><thead><tr><th>Step</th><th>Seconds</th></tr></thead><tbody>');
    for (const t of input.timings) out.push(`<tr><td>${esc(t.step)}</td><td>${num(t.seconds, 1)}</td></tr>`);
    out.push('</tbody></table></section>');
  }
  if (input.environment && Object.keys(input.environment).length) {
    out.push('<section id="environment"><h2>Versions and engine</h2><dl>');
    for (const [k, v] of Object.entries(input.environment)) out.push(`<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`);
    out.push('</dl></section>');
  }
  out.push('</main>', '</body>', '</html>');
  return `${out.join('\n')}\n`;
}
