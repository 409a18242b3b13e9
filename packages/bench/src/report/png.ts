import { Resvg } from '@resvg/resvg-js';
import { BenchInputError } from '../errors';

/** Options of {@link svgToPng}. */
export interface SvgToPngOptions {
  /** Scale factor of the SVG's own size (default 2, for sharp pictures on high-density screens). */
  readonly zoom?: number;
  /** Background colour (CSS; default: the SVG's own, transparent where it paints nothing). */
  readonly background?: string;
  /** Font family used for `sans-serif` and unknown families (default `DejaVu Sans`). */
  readonly sansSerifFamily?: string;
}

/** The eight signature bytes every PNG file starts with. */
export const PNG_SIGNATURE: Readonly<Uint8Array> = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Renders an SVG document to PNG bytes with resvg (Rust, via @resvg/resvg-js), using the system
 * fonts; the picture is the SVG's width × height times `zoom`. Text in a font family the system
 * lacks falls back to `sansSerifFamily`; without any font, text is left out but shapes still render.
 */
export function svgToPng(svg: string, options: SvgToPngOptions = {}): Uint8Array {
  if (typeof svg !== 'string' || !/<svg[\s>]/.test(svg)) throw new BenchInputError('svg', 'svgToPng needs an SVG document (a string with an <svg> element).');
  const zoom = options.zoom ?? 2;
  if (!(zoom > 0 && zoom <= 16)) throw new BenchInputError('zoom', `zoom must be in (0, 16], got ${zoom}.`);
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: zoom },
    background: options.background,
    font: { loadSystemFonts: true, sansSerifFamily: options.sansSerifFamily ?? 'DejaVu Sans', defaultFontFamily: options.sansSerifFamily ?? 'DejaVu Sans' },
    logLevel: 'off',
  });
  return new Uint8Array(resvg.render().asPng());
}

/**
 * Width and height of a PNG image read from its header (IHDR chunk); throws {@link BenchInputError}
 * when `png` does not start with the PNG signature and an IHDR chunk.
 */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const ok = png.length >= 24 && PNG_SIGNATURE.every((b, i) => png[i] === b) && String.fromCharCode(...png.subarray(12, 16)) === 'IHDR';
  if (!ok) throw new BenchInputError('png', 'Not a PNG image (no signature and IHDR header).');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
