/**
 * Text colour by background: WCAG relative luminance and contrast ratio, and the darker or lighter
 * text colour that reads better on a given fill (used for values drawn on coloured glyphs).
 */

/** An sRGB colour as 0–255 channels. */
export type Rgb = readonly [number, number, number];

/** Dark text (black) and light text (white). */
export const DARK_TEXT = '#000000';
export const LIGHT_TEXT = '#ffffff';
const DARK_RGB: Rgb = [0, 0, 0];
const LIGHT_RGB: Rgb = [255, 255, 255];

/** WCAG 2 relative luminance of an sRGB colour (0 black … 1 white). */
export function relativeLuminance([r, g, b]: Rgb): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG 2 contrast ratio of two colours (1 … 21). */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const [la, lb] = [relativeLuminance(a), relativeLuminance(b)];
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** The text colour ({@link DARK_TEXT} or {@link LIGHT_TEXT}) with the higher contrast on `background`. */
export function readableTextColour(background: Rgb): string {
  return contrastRatio(background, DARK_RGB) >= contrastRatio(background, LIGHT_RGB) ? DARK_TEXT : LIGHT_TEXT;
}
