import { beforeAll, describe, expect, it } from 'vitest';
import { Benchmarker, bras, neighborsAndSilhouette, reportHtml, silhouetteLabel, silhouetteSamples, stratifiedMean, stratifiedSample, type ReportInput } from '../src/index';
import { blobs, engine } from './helpers';

beforeAll(engine);

const ONLY_SILHOUETTES = { isolatedLabels: true, nmiAriKmeans: false, silhouetteLabel: true, clisi: false, silhouetteBatch: true, bras: true, ilisi: false, kbet: false, graphConnectivity: false, pcrComparison: false };

describe('subsampled silhouettes (atlas scale)', () => {
  it('a sample of every cell gives the exact silhouettes, mean and SE 0', () => {
    const { x, labels } = blobs(21, 600, 6, 3, 2, { sep: 1.2 });
    const codes = Int32Array.from(labels, (l) => Number(l.slice(4)));
    const all = stratifiedSample(codes, 3, 600, 0);
    expect(Array.from(all)).toEqual(Array.from({ length: 600 }, (_, i) => i));
    const exact = silhouetteSamples(x, labels);
    const est = stratifiedMean(exact, codes, 3);
    expect(est.se).toBe(0);
    expect(est.mean).toBeCloseTo(exact.reduce((a, b) => a + b, 0) / 600, 12);
    // Subsampling on (threshold 0) but a sample as large as the data: exact.
    const r = neighborsAndSilhouette(x, 10, codes, 3, { sampling: { maxExactCells: 0, sampleSize: 600 } });
    expect(r.sampling).toEqual({ mode: 'exact' });
    for (let i = 0; i < 600; i++) expect(r.silhouette[i]).toBeCloseTo(exact[i]!, 5);
  });

  it('a stratified sample gives each sampled cell its exact silhouette and a mean within a few SE, reproducibly', () => {
    const { x, labels } = blobs(22, 2400, 6, 4, 2, { sep: 1.0 });
    const codes = Int32Array.from(labels, (l) => Number(l.slice(4)));
    const exact = silhouetteSamples(x, labels);
    const exactMean = exact.reduce((a, b) => a + b, 0) / exact.length;
    const r = neighborsAndSilhouette(x, 10, codes, 4, { sampling: { maxExactCells: 1000, sampleSize: 400, seed: 7 } });
    expect(r.sampling.mode).toBe('subsampled');
    if (r.sampling.mode !== 'subsampled') return;
    expect(r.sampling.cells).toBe(400);
    expect(r.sampling.seed).toBe(7);
    let sampled = 0;
    for (let i = 0; i < exact.length; i++) {
      if (Number.isNaN(r.silhouette[i]!)) continue;
      sampled++;
      expect(r.silhouette[i]).toBeCloseTo(exact[i]!, 5);
    }
    expect(sampled).toBe(400);
    const est = stratifiedMean(r.silhouette, codes, 4);
    expect(est.se).toBeGreaterThan(0);
    expect(est.se).toBeCloseTo(r.sampling.se, 12);
    expect(Math.abs(est.mean - exactMean)).toBeLessThan(4 * est.se);
    // silhouetteLabel on the sampled values is the stratified estimate, rescaled.
    expect(silhouetteLabel(x, labels, { samples: r.silhouette })).toBeCloseTo((est.mean + 1) / 2, 12);
    // Same seed, same sample; another seed, another sample.
    const again = neighborsAndSilhouette(x, 10, codes, 4, { sampling: { maxExactCells: 1000, sampleSize: 400, seed: 7 } });
    expect(Array.from(again.silhouette, Number.isNaN)).toEqual(Array.from(r.silhouette, Number.isNaN));
    const other = neighborsAndSilhouette(x, 10, codes, 4, { sampling: { maxExactCells: 1000, sampleSize: 400, seed: 8 } });
    expect(Array.from(other.silhouette, Number.isNaN)).not.toEqual(Array.from(r.silhouette, Number.isNaN));
  });

  it('the Benchmarker states exact or subsampled (n, seed, SE) per silhouette metric, and the estimates are close to exact', () => {
    const { x, labels, batches } = blobs(23, 2000, 5, 4, 3, { sep: 1.5, batchShift: 0.5 });
    const exact = new Benchmarker({ embeddings: { e: x }, labels, batches, metrics: ONLY_SILHOUETTES });
    exact.benchmark();
    const ex = exact.getResults().methods[0]!;
    expect(ex.sampling).toEqual({ 'Silhouette label': 'exact', 'Isolated labels': 'exact', 'Silhouette batch': 'exact', BRAS: 'exact' });
    const sub = new Benchmarker({ embeddings: { e: x }, labels, batches, metrics: ONLY_SILHOUETTES, silhouetteSampling: { maxExactCells: 1000, sampleSize: 600, seed: 3 } });
    sub.benchmark();
    const s = sub.getResults().methods[0]!;
    for (const m of ['Silhouette label', 'Silhouette batch', 'BRAS'] as const) {
      const note = s.sampling![m]!;
      expect(note).toMatch(/^subsampled \(n=\d+ cells stratified by label, seed 3, SE [0-9.e-]+\)$/);
      const se = Number(/SE ([0-9.e-]+)\)/.exec(note)![1]);
      expect(se).toBeGreaterThan(0);
      expect(Math.abs(s.metrics[m]! - ex.metrics[m]!)).toBeLessThan(5 * se + 1e-9);
    }
    expect(s.sampling!['Isolated labels']).toMatch(/^subsampled/);
    // BRAS without sampling options is the exact engine computation.
    expect(bras(x, labels, batches)).toBeCloseTo(ex.metrics.BRAS!, 12);
  });
});

describe('reportHtml states the silhouette sampling', () => {
  it('lists exact or subsampled per method and metric under the results table, and nothing without a record', () => {
    const results = (sampling?: Record<string, string>) =>
      ({
        schema: 'invae.bench.results/1',
        scibMetrics: '0.6',
        scale: 'none',
        nCells: 10,
        nLabels: 2,
        nBatches: 2,
        metricTypes: { BRAS: 'batch_correction' },
        methods: [{ embedding: 'PCA', metrics: { BRAS: 0.5 }, aggregates: { 'Batch correction': 0.5, 'Bio conservation': null, Total: null }, seconds: {}, nanReasons: {}, ...(sampling ? { sampling } : {}) }],
      }) as unknown as ReportInput['results'];
    const dataset = { file: 'd.h5ad', nCells: 10, nGenes: 5, batchKey: 'batch', labelKey: 'cell_type', batches: [], labels: [] };
    const html = reportHtml({ dataset, results: results({ BRAS: 'subsampled (n=20000 cells stratified by label, seed 0, SE 0.0011)' }) });
    expect(html).toContain('<li data-method="PCA" data-metric="BRAS"><b>PCA</b> · BRAS: subsampled (n=20000 cells stratified by label, seed 0, SE 0.0011)</li>');
    expect(reportHtml({ dataset, results: results({ BRAS: 'exact' }) })).toContain('· BRAS: exact</li>');
    expect(reportHtml({ dataset, results: results() })).not.toContain('id="silhouette-sampling"');
  });
});
