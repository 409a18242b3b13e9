/**
 * scanpy's default categorical palette for up to 20 categories (`default_20`: matplotlib's tab20
 * colours in scanpy's order, with its darker green and purple).
 */
export const SCANPY_DEFAULT_20: readonly string[] = [
  '#1f77b4',
  '#ff7f0e',
  '#279e68',
  '#d62728',
  '#aa40fc',
  '#8c564b',
  '#e377c2',
  '#b5bd61',
  '#17becf',
  '#aec7e8',
  '#ffbb78',
  '#98df8a',
  '#ff9896',
  '#c5b0d5',
  '#c49c94',
  '#f7b6d2',
  '#dbdb8d',
  '#9edae5',
  '#ad494a',
  '#8c6d31',
];

function hslToHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (k: number) => {
    const t = (k + h / 30) % 12;
    const c = l - a * Math.max(-1, Math.min(t - 3, 9 - t, 1));
    return Math.round(255 * c)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

/**
 * `n` distinct colours (hex) for categorical data: scanpy's {@link SCANPY_DEFAULT_20} for up to 20
 * categories; beyond that evenly spaced hues with alternating lightness and saturation, so that
 * neighbouring categories stay distinguishable.
 */
export function categoricalPalette(n: number): string[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`categoricalPalette needs a non-negative integer, got ${n}.`);
  if (n <= SCANPY_DEFAULT_20.length) return SCANPY_DEFAULT_20.slice(0, n);
  return Array.from({ length: n }, (_, i) => hslToHex((i * 360) / n, i % 3 === 2 ? 0.45 : 0.7, i % 2 === 0 ? 0.45 : 0.65));
}
