import { BenchInputError } from '../errors';
import { ticks, tickLabel } from './loss-curve-svg';
import { escapeXml } from './xml';

/** One gene of a volcano plot (structurally a `DeGene` of @invae/core). */
export interface VolcanoGene {
  readonly gene: string;
  /** Posterior mean log2 fold change (x). */
  readonly lfcMean: number;
  /** Natural-log Bayes factor (y). */
  readonly bayesFactor: number;
  /** Called at the FDR target (drawn in colour). */
  readonly isDe: boolean;
}

/** Options of {@link volcanoSvg}. */
export interface VolcanoSvgOptions {
  /** Title above the plot (e.g. `cell_type: B vs rest`). */
  readonly title?: string;
  /** δ: dashed vertical lines at ±δ (default none). */
  readonly delta?: number;
  /** Genes named next to their point: the called genes with the highest Bayes factors (default 10). */
  readonly labelTop?: number;
  /** Plot area width and height in pixels (default 480 × 360). */
  readonly plotWidth?: number;
  readonly plotHeight?: number;
}

const FONT = 'Helvetica, Arial, DejaVu Sans, sans-serif';
const CALLED = '#d62728';
const OTHER = '#9e9e9e';

/**
 * A volcano plot of differential expression as an SVG document (string): posterior mean log2 fold
 * change on x, natural-log Bayes factor on y, genes called at the FDR target in red (`circle.de`),
 * the others grey (`circle.not-de`), dashed lines at ±δ (`line.delta`), and the top called genes
 * named (`text.gene-label`). Every point has its gene as tooltip. Pure.
 * @throws BenchInputError when there is no gene or a value is not finite.
 */
export function volcanoSvg(genes: readonly VolcanoGene[], options: VolcanoSvgOptions = {}): string {
  if (!Array.isArray(genes) || genes.length === 0) throw new BenchInputError('genes', 'volcanoSvg needs at least one gene.');
  const bad = genes.findIndex((g) => !Number.isFinite(g.lfcMean) || !Number.isFinite(g.bayesFactor));
  if (bad >= 0) throw new BenchInputError('genes', `gene ${bad} (${genes[bad]!.gene}) has a non-finite log fold change or Bayes factor.`);
  const w = options.plotWidth ?? 480;
  const h = options.plotHeight ?? 360;
  const [left, top, right, bottom] = [56, options.title ? 36 : 14, 16, 44];
  const xMax = Math.max(options.delta ?? 0, ...genes.map((g) => Math.abs(g.lfcMean))) * 1.05 || 1;
  const yLo = Math.min(0, ...genes.map((g) => g.bayesFactor));
  const yHi = Math.max(1, ...genes.map((g) => g.bayesFactor)) * 1.05;
  const px = (v: number) => left + ((v + xMax) / (2 * xMax)) * w;
  const py = (v: number) => top + h - ((v - yLo) / (yHi - yLo)) * h;
  const r = Math.max(1.5, Math.min(4, 120 / Math.sqrt(genes.length)));
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${left + w + right}" height="${top + h + bottom}" viewBox="0 0 ${left + w + right} ${top + h + bottom}" font-family="${FONT}">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  if (options.title) out.push(`<text x="${left + w / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(options.title)}</text>`);
  out.push(`<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#444"/>`);
  for (const t of ticks(-xMax, xMax, 6)) {
    out.push(`<line x1="${px(t).toFixed(1)}" y1="${top + h}" x2="${px(t).toFixed(1)}" y2="${top + h + 4}" stroke="#444"/>`);
    out.push(`<text x="${px(t).toFixed(1)}" y="${top + h + 16}" text-anchor="middle" font-size="11">${tickLabel(t)}</text>`);
  }
  for (const t of ticks(yLo, yHi, 5)) {
    out.push(`<line x1="${left - 4}" y1="${py(t).toFixed(1)}" x2="${left}" y2="${py(t).toFixed(1)}" stroke="#444"/>`);
    out.push(`<text x="${left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${tickLabel(t)}</text>`);
  }
  out.push(`<text x="${left + w / 2}" y="${top + h + 36}" text-anchor="middle" font-size="12">log2 fold change (posterior mean)</text>`);
  out.push(`<text transform="translate(14 ${top + h / 2}) rotate(-90)" text-anchor="middle" font-size="12">ln Bayes factor</text>`);
  if (options.delta !== undefined && options.delta > 0) {
    for (const d of [-options.delta, options.delta]) out.push(`<line class="delta" x1="${px(d).toFixed(1)}" y1="${top}" x2="${px(d).toFixed(1)}" y2="${top + h}" stroke="#777" stroke-dasharray="4 3"/>`);
  }
  // grey first, called genes on top
  const ordered = [...genes].sort((a, b) => Number(a.isDe) - Number(b.isDe));
  for (const g of ordered) {
    out.push(`<circle class="${g.isDe ? 'de' : 'not-de'}" cx="${px(g.lfcMean).toFixed(1)}" cy="${py(g.bayesFactor).toFixed(1)}" r="${r.toFixed(1)}" fill="${g.isDe ? CALLED : OTHER}" fill-opacity="0.8"><title>${escapeXml(`${g.gene}: LFC ${g.lfcMean.toFixed(2)}, ln BF ${g.bayesFactor.toFixed(2)}`)}</title></circle>`);
  }
  const labelled = genes.filter((g) => g.isDe).sort((a, b) => b.bayesFactor - a.bayesFactor || Math.abs(b.lfcMean) - Math.abs(a.lfcMean)).slice(0, options.labelTop ?? 10);
  for (const g of labelled) {
    const x = px(g.lfcMean);
    const anchor = x > left + w * 0.8 ? 'end' : 'start';
    out.push(`<text class="gene-label" x="${(x + (anchor === 'start' ? 5 : -5)).toFixed(1)}" y="${(py(g.bayesFactor) - 4).toFixed(1)}" text-anchor="${anchor}" font-size="10">${escapeXml(g.gene)}</text>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
