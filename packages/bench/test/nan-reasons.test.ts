import { beforeAll, describe, expect, it } from 'vitest';
import { Benchmarker, BenchInputError, labelBatchLayout, layoutNanReasons, pca, type Embedding } from '../src/index';
import { blobs, engine } from './helpers';

beforeAll(engine);

describe('layoutNanReasons', () => {
  it('names the labels kBET and the batch silhouettes skip, and the metrics a single batch or label makes undefined', () => {
    const labels = ['a', 'a', 'b', 'b', 'b', 'c', ...Array(12).fill('d')];
    const batches = ['x', 'y', 'x', 'x', 'x', 'y', ...Array(6).fill('x'), ...Array(6).fill('y')];
    const layout = labelBatchLayout(labels, batches);
    expect(layout.labels).toEqual(['a', 'b', 'c', 'd']);
    expect(Array.from(layout.cellsPerLabel)).toEqual([2, 3, 1, 12]);
    expect(Array.from(layout.batchesPerLabel)).toEqual([2, 1, 1, 2]);
    const r = layoutNanReasons(layout);
    // kBET: a, b, c have < 10 cells; d is scored.
    expect(r.KBET!.map((x) => x.label)).toEqual(['a', 'b', 'c']);
    expect(r.KBET![2]!.reason).toMatch(/1 cell \(kBET needs at least 10\)/);
    // BRAS: a has as many batches as cells (2), b and c sit in one batch; d is scored, so no whole-metric NaN.
    expect(r.BRAS!.map((x) => x.label)).toEqual(['a', 'b', 'c']);
    expect(r.BRAS![1]!.reason).toMatch(/one batch only/);
    expect(r.iLISI).toBeUndefined();
    const one = layoutNanReasons(labelBatchLayout(['a', 'b', 'a'], ['x', 'x', 'x']));
    expect(one.iLISI).toEqual([{ label: null, reason: expect.stringMatching(/single batch/) }]);
    expect(one['PCR comparison']![0]!.label).toBeNull();
    expect(one.KBET!.at(-1)).toEqual({ label: null, reason: expect.stringMatching(/every label was skipped/) });
    const single = layoutNanReasons(labelBatchLayout(['a', 'a'], ['x', 'y']));
    expect(Object.keys(single).sort()).toEqual(['BRAS', 'Isolated labels', 'KBET', 'KMeans ARI', 'KMeans NMI', 'Silhouette batch', 'Silhouette label', 'cLISI'].sort());
  });
});

describe('Benchmarker NaN handling', () => {
  it('records why a metric is NaN or a label skipped, and still scores the rest', () => {
    const { x, labels, batches } = blobs(5, 240, 5, 3, 2, { sep: 6 });
    // One label with a single cell and one label present in a single batch.
    labels[0] = 'lonely';
    for (let i = 1; i < 240; i++) if (labels[i] === 'type2') batches[i] = 'batch0';
    const bm = new Benchmarker({ embeddings: { e: x }, labels, batches, unintegrated: pca(x, 4).coordinates });
    bm.benchmark();
    const m = bm.getResults().methods[0]!;
    for (const v of Object.values(m.metrics)) expect(v === null || Number.isFinite(v)).toBe(true);
    expect(m.metrics.KBET).not.toBeNull();
    expect(m.nanReasons.KBET).toEqual([
      { label: 'lonely', reason: expect.stringMatching(/1 cell/) },
      { label: 'type2', reason: expect.stringMatching(/one batch only/) },
    ]);
    expect(m.nanReasons.BRAS!.map((r) => r.label)).toEqual(['lonely', 'type2']);
    expect(m.nanReasons.cLISI).toBeUndefined();
  });

  it('a single batch: iLISI, PCR comparison, BRAS and KBET are NaN (null) with a reason, the bio metrics are scored', () => {
    const { x, labels } = blobs(6, 200, 4, 2, 1, { sep: 6 });
    const batches = labels.map(() => 'only');
    const bm = new Benchmarker({ embeddings: { e: x }, labels, batches, unintegrated: pca(x, 3).coordinates });
    bm.benchmark();
    const r = bm.getResults().methods[0]!;
    for (const k of ['iLISI', 'PCR comparison', 'BRAS', 'KBET'] as const) {
      expect(r.metrics[k]).toBeNull();
      expect(r.nanReasons[k]!.some((x) => x.label === null)).toBe(true);
    }
    expect(r.metrics['KMeans NMI']).toBeGreaterThan(0.9);
    expect(r.aggregates['Batch correction']).toBeGreaterThan(0); // graph connectivity is still scored
  });

  it('a constant embedding does not crash the run: its undefined metrics are NaN with a reason', () => {
    const { x, labels, batches } = blobs(7, 150, 3, 3, 2);
    const flat: Embedding = { data: new Float64Array(150 * 3).fill(1), nRows: 150, nCols: 3 };
    const events: { metric: string; error?: string }[] = [];
    const bm = new Benchmarker({ embeddings: { good: x, flat }, labels, batches, unintegrated: pca(x, 3).coordinates, onProgress: (e) => events.push(e) });
    bm.benchmark();
    const res = bm.getResults();
    const flatRow = res.methods.find((m) => m.embedding === 'flat')!;
    expect(res.methods.find((m) => m.embedding === 'good')!.aggregates.Total).not.toBeNull();
    for (const [k, v] of Object.entries(flatRow.metrics)) {
      if (v === null) expect(flatRow.nanReasons[k as keyof typeof flatRow.nanReasons]!.some((r) => r.label === null), k).toBe(true);
    }
    // Its batch variance share is 0/0.
    expect(flatRow.metrics['PCR comparison']).toBeNull();
    expect(flatRow.nanReasons['PCR comparison']).toEqual([{ label: null, reason: expect.stringMatching(/undefined for this embedding/) }]);
    expect(events.filter((e) => e.error)).toEqual([]);
  });

  it('bad input is a typed error before any metric runs', () => {
    const { x, labels, batches } = blobs(8, 120, 3, 2, 2);
    const nan = Float64Array.from(x.data);
    nan[7] = NaN;
    expect(() => new Benchmarker({ embeddings: { e: { ...x, data: nan } }, labels, batches, metrics: { pcrComparison: false } })).toThrow(/non-finite value \(NaN\) at row 2/);
    expect(() => new Benchmarker({ embeddings: { e: x, short: { data: x.data.subarray(0, 30), nRows: 10, nCols: 3 } }, labels, batches, metrics: { pcrComparison: false } })).toThrow(
      /embeddings.short has 10 rows but 120 cells were expected/,
    );
    const missing = [...labels];
    missing[3] = '';
    expect(() => new Benchmarker({ embeddings: { e: x }, labels: missing, batches, metrics: { pcrComparison: false } })).toThrow(BenchInputError);
  });
});
