import { Rng } from '@invae/core';
import { encodeCategorical, type Categorical } from '../internal/categories';
import { BenchInputError } from '../errors';
import { categoricalPalette } from './palette';
import { escapeXml } from './xml';

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

  // Layout: title, square plot on the left, legend columns on the right.
  const top = options.title ? 36 : 12;
  const left = 28;
  const rowHeight = 18;
  const legendTop = top + (options.legendTitle ? 22 : 4);
  const perColumn = Math.max(1, Math.floor((size - (legendTop - top)) / rowHeight));
  const nColumns = Math.max(1, Math.ceil(k / perColumn));
  const longest = Math.max(4, ...enc.categories.map((c) => String(c).length));
  const columnWidth = Math.min(260, 24 + 7 * longest);
  const width = left + size + 20 + nColumns * columnWidth + 10;
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
  enc.categories.forEach((c, j) => {
    const x = lx + Math.floor(j / perColumn) * columnWidth;
    const y = legendTop + (j % perColumn) * rowHeight + 9;
    const name = String(c);
    const shown = name.length > 34 ? `${name.slice(0, 33)}…` : name;
    out.push(
      `<g class="legend-entry"><circle cx="${x + 6}" cy="${y}" r="5" fill="${palette[j]}" class="legend-swatch"/><text x="${x + 16}" y="${y + 4}"><title>${escapeXml(`${name}: ${enc.counts[j]} cells`)}</title>${escapeXml(shown)}</text></g>`,
    );
  });
  out.push('</g>');
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
