import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { reportHtml, resultsTableSvg, type BenchmarkResults, type ReportInput } from '../src/index';
import { needsPython, PYTHON } from './helpers';

const metricTypes = { 'Isolated labels': 'Bio conservation', 'KMeans NMI': 'Bio conservation', BRAS: 'Batch correction', KBET: 'Batch correction' } as BenchmarkResults['metricTypes'];

function method(embedding: string, v: number, total: number, kbet: number | null = v) {
  return {
    embedding,
    metrics: { 'Isolated labels': v, 'KMeans NMI': v, BRAS: v, KBET: kbet },
    aggregates: { 'Batch correction': v, 'Bio conservation': v, Total: total },
    seconds: { KBET: 0.5 },
    nanReasons: kbet === null ? { KBET: [{ label: 'T <cells>', reason: 'label has 3 cells (kBET needs at least 10): skipped' }, { label: null, reason: 'every label was skipped' }] } : {},
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
  methods: [method('PCA', 0.4, 0.4, null), method('FinVAE', 0.9, 0.8), method('scVI-equivalent', 0.6, 0.6)],
} as unknown as BenchmarkResults;

const lobo = (acc: number) => ({
  classifier: 'linear' as const,
  perBatch: [
    { batch: 'b1', nTrain: 150, nTest: 150, accuracy: acc, macroF1: acc, unseenLabels: [] },
    { batch: 'b2', nTrain: 150, nTest: 150, accuracy: null, macroF1: null, unseenLabels: [], skipped: 'the other batches hold a single label' },
  ],
  mean: { accuracy: acc, macroF1: acc },
});

const input: ReportInput = {
  dataset: { file: 'sim <1>.h5ad', nCells: 300, nGenes: 40, batchKey: 'batch', labelKey: 'cell_type', batches: [{ name: 'b1', cells: 150 }, { name: 'b2', cells: 150 }], labels: [{ name: 'A', cells: 300 }] },
  results,
  resultsSvg: resultsTableSvg(results),
  umaps: ['FinVAE', 'PCA'].map((m) => ({
    method: m,
    byBatch: { svg: `umap_${m}_batch.svg`, png: `umap_${m}_batch.png`, width: 600, height: 520 },
    byLabel: { svg: `umap_${m}_label.svg`, png: `umap_${m}_label.png` },
    nPoints: 300,
    downsampled: m === 'PCA',
  })),
  identifiability: { truthKey: 'X_true_inv', rows: [{ method: 'FinVAE', mccPearson: 0.9, mccSpearman: 0.88, linearR2: 0.95 }] },
  invariantPrediction: { protocol: 'Predictor on the invariant latent, trained on the other batches.', methods: [{ method: 'FinVAE', result: lobo(0.9), note: 'held-out cells encoded without their labels' }] },
  timings: [{ step: 'FinVAE training', seconds: 12.34 }],
  environment: { '@invae/bench': '0.1.0', engine: 'wasm' },
  generatedAt: '2026-11-24T00:00:00Z',
};

/** Python's html.parser: ids, the results table's rows, figures, and every external reference. */
function parse(html: string) {
  const py = spawnSync(
    PYTHON,
    [
      '-c',
      `import sys, json
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.ids=[]; s.rows=[]; s.cells={}; s.refs=[]; s.figs=[]; s.tags=set(); s.table=None; s.cur=None; s.td=None
    def handle_starttag(s, tag, a):
        a = dict(a); s.tags.add(tag)
        if 'id' in a: s.ids.append(a['id'])
        if tag == 'table': s.table = a.get('id')
        if tag == 'tr' and s.table == 'results-table' and 'method-row' in a.get('class', ''): s.cur = a['data-method']; s.rows.append(s.cur); s.cells[s.cur] = []
        if tag == 'td' and s.cur: s.td = ''
        for k in ('src', 'href'):
            if k in a: s.refs.append(a[k])
        if tag == 'figure' and 'umap' in a.get('class', ''): s.figs.append([a['data-method'], a['data-color']])
    def handle_data(s, d):
        if s.td is not None: s.td += d
    def handle_endtag(s, tag):
        if tag == 'td' and s.td is not None and s.cur: s.cells[s.cur].append(s.td); s.td = None
        if tag == 'tr': s.cur = None
        if tag == 'table': s.table = None
p = P(); p.feed(sys.stdin.read())
print(json.dumps({"ids": p.ids, "rows": p.rows, "cells": p.cells, "refs": p.refs, "figs": p.figs, "tags": sorted(p.tags)}))`,
    ],
    { input: html, encoding: 'utf8' },
  );
  if (py.status !== 0) throw new Error(py.stderr);
  return JSON.parse(py.stdout) as { ids: string[]; rows: string[]; cells: Record<string, string[]>; refs: string[]; figs: string[][]; tags: string[] };
}

const htmlJudge = needsPython();

htmlJudge.describe('reportHtml', () => {
  const html = reportHtml(input);
  const p = htmlJudge.ok ? parse(html) : (undefined as never);

  it('has every section, with the results table sorted by Total and every metric and aggregate per method', () => {
    for (const id of ['summary', 'results', 'results-table', 'results-plot', 'umaps', 'identifiability', 'identifiability-table', 'invariant-prediction', 'lobo-table', 'nan-reasons', 'timings', 'timings-table', 'environment']) {
      expect(p.ids, id).toContain(id);
    }
    expect(p.rows).toEqual(['FinVAE', 'scVI-equivalent', 'PCA']);
    expect(p.cells.FinVAE).toEqual(['FinVAE', '0.900', '0.900', '0.900', '0.900', '0.900', '0.900', '0.800']);
    expect(p.cells.PCA![4]).toBe('–');
    expect(html).toContain('title="every label was skipped"');
  });

  it('is self-contained: no scripts, no stylesheets or fonts from elsewhere, pictures by relative path', () => {
    expect(p.tags).not.toContain('script');
    expect(p.tags).not.toContain('link');
    expect(p.refs.filter((r) => !r.startsWith('#'))).toEqual(['umap_FinVAE_batch.svg', 'umap_FinVAE_batch.png', 'umap_FinVAE_label.svg', 'umap_FinVAE_label.png', 'umap_PCA_batch.svg', 'umap_PCA_batch.png', 'umap_PCA_label.svg', 'umap_PCA_label.png']);
    expect(html).not.toMatch(/url\(|@import/);
    expect(p.figs).toEqual([['FinVAE', 'batch'], ['FinVAE', 'label'], ['PCA', 'batch'], ['PCA', 'label']]);
    expect(html).toContain('a random subset of 300 cells');
  });

  it('escapes names and lists the NaN reasons, skipped folds and notes', () => {
    expect(html).toContain('sim &lt;1&gt;.h5ad');
    expect(html).toContain('label <code>T &lt;cells&gt;</code>: label has 3 cells');
    expect(html).toContain('title="the other batches hold a single label"');
    expect(html).toContain('held-out cells encoded without their labels');
    expect(html).not.toContain('they cannot be predicted');
    const unseen = lobo(0.5);
    unseen.perBatch[0] = { ...unseen.perBatch[0]!, unseenLabels: ['novel'] } as (typeof unseen.perBatch)[0];
    const withUnseen = reportHtml({ ...input, invariantPrediction: { protocol: 'p', methods: [{ method: 'FinVAE', result: unseen }] } });
    expect(withUnseen).toContain('title="labels never seen in training: novel">0.500 / 0.500*</td>');
    expect(withUnseen).toContain('they cannot be predicted');
    const bare = reportHtml({ dataset: input.dataset, results: { ...results, methods: [method('FinVAE', 0.9, 0.8)] } as unknown as ReportInput['results'] });
    const q = parse(bare);
    expect(q.ids).not.toContain('umaps');
    expect(q.ids).not.toContain('identifiability');
    expect(bare).toContain('Every metric was computed for every label.');
  });
});
