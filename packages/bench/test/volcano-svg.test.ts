import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BenchInputError, PNG_SIGNATURE, pngSize, svgToPng, volcanoSvg, type VolcanoGene } from '../src/index';
import { needsPython, PYTHON } from './helpers';

const genes: VolcanoGene[] = Array.from({ length: 40 }, (_, i) => ({
  gene: i === 3 ? 'g<&>"3"' : `gene_${i}`,
  lfcMean: Math.sin(i) * 3,
  bayesFactor: i < 6 ? 18 - i : -2 + (i % 5),
  isDe: i < 6,
}));

describe('volcanoSvg', () => {
  needsPython().it('draws every gene, the called ones in red and named, the ±δ lines, as well-formed SVG that renders to PNG', () => {
    const svg = volcanoSvg(genes, { title: 'disease: d1 vs d0', delta: 0.25, labelTop: 4 });
    const py = spawnSync(
      PYTHON,
      [
        '-c',
        `import sys, json, xml.etree.ElementTree as E
ns = "{http://www.w3.org/2000/svg}"
r = E.fromstring(sys.stdin.read())
c = list(r.iter(ns + "circle"))
print(json.dumps({"de": sum(1 for x in c if x.get("class") == "de"), "other": sum(1 for x in c if x.get("class") == "not-de"),
  "fills": sorted(set(x.get("fill") for x in c if x.get("class") == "de")), "labels": [t.text for t in r.iter(ns + "text") if t.get("class") == "gene-label"],
  "delta": sum(1 for l in r.iter(ns + "line") if l.get("class") == "delta")}))`,
      ],
      { input: svg, encoding: 'utf8' },
    );
    expect(py.status, py.stderr).toBe(0);
    const parsed = JSON.parse(py.stdout) as { de: number; other: number; fills: string[]; labels: string[]; delta: number };
    expect(parsed.de).toBe(6);
    expect(parsed.other).toBe(34);
    expect(parsed.fills).toEqual(['#d62728']);
    // the 4 called genes with the highest Bayes factors, names escaped in the SVG and read back intact
    expect(parsed.labels).toEqual(['gene_0', 'gene_1', 'gene_2', 'g<&>"3"']);
    expect(parsed.delta).toBe(2);
    const png = svgToPng(svg);
    expect(Array.from(png.subarray(0, 8))).toEqual(Array.from(PNG_SIGNATURE));
    expect(pngSize(png).width).toBeGreaterThan(400);
  });

  it('rejects no genes and non-finite values', () => {
    expect(() => volcanoSvg([])).toThrow(BenchInputError);
    expect(() => volcanoSvg([{ gene: 'a', lfcMean: Number.NaN, bayesFactor: 1, isDe: false }])).toThrow(/gene 0 \(a\) has a non-finite/);
  });
});
