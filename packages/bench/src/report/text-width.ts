/**
 * Width of a line of text in Helvetica/Arial, estimated from per-character advance widths (in em,
 * rounded up a little), for laying out SVG pictures without a font engine: legends and value labels
 * are sized and truncated so that they fit.
 */
const NARROW = new Set("ijl.,:;|!'");
const THIN = new Set('ftrI()[]{}/\\-" ');
const WIDE_LOWER = new Set('mw');
const WIDE_UPPER = new Set('MW@%');

/** Advance width of one character, in em. */
function charEm(ch: string): number {
  if (NARROW.has(ch)) return 0.25;
  if (THIN.has(ch)) return 0.34;
  if (WIDE_LOWER.has(ch)) return 0.84;
  if (WIDE_UPPER.has(ch)) return 0.95;
  if (ch >= '0' && ch <= '9') return 0.56;
  if (ch >= 'a' && ch <= 'z') return 0.56;
  if (ch >= 'A' && ch <= 'Z') return 0.72;
  const code = ch.codePointAt(0)!;
  // CJK and other wide scripts take a full em; anything else as a capital
  return code >= 0x1100 ? 1 : 0.72;
}

/** Estimated width in pixels of `text` at `fontSize` pixels. */
export function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) em += charEm(ch);
  return em * fontSize;
}

/** `text`, cut and ended with "…" where it is wider than `maxWidth` pixels at `fontSize`. */
export function fitText(text: string, fontSize: number, maxWidth: number): string {
  if (textWidth(text, fontSize) <= maxWidth) return text;
  const chars = [...text];
  let w = textWidth('…', fontSize);
  let n = 0;
  while (n < chars.length && w + charEm(chars[n]!) * fontSize <= maxWidth) w += charEm(chars[n++]!) * fontSize;
  return `${chars.slice(0, n).join('')}…`;
}
