import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BenchInputError, categoricalPalette, PNG_SIGNATURE, pngSize, SCANPY_DEFAULT_20, scatterSvg, svgToPng } from '../src/index';
import { needsPython, PYTHON } from './helpers';

/** Parses the SVG with Python's xml.etree: point circles, legend entries (names) and the root size. */
function inspect(svg: string) {
  const py = spawnSync(
    PYTHON,
    [
      '-c',
      `import sys, json, xml.etree.ElementTree as E
ns = "{http://www.w3.org/2000/svg}"
r = E.fromstring(sys.stdin.read())
pts = [g for g in r.iter(ns + "g") if g.get("class") == "points"][0]
circles = list(pts.iter(ns + "circle"))
entries = [g for g in r.iter(ns + "g") if g.get("class") == "legend-entry"]
names = ["".join(t.itertext()).replace(t.find(ns + "title").text, "") for g in entries for t in g.iter(ns + "text")]
print(json.dumps({"points": len(circles), "fills": sorted(set(c.get("fill") for c in circles)), "legend": names,
  "swatches": [g.find(ns + "circle").get("fill") for g in entries], "width": r.get("width"), "height": r.get("height")}))`,
    ],
    { input: svg, encoding: 'utf8' },
  );
  if (py.status !== 0) throw new Error(py.stderr);
  return JSON.parse(py.stdout) as { points: number; fills: string[]; legend: string[]; swatches: string[]; width: string; height: string };
}

const coords = Float64Array.from({ length: 2 * 60 }, (_, i) => Math.sin(i * 1.7) * 10 + (i % 2 ? 0 : i / 10));
const cats = Array.from({ length: 60 }, (_, i) => ['b <&> "x"', 'a', 'c'][i % 3]!);

describe('scatterSvg', () => {
  const svg = scatterSvg(coords, cats, { title: 'FinVAE · cell_line', legendTitle: 'cell_line' });

  needsPython().it('draws one circle per point and one legend entry per category (sorted, scanpy colours), as well-formed XML', () => {
    const r = inspect(svg);
    expect(r.points).toBe(60);
    expect(r.legend).toEqual(['a', 'b <&> "x"', 'c']);
    expect(r.swatches).toEqual(SCANPY_DEFAULT_20.slice(0, 3));
    expect(r.fills).toEqual([...SCANPY_DEFAULT_20.slice(0, 3)].sort());
    expect(Number(r.width)).toBeGreaterThan(480);
  });

  it('is deterministic; the drawing order follows the seed, the data order on request', () => {
    expect(scatterSvg(coords, cats, { title: 'FinVAE · cell_line', legendTitle: 'cell_line' })).toBe(svg);
    expect(scatterSvg(coords, cats, { seed: 9 })).not.toBe(scatterSvg(coords, cats, { seed: 8 }));
    const data = scatterSvg(coords, cats, { order: 'data' });
    // In data order the first point drawn is point 0, of category 'b <&> "x"' (colour 2 of the sorted categories).
    expect(data.match(/<g class="points"[^>]*><circle [^>]*fill="([^"]+)"/)![1]).toBe(SCANPY_DEFAULT_20[1]);
  });

  needsPython().it('many categories get distinct colours; bad input is a typed error', () => {
    const many = categoricalPalette(35);
    expect(new Set(many).size).toBe(35);
    expect(many.every((c) => /^#[0-9a-f]{6}$/.test(c))).toBe(true);
    const r = inspect(scatterSvg(Float64Array.from({ length: 70 }, (_, i) => i), Array.from({ length: 35 }, (_, i) => `cat${i}`)));
    expect(r.points).toBe(35);
    expect(r.legend).toHaveLength(35);
    expect(() => scatterSvg(coords.subarray(0, 10), cats)).toThrow(BenchInputError);
    expect(() => scatterSvg(Float64Array.from(coords).fill(NaN, 4, 5), cats)).toThrow(/non-finite value at point 2/);
    expect(() => scatterSvg(coords, cats, { palette: ['#000'] })).toThrow(/1 colours for 3 categories/);
  });
});

describe('svgToPng', () => {
  needsPython('PIL').it('renders a PNG of the SVG size times the zoom; the judge (PIL) decodes it and finds the point colours', () => {
    const svg = scatterSvg(coords, cats, { legendTitle: 'label', pointRadius: 4 });
    const w = Number(svg.match(/width="(\d+)"/)![1]);
    const h = Number(svg.match(/height="(\d+)"/)![1]);
    const png = svgToPng(svg, { zoom: 2 });
    expect(Array.from(png.subarray(0, 8))).toEqual(Array.from(PNG_SIGNATURE));
    expect(pngSize(png)).toEqual({ width: 2 * w, height: 2 * h });
    expect(pngSize(svgToPng(svg, { zoom: 1 }))).toEqual({ width: w, height: h });
    const py = spawnSync(
      PYTHON,
      [
        '-c',
        `import sys, io, json
from PIL import Image
im = Image.open(io.BytesIO(sys.stdin.buffer.read())); im.load()
cols = set(im.convert("RGB").getdata())
want = [tuple(int(c[i:i+2], 16) for i in (1, 3, 5)) for c in json.loads(sys.argv[1])]
print(json.dumps({"format": im.format, "size": im.size, "found": [w in cols for w in want]}))`,
        JSON.stringify(SCANPY_DEFAULT_20.slice(0, 3)),
      ],
      { input: Buffer.from(png) },
    );
    expect(py.status, String(py.stderr)).toBe(0);
    expect(JSON.parse(String(py.stdout))).toEqual({ format: 'PNG', size: [2 * w, 2 * h], found: [true, true, true] });
  });

  it('rejects what is not an SVG or a PNG', () => {
    expect(() => svgToPng('hello')).toThrow(BenchInputError);
    expect(() => svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>', { zoom: 0 })).toThrow(/zoom/);
    expect(() => pngSize(new Uint8Array(30))).toThrow(/Not a PNG/);
  });
});
