import { Rng } from '@invae/core';
import { encodeCategorical, type Categorical } from '../internal/categories';
import { BenchInputError } from '../errors';
import { categoricalPalette } from './palette';
import { escapeXml } from './xml';
import { fitText, textWidth } from './text-width';

/** Options of {@link scatterSvg}. */
export interface ScatterSvgOptions {
  /** Title above the plot (e.g. `FinVAE · cell_line`). */
  readonly title?: string;
  /** Title of the legend (e.g. the obs key). */
  readonly legendTitle?: string;
  /** Side of the square plot area in pixels (default 480). */
  readonly plotSize?: number;
  /** Point radius in pixels (default: 150 / √n, clamped to [0.5, 4]). */
  readonly pointRadius?: number;
  /** Colours by category (default {@link categoricalPalette}); category order is the sorted one. */
  readonly palette?: readonly string[];
  /**
   * Drawing order: `shuffle` (default; a seeded random order so that no category is systematically
   * painted over another) or `data` (input order, as scanpy).
   */
  readonly order?: 'shuffle' | 'data';
  /** Seed of the shuffled drawing order (default 0). */
  readonly seed?: number;
  /** Axis captions (default `UMAP1`, `UMAP2`). */
  readonly axisLabels?: readonly [string, string];
}

const FONT = 'Helvetica, Arial, DejaVu Sans, sans-serif';

/** Most legend columns; categories beyond them are summed up in a last "… N more" entry. */
export const MAX_LEGEND_COLUMNS = 3;

/** Where the legend of a scatter plot puts its entries, and how big they are drawn. */
export interface LegendLayout {
  /** Entries in drawing order: a category (`index`) with its possibly shortened name, or the "… N more" line (`index` null). */
  entries: { index: number | null; text: string }[];
  perColumn: number;
  nColumns: number;
  columnWidth: number;
  rowHeight: number;
  fontSize: number;
  swatchRadius: number;
  /** Width of all columns (pixels). */
  width: number;
}

/**
 * The legend of `names` in columns of `height` pixels, at most {@link MAX_LEGEND_COLUMNS} columns
 * and `maxWidth` pixels wide: 12 px text in 18 px rows, or 10 px in 14 px rows when two columns of
 * the larger size would not hold every name; names wider than their column are shortened with "…"
 * (the full name stays in the entry's tooltip), and names beyond the last column become one
 * "… N more" entry.
 */
export function legendLayout(names: readonly string[], height: number, maxWidth: number): LegendLayout {
  const k = names.length;
  const roomy = Math.max(1, Math.floor(height / 18));
  const [fontSize, rowHeight, swatchRadius] = k > 2 * roomy ? [10, 14, 4] : [12, 18, 5];
  const perColumn = Math.max(1, Math.floor(height / rowHeight));
  const capacity = perColumn * MAX_LEGEND_COLUMNS;
  const nEntries = Math.min(k, capacity);
  const nColumns = Math.max(1, Math.ceil(nEntries / perColumn));
  // swatch and gap before each name, a gap after it
  const labelMax = Math.max(40, Math.floor(maxWidth / nColumns) - 16 - 10);
  const entries: LegendLayout['entries'] =
    k <= capacity
      ? names.map((n, index) => ({ index, text: fitText(n, fontSize, labelMax) }))
      : [...names.slice(0, capacity - 1).map((n, index) => ({ index, text: fitText(n, fontSize, labelMax) })), { index: null, text: `… ${k - capacity + 1} more` }];
  const widest = Math.max(textWidth('cat0', fontSize), ...entries.map((e) => textWidth(e.text, fontSize)));
  const columnWidth = Math.ceil(16 + Math.min(labelMax, widest) + 10);
  return { entries, perColumn, nColumns, columnWidth, rowHeight, fontSize, swatchRadius, width: nColumns * columnWidth };
}

function fmt(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/**
 * A 2-D scatter plot of categorical data as an SVG document (string), in the style of scanpy's
 * `pl.umap(color=key)`: a framed square plot without ticks, points coloured by category with
 * scanpy's default palette, axis captions, and a legend with one entry (swatch and name) per
 * category in sorted order. Every point is drawn as one `<circle>` inside `<g class="points">`; the
 * legend entries are `<g class="legend-entry">`. Pure and deterministic.
 *
 * @param coordinates row-major `n × 2` point coordinates (finite).
 * @param categories the category of every point (length `n`).
 */
export function scatterSvg(coordinates: ArrayLike<number>, categories: Categorical, options: ScatterSvgOptions = {}): string {
  const n = categories?.length ?? 0;
  if (!coordinates || coordinates.length !== 2 * n) {
    throw new BenchInputError('coordinates', `coordinates has ${coordinates?.length} values for ${n} points (2 per point expected).`);
  }
  for (let i = 0; i < coordinates.length; i++) {
    if (!Number.isFinite(coordinates[i]!)) {
      throw new BenchInputError('coordinates', `coordinates has a non-finite value at point ${Math.floor(i / 2)}.`);
    }
  }
  const enc = encodeCategorical(categories, 'categories', n);
  const k = enc.categories.length;
  const palette = options.palette ?? categoricalPalette(k);
  if (palette.length < k) throw new BenchInputError('palette', `palette has ${palette.length} colours for ${k} categories.`);
  const size = options.plotSize ?? 480;
  if (!(size >= 50)) throw new BenchInputError('plotSize', `plotSize must be at least 50 pixels, got ${size}.`);
  const r = options.pointRadius ?? Math.min(4, Math.max(0.5, 150 / Math.sqrt(Math.max(1, n))));
  const [xLabel, yLabel] = options.axisLabels ?? ['UMAP1', 'UMAP2'];

  // Layout: title, square plot on the left, legend columns on the right (at most as wide as the plot).
  const top = options.title ? 36 : 12;
  const left = 28;
  const legendTop = top + (options.legendTitle ? 22 : 4);
  const legend = legendLayout(enc.categories.map(String), size - (legendTop - top), Math.max(240, size));
  const legendTitleWidth = options.legendTitle ? textWidth(options.legendTitle, 12) * 1.1 : 0;
  const titleWidth = options.title ? textWidth(options.title, 15) * 1.1 : 0;
  const width = Math.ceil(Math.max(left + size + 20 + Math.max(legend.width, legendTitleWidth) + 10, left + titleWidth + 10));
  const height = top + size + 28;

  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = coordinates[2 * i]!;
    const y = coordinates[2 * i + 1]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const pad = 0.03;
  const span = Math.max(maxX - minX, maxY - minY, 1e-12);
  const scale = (size * (1 - 2 * pad)) / span;
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  const px = (x: number) => left + size / 2 + (x - cx) * scale;
  const py = (y: number) => top + size / 2 - (y - cy) * scale;

  const order = Int32Array.from({ length: n }, (_, i) => i);
  if ((options.order ?? 'shuffle') === 'shuffle') {
    const rng = new Rng(options.seed ?? 0);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
  } else if (options.order !== 'data') {
    throw new BenchInputError('order', `Unknown drawing order '${String(options.order)}'.`, { hint: "Use 'shuffle' or 'data'." });
  }

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  if (options.title) out.push(`<text x="${left}" y="24" font-size="15" font-weight="bold" class="title">${escapeXml(options.title)}</text>`);
  out.push(`<rect x="${left}" y="${top}" width="${size}" height="${size}" fill="none" stroke="#888" class="frame"/>`);
  out.push(`<text x="${left + 4}" y="${top + size + 16}" font-size="11" class="axis">${escapeXml(xLabel)}</text>`);
  out.push(`<text transform="translate(${left - 8},${top + size - 4}) rotate(-90)" font-size="11" class="axis">${escapeXml(yLabel)}</text>`);
  const rs = fmt(r);
  const body: string[] = [];
  for (let t = 0; t < n; t++) {
    const i = order[t]!;
    body.push(`<circle cx="${fmt(px(coordinates[2 * i]!))}" cy="${fmt(py(coordinates[2 * i + 1]!))}" r="${rs}" fill="${palette[enc.codes[i]!]}"/>`);
  }
  out.push(`<g class="points" stroke="none">${body.join('')}</g>`);
  const lx = left + size + 20;
  out.push('<g class="legend">');
  if (options.legendTitle) out.push(`<text x="${lx}" y="${top + 12}" font-weight="bold" class="legend-title">${escapeXml(options.legendTitle)}</text>`);
  legend.entries.forEach((e, j) => {
    const x = lx + Math.floor(j / legend.perColumn) * legend.columnWidth;
    const y = legendTop + (j % legend.perColumn) * legend.rowHeight + legend.rowHeight / 2;
    const font = legend.fontSize === 12 ? '' : ` font-size="${legend.fontSize}"`;
    if (e.index === null) {
      const rest = enc.categories.slice(legend.entries.length - 1).map(String);
      out.push(`<g class="legend-more"><text x="${x + 16}" y="${y + 4}"${font}><title>${escapeXml(rest.join(', '))}</title>${escapeXml(e.text)}</text></g>`);
      return;
    }
    const name = String(enc.categories[e.index]);
    out.push(
      `<g class="legend-entry"><circle cx="${x + 6}" cy="${y}" r="${legend.swatchRadius}" fill="${palette[e.index]}" class="legend-swatch"/><text x="${x + 16}" y="${y + 4}"${font}><title>${escapeXml(`${name}: ${enc.counts[e.index]} cells`)}</title>${escapeXml(e.text)}</text></g>`,
    );
  });
  out.push('</g>');
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
