import type { BenchmarkResults } from '../metrics/benchmarker';
import { DARK_TEXT, readableTextColour, type Rgb } from './contrast';
import { textWidth } from './text-width';

/** Options of {@link resultsTableSvg}. */
export interface ResultsTableSvgOptions {
  /** Title above the table (default: none). */
  title?: string;
  /** Methods shown with a dagger (e.g. those that read the labels), explained by {@link footnote}. */
  marked?: readonly string[];
  /** A line under the table explaining the dagger (shown when some method is marked). */
  footnote?: string;
  /**
   * Standard deviations by method and column (metric or aggregate name), drawn as ±1 sd error bars:
   * across the bar's end for an aggregate, as a whisker under the circle for a metric (same scale:
   * the column's width is 1). Null or missing: no bar.
   */
  errors?: Readonly<Record<string, Readonly<Record<string, number | null | undefined>>>>;
  /** A line under the table (e.g. what the error bars are). */
  caption?: string;
}

const AGGREGATES = ['Bio conservation', 'Batch correction', 'Total'] as const;

/** Viridis-like colour for a value in [0, 1] (5-stop piecewise-linear ramp), as channels. */
export function viridisRgb(v: number): Rgb {
  const stops: [number, number, number][] = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const t = Math.min(1, Math.max(0, v)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(t));
  const f = t - i;
  const [a, b] = [stops[i]!, stops[i + 1]!];
  const c = a.map((x, k) => Math.round(x + (b[k]! - x) * f));
  return [c[0]!, c[1]!, c[2]!];
}

function colour(v: number): string {
  const [r, g, b] = viridisRgb(v);
  return `rgb(${r},${g},${b})`;
}

/**
 * The fill (and halo) of a value drawn on a glyph: chosen by the glyph's luminance where the glyph
 * holds the whole text; where the text reaches past the glyph (a small circle or a short bar, i.e.
 * a low score), dark text with a white halo, legible on the glyph and on the row behind it alike.
 */
function valueTextStyle(glyph: Rgb, covers: boolean): string {
  return covers ? `fill="${readableTextColour(glyph)}"` : `fill="${DARK_TEXT}" stroke="white" stroke-width="2.5" paint-order="stroke" stroke-linejoin="round"`;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch]!);
}

/**
 * The results table as an SVG picture in the style of scib-metrics' `plot_results_table`: one row
 * per method sorted by Total (best first), a circle per metric (area and colour by value, grouped
 * into bio conservation and batch correction), and bars for the three aggregates. Values are drawn
 * as given (unscaled, or min-max scaled when the results were), clamped to [0, 1] for the glyphs;
 * a metric that could not be computed is drawn as "–".
 */
export function resultsTableSvg(results: BenchmarkResults, options: ResultsTableSvgOptions = {}): string {
  const metricNames = Object.keys(results.metricTypes) as (keyof BenchmarkResults['metricTypes'])[];
  const bio = metricNames.filter((m) => results.metricTypes[m] === 'Bio conservation');
  const batch = metricNames.filter((m) => results.metricTypes[m] === 'Batch correction');
  const columns: { name: string; group: string; kind: 'metric' | 'aggregate' }[] = [
    ...bio.map((name) => ({ name, group: 'Bio conservation', kind: 'metric' as const })),
    ...batch.map((name) => ({ name, group: 'Batch correction', kind: 'metric' as const })),
    ...AGGREGATES.map((name) => ({ name, group: 'Aggregate score', kind: 'aggregate' as const })),
  ];
  const rows = [...results.methods].sort((a, b) => (b.aggregates.Total ?? -Infinity) - (a.aggregates.Total ?? -Infinity));
  const marked = new Set(options.marked ?? []);
  const shown = (name: string) => (marked.has(name) ? `${name} †` : name);
  const footnote = marked.size && options.footnote ? `† ${options.footnote}` : null;
  const labelWidth = Math.max(110, 8 * Math.max(...rows.map((r) => shown(r.embedding).length)) + 20);
  const colWidth = 78;
  const rowHeight = 34;
  const top = (options.title ? 30 : 0) + 120;
  const width = labelWidth + colWidth * columns.length + 20;
  const caption = options.caption ?? null;
  const height = top + rowHeight * rows.length + 40 + (footnote ? 16 : 0) + (caption ? 16 : 0);
  const span = colWidth - 14;
  /** A ±sd error bar from x0 to x1 (clamped to the cell) at height y, with caps. */
  const errorBar = (cx: number, x0: number, x1: number, y: number, title: string) => {
    const lo = Math.max(cx - span / 2, x0);
    const hi = Math.min(cx + span / 2, x1);
    return `<g class="error-bar" stroke="#333" stroke-width="1.2"><title>${escapeXml(title)}</title><line x1="${lo.toFixed(2)}" y1="${y}" x2="${hi.toFixed(2)}" y2="${y}"/><line x1="${lo.toFixed(2)}" y1="${y - 3}" x2="${lo.toFixed(2)}" y2="${y + 3}"/><line x1="${hi.toFixed(2)}" y1="${y - 3}" x2="${hi.toFixed(2)}" y2="${y + 3}"/></g>`;
  };
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  if (options.title) out.push(`<text x="10" y="22" font-size="16" font-weight="bold">${escapeXml(options.title)}</text>`);
  // Group captions and column headers (rotated).
  let x = labelWidth;
  let previousGroup = '';
  columns.forEach((c, i) => {
    const cx = x + colWidth / 2;
    if (c.group !== previousGroup) {
      out.push(`<text x="${x + 4}" y="${top - 100}" font-weight="bold" class="group">${escapeXml(c.group)}</text>`);
      if (i > 0) out.push(`<line x1="${x}" y1="${top - 110}" x2="${x}" y2="${top + rowHeight * rows.length}" stroke="#ccc"/>`);
      previousGroup = c.group;
    }
    out.push(`<text transform="translate(${cx},${top - 10}) rotate(-40)" class="column">${escapeXml(c.name)}</text>`);
    x += colWidth;
  });
  out.push(`<text x="10" y="${top - 10}" font-weight="bold">Method</text>`);
  rows.forEach((r, j) => {
    const y = top + j * rowHeight + rowHeight / 2;
    if (j % 2 === 0) out.push(`<rect x="0" y="${y - rowHeight / 2}" width="${width}" height="${rowHeight}" fill="#f5f5f5"/>`);
    out.push(`<text x="10" y="${y + 4}" class="method">${escapeXml(shown(r.embedding))}</text>`);
    columns.forEach((c, i) => {
      const cx = labelWidth + i * colWidth + colWidth / 2;
      const v = c.kind === 'metric' ? r.metrics[c.name as keyof typeof r.metrics] : r.aggregates[c.name as keyof typeof r.aggregates];
      if (v === null || v === undefined || !Number.isFinite(v)) {
        out.push(`<text x="${cx}" y="${y + 4}" text-anchor="middle" fill="#888">–</text>`);
        return;
      }
      const clamped = Math.min(1, Math.max(0, v));
      const sd = options.errors?.[r.embedding]?.[c.name];
      const hasSd = sd !== null && sd !== undefined && Number.isFinite(sd);
      const sdText = hasSd ? ` ± ${sd.toFixed(3)}` : '';
      if (c.kind === 'metric') {
        const radius = 4 + 10 * Math.sqrt(clamped);
        out.push(`<circle cx="${cx}" cy="${y}" r="${radius.toFixed(2)}" fill="${colour(clamped)}" class="metric"><title>${escapeXml(`${r.embedding} · ${c.name}: ${v.toFixed(3)}${sdText}`)}</title></circle>`);
        if (hasSd) out.push(errorBar(cx, cx - sd * span, cx + sd * span, y + rowHeight / 2 - 2, `${r.embedding} · ${c.name}: sd ${sd.toFixed(3)}`));
        const text = v.toFixed(2);
        const covers = radius >= textWidth(text, 9) / 2 + 1;
        out.push(`<text x="${cx}" y="${y + 4}" text-anchor="middle" font-size="9" class="value" ${valueTextStyle(viridisRgb(clamped), covers)}>${text}</text>`);
      } else {
        const barWidth = (colWidth - 14) * clamped;
        out.push(`<rect x="${cx - (colWidth - 14) / 2}" y="${y - 8}" width="${barWidth.toFixed(2)}" height="16" fill="${colour(clamped)}" class="aggregate"><title>${escapeXml(`${r.embedding} · ${c.name}: ${v.toFixed(3)}${sdText}`)}</title></rect>`);
        const text = v.toFixed(2);
        const half = textWidth(text, 10) / 2;
        const barLeft = cx - (colWidth - 14) / 2;
        const style = barLeft + barWidth >= cx + half + 1 ? valueTextStyle(viridisRgb(clamped), true) : barLeft + barWidth <= cx - half - 1 ? `fill="${DARK_TEXT}"` : valueTextStyle(viridisRgb(clamped), false);
        out.push(`<text x="${cx}" y="${y + 4}" text-anchor="middle" font-size="10" class="value" ${style}>${text}</text>`);
        if (hasSd) out.push(errorBar(cx, barLeft + (v - sd) * span, barLeft + (v + sd) * span, y + 11, `${r.embedding} · ${c.name}: sd ${sd.toFixed(3)}`));
      }
    });
  });
  if (footnote) out.push(`<text x="10" y="${height - 26 - (caption ? 16 : 0)}" fill="#666" font-size="10">${escapeXml(footnote)}</text>`);
  if (caption) out.push(`<text x="10" y="${height - 26}" fill="#666" font-size="10" class="caption">${escapeXml(caption)}</text>`);
  out.push(`<text x="10" y="${height - 10}" fill="#666" font-size="10">${escapeXml(`${results.nCells} cells, ${results.nLabels} labels, ${results.nBatches} batches · scib-metrics ${results.scibMetrics} definitions · scale: ${results.scale}`)}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
