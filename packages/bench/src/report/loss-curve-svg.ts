import { BenchInputError } from '../errors';
import { escapeXml } from './xml';

/** One epoch of a training history (structurally an `EpochReport` of @invae/core). */
export interface LossCurveEpoch {
  /** 1-based epoch. */
  readonly epoch: number;
  /** Mean training loss of the epoch. */
  readonly loss: number;
  /** Loss of the held-out validation cells after the epoch, when cells were held out. */
  readonly validationLoss?: number;
}

/** Options of {@link lossCurveSvg}. */
export interface LossCurveSvgOptions {
  /** Title above the plot (e.g. `FinVAE · cellbench-lung-3cl`). */
  readonly title?: string;
  /** Plot area width and height in pixels (default 560 × 300). */
  readonly plotWidth?: number;
  readonly plotHeight?: number;
  /** Epoch to mark with a dashed vertical line, e.g. the one whose weights early stopping restored. */
  readonly markEpoch?: number | null;
  /** Caption of the marked epoch (default `best epoch`). */
  readonly markLabel?: string;
}

const FONT = 'Helvetica, Arial, DejaVu Sans, sans-serif';
const TRAIN_COLOUR = '#1f77b4';
const VALIDATION_COLOUR = '#ff7f0e';

function fmt(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** About `count` round tick values (1, 2, 5 × 10^k apart) covering [lo, hi]. */
export function ticks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** A tick label: few significant digits, no float noise. */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

/**
 * A line plot of the training loss (and the validation loss, when the history has one) per epoch as
 * an SVG document (string): epochs on x, loss on y, with round ticks, a legend, and an optional
 * dashed line at `markEpoch`. The y range runs from the lowest loss to the highest loss after the
 * first 5% of the epochs (at least the first epoch left out from 10 epochs on), so the steep start
 * of training does not flatten the rest of the curve; the lines are clipped to the plot (the caption
 * says so when a point lies above it). Non-finite losses break the line. Elements:
 * `path.train-loss`, `path.validation-loss`, `line.mark-epoch`, `g.legend-entry`. Pure.
 * @throws BenchInputError when there is no epoch, or epochs are not increasing integers.
 */
export function lossCurveSvg(epochs: readonly LossCurveEpoch[], options: LossCurveSvgOptions = {}): string {
  if (!Array.isArray(epochs) || epochs.length === 0) throw new BenchInputError('epochs', 'lossCurveSvg needs at least one epoch.');
  for (let i = 0; i < epochs.length; i++) {
    const e = epochs[i]!.epoch;
    if (!Number.isInteger(e) || (i > 0 && e <= epochs[i - 1]!.epoch)) throw new BenchInputError('epochs', `epoch ${i} is ${e}; epochs must be increasing integers.`);
  }
  const w = options.plotWidth ?? 560;
  const h = options.plotHeight ?? 300;
  if (!(w >= 100 && h >= 60)) throw new BenchInputError('plotWidth', `the plot area must be at least 100 × 60 pixels, got ${w} × ${h}.`);
  const hasValidation = epochs.some((e) => e.validationLoss !== undefined);
  const series: { name: string; cls: string; colour: string; values: number[] }[] = [{ name: 'training', cls: 'train-loss', colour: TRAIN_COLOUR, values: epochs.map((e) => e.loss) }];
  if (hasValidation) series.push({ name: 'validation', cls: 'validation-loss', colour: VALIDATION_COLOUR, values: epochs.map((e) => e.validationLoss ?? Number.NaN) });

  const skip = epochs.length >= 10 ? Math.max(1, Math.floor(epochs.length * 0.05)) : 0;
  let lo = Infinity;
  let hi = -Infinity;
  let top = -Infinity;
  for (const s of series) {
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v)) return;
      lo = Math.min(lo, v);
      top = Math.max(top, v);
      if (i >= skip) hi = Math.max(hi, v);
    });
  }
  const finite = Number.isFinite(lo);
  if (!finite) {
    lo = 0;
    hi = 1;
  }
  if (!(hi > lo)) {
    const pad = Math.max(1e-6, Math.abs(lo) * 0.05);
    lo -= pad;
    hi += pad;
  } else {
    const pad = (hi - lo) * 0.04;
    lo -= pad;
    hi += pad;
  }
  const clipped = finite && top > hi;
  const x0 = epochs[0]!.epoch;
  const x1 = Math.max(epochs.at(-1)!.epoch, x0 + 1);

  const left = 70;
  const titleH = options.title ? 34 : 12;
  const legendH = 22;
  const plotTop = titleH + legendH;
  const width = left + w + 20;
  const height = plotTop + h + 46;
  const px = (x: number) => left + ((x - x0) / (x1 - x0)) * w;
  const py = (y: number) => plotTop + h - ((y - lo) / (hi - lo)) * h;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  if (options.title) out.push(`<text x="${left}" y="22" font-size="15" font-weight="bold" class="title">${escapeXml(options.title)}</text>`);
  out.push(`<defs><clipPath id="plot-area"><rect x="${left}" y="${plotTop}" width="${w}" height="${h}"/></clipPath></defs>`);
  // grid and ticks
  out.push('<g class="y-ticks" stroke="#eee">');
  for (const t of ticks(lo, hi, 5)) {
    const y = fmt(py(t));
    out.push(`<line x1="${left}" x2="${left + w}" y1="${y}" y2="${y}"/><text x="${left - 6}" y="${fmt(py(t) + 4)}" text-anchor="end" stroke="none" fill="#444">${tickLabel(t)}</text>`);
  }
  out.push('</g>', '<g class="x-ticks" stroke="#eee">');
  for (const t of ticks(x0, x1, 8).filter((v) => Number.isInteger(v))) {
    const x = fmt(px(t));
    out.push(`<line x1="${x}" x2="${x}" y1="${plotTop}" y2="${plotTop + h}"/><text x="${x}" y="${plotTop + h + 16}" text-anchor="middle" stroke="none" fill="#444">${t}</text>`);
  }
  out.push('</g>');
  out.push(`<rect x="${left}" y="${plotTop}" width="${w}" height="${h}" fill="none" stroke="#888" class="frame"/>`);
  out.push(`<text x="${left + w / 2}" y="${plotTop + h + 34}" text-anchor="middle" font-size="11" class="axis">epoch</text>`);
  out.push(`<text transform="translate(16,${plotTop + h / 2}) rotate(-90)" text-anchor="middle" font-size="11" class="axis">loss (−ELBO)</text>`);
  const mark = options.markEpoch;
  if (mark !== undefined && mark !== null && mark >= x0 && mark <= x1) {
    const x = fmt(px(mark));
    out.push(`<line x1="${x}" x2="${x}" y1="${plotTop}" y2="${plotTop + h}" stroke="#2ca02c" stroke-dasharray="5,4" class="mark-epoch"><title>${escapeXml(`${options.markLabel ?? 'best epoch'}: ${mark}`)}</title></line>`);
  }
  for (const s of series) {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${fmt(px(epochs[i]!.epoch))},${fmt(py(v))}`;
      pen = true;
    });
    // a single epoch is drawn as a dot
    if (epochs.length === 1 && Number.isFinite(s.values[0]!)) out.push(`<circle cx="${fmt(px(x0))}" cy="${fmt(py(s.values[0]!))}" r="3" fill="${s.colour}" class="${s.cls}-point"/>`);
    out.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="1.6" clip-path="url(#plot-area)" class="${s.cls}"/>`);
  }
  // legend above the plot
  let lx = left;
  const ly = titleH + 10;
  const entries = series.map((s) => ({ name: `${s.name} loss`, colour: s.colour, dash: '' }));
  if (mark !== undefined && mark !== null) entries.push({ name: `${options.markLabel ?? 'best epoch'} (${mark})`, colour: '#2ca02c', dash: ' stroke-dasharray="5,4"' });
  for (const e of entries) {
    out.push(`<g class="legend-entry"><line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${e.colour}" stroke-width="2"${e.dash}/><text x="${lx + 28}" y="${ly + 4}">${escapeXml(e.name)}</text></g>`);
    lx += 40 + 7 * e.name.length;
  }
  if (clipped) out.push(`<text x="${left + w}" y="${plotTop + h + 34}" text-anchor="end" font-size="10" fill="#777" class="clipped-note">first epochs above the plot</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
