import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { needsPython, PYTHON } from './helpers';
import { resultsTableSvg, type BenchmarkResults } from '../src/index';

const metricTypes = {
  'Isolated labels': 'Bio conservation',
  'KMeans NMI': 'Bio conservation',
  BRAS: 'Batch correction',
  iLISI: 'Batch correction',
} as BenchmarkResults['metricTypes'];

function method(embedding: string, v: number, total: number) {
  return {
    embedding,
    metrics: { 'Isolated labels': v, 'KMeans NMI': v, BRAS: v, iLISI: embedding === 'PCA' ? null : v },
    aggregates: { 'Bio conservation': v, 'Batch correction': v, Total: total },
    seconds: {},
  };
}

const results = {
  schema: 'invae.bench.results/1',
  scibMetrics: '0.6',
  scale: 'none',
  nCells: 300,
  nLabels: 3,
  nBatches: 2,
  metricTypes,
  methods: [method('PCA', 0.4, 0.4), method('FinVAE <&> "v2"', 0.9, 0.8), method('scVI', 0.6, 0.6)],
} as unknown as BenchmarkResults;

describe('resultsTableSvg', () => {
  const svg = resultsTableSvg(results, { title: 'CellBench' });

  needsPython().it('is well-formed XML (checked by Python xml.etree) with one row per method, best Total first', () => {
    const py = spawnSync(PYTHON, ['-c', 'import sys, xml.etree.ElementTree as E, json; r = E.fromstring(sys.stdin.read()); ns = "{http://www.w3.org/2000/svg}"; print(json.dumps([t.text for t in r.iter(ns + "text") if t.get("class") == "method"]))'], { input: svg, encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    expect(JSON.parse(py.stdout)).toEqual(['FinVAE <&> "v2"', 'scVI', 'PCA']);
  });

  it('draws a circle per computed metric, a bar per aggregate, and a dash where a metric is missing', () => {
    expect(svg.match(/class="metric"/g)).toHaveLength(3 * 4 - 1);
    expect(svg.match(/class="aggregate"/g)).toHaveLength(3 * 3);
    expect(svg).toContain('>–</text>');
    expect(svg.match(/class="column"/g)).toHaveLength(4 + 3);
    expect(svg).toContain('Bio conservation');
    expect(svg).toContain('Batch correction');
  });
});
