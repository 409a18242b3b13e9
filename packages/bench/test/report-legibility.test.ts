import { describe, expect, it } from 'vitest';
import { contrastRatio, readableTextColour, relativeLuminance, type Rgb } from '../src/report/contrast';
import { legendLayout, MAX_LEGEND_COLUMNS } from '../src/report/scatter-svg';
import { viridisRgb } from '../src/report/results-table-svg';
import { fitText, textWidth } from '../src/report/text-width';
import { reportHtml, resultsTableSvg, scatterSvg, type BenchmarkResults } from '../src/index';

const hex = (c: string): Rgb => (c === '#ffffff' ? [255, 255, 255] : [0, 0, 0]);

describe('text colour by background luminance', () => {
  it('uses the WCAG luminance and contrast ratio', () => {
    expect(relativeLuminance([0, 0, 0])).toBe(0);
    expect(relativeLuminance([255, 255, 255])).toBeCloseTo(1, 10);
    expect(contrastRatio([0, 0, 0], [255, 255, 255])).toBeCloseTo(21, 6);
    expect(readableTextColour([255, 255, 255])).toBe('#000000');
    expect(readableTextColour([68, 1, 84])).toBe('#ffffff');
    expect(readableTextColour([253, 231, 37])).toBe('#000000');
  });

  it('every colour of the results ramp gets text of contrast ≥ 4.5 (WCAG AA)', () => {
    for (let i = 0; i <= 100; i++) {
      const bg = viridisRgb(i / 100);
      expect(contrastRatio(bg, hex(readableTextColour(bg))), `value ${i / 100}`).toBeGreaterThanOrEqual(4.5);
    }
  });
});

function results(values: Record<string, number>): BenchmarkResults {
  const metricTypes = { 'Isolated labels': 'Bio conservation', 'KMeans NMI': 'Bio conservation', iLISI: 'Batch correction', KBET: 'Batch correction' } as BenchmarkResults['metricTypes'];
  const methods = Object.entries(values).map(([embedding, v]) => ({
    embedding,
    metrics: { 'Isolated labels': v, 'KMeans NMI': v, iLISI: v, KBET: v },
    aggregates: { 'Batch correction': v, 'Bio conservation': v, Total: v },
    seconds: {},
  }));
  return { scibMetrics: '0.6', scale: 'none', nCells: 100, nLabels: 3, nBatches: 2, metricTypes, methods } as unknown as BenchmarkResults;
}

/** The value labels of the SVG row of `method`: text, fill and whether it has a halo. */
function valueTexts(svg: string, value: string): { fill: string; halo: boolean }[] {
  return [...svg.matchAll(/<text [^>]*class="value"([^>]*)>([^<]+)<\/text>/g)].filter((m) => m[2] === value).map((m) => ({ fill: /fill="([^"]+)"/.exec(m[1]!)![1]!, halo: /stroke="white"/.test(m[1]!) }));
}

describe('results SVG: low scores stay legible', () => {
  const svg = resultsTableSvg(results({ low: 0.03, mid: 0.3, high: 0.9 }));

  it('a low score on a small circle or a short bar is dark text with a white halo (not white on the light row)', () => {
    const low = valueTexts(svg, '0.03');
    expect(low).toHaveLength(4 + 3); // 4 metric circles and 3 aggregate bars
    for (const t of low) expect(t.fill).toBe('#000000');
    // the circles are smaller than the text: halo
    expect(low.filter((t) => t.halo).length).toBeGreaterThanOrEqual(4);
    expect(svg).not.toMatch(/fill="white">0\.03</);
  });

  it('a text held by its glyph takes the colour of higher contrast on it', () => {
    for (const t of valueTexts(svg, '0.90')) expect(t.fill).toBe('#000000');
    // a high aggregate bar covers its text: no halo, colour by the bar's luminance
    const bars = [...svg.matchAll(/<rect [^>]*fill="rgb\((\d+),(\d+),(\d+)\)" class="aggregate">[\s\S]*?<\/rect>\n<text [^>]*class="value" fill="([^"]+)">0\.90</g)];
    expect(bars).toHaveLength(3);
    for (const b of bars) expect(b[4]).toBe(readableTextColour([Number(b[1]), Number(b[2]), Number(b[3])]));
  });
});

describe('UMAP legends fit', () => {
  const coords = (n: number) => Float64Array.from({ length: 2 * n }, (_, i) => Math.sin(i * 1.7) * 10);
  const svgWidth = (svg: string) => Number(/<svg [^>]*width="(\d+)"/.exec(svg)![1]);
  /** Right edge of every legend text (x + estimated width) in the SVG. */
  const legendRight = (svg: string) =>
    [...svg.matchAll(/<g class="legend-(?:entry|more)">[\s\S]*?<text x="([\d.]+)" y="[\d.]+"(?: font-size="(\d+)")?>(?:<title>[^<]*<\/title>)?([^<]+)<\/text>/g)].map((m) =>
      Number(m[1]) + textWidth(m[3]!.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'"), Number(m[2] ?? 12)),
    );

  it('shortens long category names to their column, keeping the full name in the tooltip, and the picture holds them', () => {
    const long = ['Hematopoietic stem cell, long-term repopulating (bone marrow, adult mouse), sorted Lin- Sca-1+ c-Kit+ CD150+ CD48- & cultured', 'Megakaryocyte–erythroid progenitor', 'MEP'];
    const cats = Array.from({ length: 90 }, (_, i) => long[i % 3]!);
    const svg = scatterSvg(coords(90), cats, { legendTitle: 'cell_type', title: 'FinVAE · cell_type' });
    const w = svgWidth(svg);
    expect(w).toBeLessThanOrEqual(28 + 480 + 20 + 480 + 10);
    for (const right of legendRight(svg)) expect(right).toBeLessThanOrEqual(w);
    expect(svg).toContain(`<title>${long[0]!.replace(/&/g, '&amp;')}: 30 cells</title>`);
    expect(svg).toMatch(/>Hematopoietic stem cell[^<]*…<\/text>/);
    expect(svg).toContain('>MEP</text>');
  });

  it('many categories: smaller rows, at most 3 columns, the rest as "… N more"; the legend never outgrows the plot', () => {
    const layout = legendLayout(Array.from({ length: 200 }, (_, i) => `cluster ${i}`), 458, 480);
    expect(layout.fontSize).toBe(10);
    expect(layout.nColumns).toBe(MAX_LEGEND_COLUMNS);
    expect(layout.entries).toHaveLength(layout.perColumn * MAX_LEGEND_COLUMNS);
    expect(layout.entries.at(-1)).toEqual({ index: null, text: `… ${200 - layout.entries.length + 1} more` });
    expect(layout.width).toBeLessThanOrEqual(480);
    const svg = scatterSvg(coords(200), Array.from({ length: 200 }, (_, i) => `cluster ${String(i).padStart(3, '0')}`), { legendTitle: 'leiden' });
    const w = svgWidth(svg);
    expect(w).toBeLessThanOrEqual(28 + 480 + 20 + 480 + 10);
    for (const right of legendRight(svg)) expect(right).toBeLessThanOrEqual(w);
    expect(svg).toContain('class="legend-more"');
  });

  it('a few short names keep the roomy legend of one column', () => {
    const layout = legendLayout(['a', 'b', 'c'], 458, 480);
    expect(layout).toMatchObject({ fontSize: 12, rowHeight: 18, nColumns: 1, perColumn: 25 });
    expect(layout.entries.map((e) => e.text)).toEqual(['a', 'b', 'c']);
  });

  it('fitText cuts with an ellipsis within the width', () => {
    expect(fitText('short', 12, 200)).toBe('short');
    const cut = fitText('x'.repeat(200), 12, 100);
    expect(cut.endsWith('…')).toBe(true);
    expect(textWidth(cut, 12)).toBeLessThanOrEqual(100);
  });
});

describe('report.html results table', () => {
  it('lets the results table headers wrap (so the Total column fits a 1280 px page without scrolling)', () => {
    const html = reportHtml({ dataset: { file: 'x.h5ad', nCells: 100, nGenes: 10, batchKey: 'b', labelKey: 'l', batches: [], labels: [] }, results: results({ a: 0.5 }) });
    expect(html).toContain('#results-table th{white-space:normal');
    expect(html).toMatch(/<th class="aggregate">Total<\/th>/);
  });
});
