import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  aggregateScores,
  BenchInputError,
  Benchmarker,
  bras,
  clisiKnn,
  exactNeighbors,
  graphConnectivity,
  ilisiKnn,
  isolatedLabels,
  kbetPerLabel,
  METRIC_TYPES,
  minMaxScale,
  nmiAriClusterLabelsKmeans,
  pca,
  pcrComparison,
  silhouetteLabel,
  subsetNeighbors,
  writeResultsJson,
} from '../src/index';
import { blobs, engine, judge, judged } from './helpers';
import { scratchDirs } from '../../../test-support/index';

const scratch = scratchDirs('invae-bench');

beforeAll(engine);

describe('aggregates', () => {
  it('are unweighted family means (NaN skipped) and Total = 0.4 batch + 0.6 bio', () => {
    const a = aggregateScores({ 'Isolated labels': 0.5, 'KMeans NMI': 0.7, cLISI: NaN, BRAS: 0.9, iLISI: 0.1 }, METRIC_TYPES);
    expect(a['Bio conservation']).toBeCloseTo(0.6, 12);
    expect(a['Batch correction']).toBeCloseTo(0.5, 12);
    expect(a.Total).toBeCloseTo(0.4 * 0.5 + 0.6 * 0.6, 12);
  });

  judged.it('min-max scaling matches sklearn MinMaxScaler per metric (constant → 0, NaN kept)', () => {
    const table = { a: { BRAS: 0.2, iLISI: 0.5, cLISI: NaN }, b: { BRAS: 0.6, iLISI: 0.5, cLISI: 0.3 }, c: { BRAS: 0.4, iLISI: 0.5, cLISI: 0.9 } };
    const s = minMaxScale(table);
    const ref = judge<(number | null)[][]>(
      `from sklearn.preprocessing import MinMaxScaler\nX = np.array(inp, dtype=float)\nY = MinMaxScaler().fit_transform(X)\nout = [[None if np.isnan(v) else float(v) for v in r] for r in Y]`,
      [[0.2, 0.5, NaN], [0.6, 0.5, 0.3], [0.4, 0.5, 0.9]].map((r) => r.map((v) => (Number.isNaN(v) ? null : v))),
    );
    (['a', 'b', 'c'] as const).forEach((e, i) => {
      expect(s[e]!.BRAS).toBeCloseTo(ref[i]![0]!, 12);
      expect(s[e]!.iLISI).toBeCloseTo(ref[i]![1]!, 12);
      if (ref[i]![2] === null) expect(s[e]!.cLISI).toBeNaN();
      else expect(s[e]!.cLISI).toBeCloseTo(ref[i]![2]!, 12);
    });
    expect(table.a.BRAS).toBe(0.2);
  });
});

describe('Benchmarker', () => {
  const good = blobs(81, 360, 6, 3, 2, { sep: 5, batchShift: 0.3 });
  const bad = blobs(81, 360, 6, 3, 2, { sep: 5, batchShift: 5 });
  const pre = pca(bad.x, 5).coordinates;

  it('runs every metric once per embedding and equals the pure functions', () => {
    const events: string[] = [];
    const bm = new Benchmarker({
      embeddings: { integrated: good.x, unintegrated: bad.x },
      labels: good.labels,
      batches: good.batches,
      unintegrated: pre,
      onProgress: (e) => events.push(`${e.embedding}:${e.metric}`),
    });
    bm.benchmark();
    const res = bm.getResults();
    expect(res.schema).toBe('invae.bench.results/1');
    expect(res.methods.map((m) => m.embedding)).toEqual(['integrated', 'unintegrated']);
    expect(Object.keys(res.methods[0]!.metrics)).toEqual([
      'Isolated labels', 'KMeans NMI', 'KMeans ARI', 'Silhouette label', 'cLISI', 'BRAS', 'iLISI', 'KBET', 'Graph connectivity', 'PCR comparison',
    ]);
    expect(events.filter((e) => e.endsWith(':neighbors + label silhouettes'))).toHaveLength(2);
    const m = res.methods[0]!.metrics;
    const x = good.x;
    const { labels, batches } = good;
    const nn = exactNeighbors(x, 90);
    // The Benchmarker's label silhouettes come from the WebAssembly cluster-sums kernel (float32 sums in
    // runs of ≤ 512 cells, then float64), the pure functions' from the engine scan: float32 agreement.
    expect(m['Isolated labels']).toBeCloseTo(isolatedLabels(x, labels, batches), 6);
    const k = nmiAriClusterLabelsKmeans(x, labels);
    expect(m['KMeans NMI']).toBe(k.nmi);
    expect(m['KMeans ARI']).toBe(k.ari);
    expect(m['Silhouette label']).toBeCloseTo(silhouetteLabel(x, labels), 6);
    expect(m.cLISI).toBeCloseTo(clisiKnn(nn, labels), 12);
    expect(m.BRAS).toBeCloseTo(bras(x, labels, batches), 12);
    expect(m.iLISI).toBeCloseTo(ilisiKnn(nn, batches), 12);
    expect(m.KBET).toBeCloseTo(kbetPerLabel(subsetNeighbors(nn, 50), batches, labels).score, 12);
    expect(m['Graph connectivity']).toBeCloseTo(graphConnectivity(subsetNeighbors(nn, 15), labels), 12);
    expect(m['PCR comparison']).toBeCloseTo(pcrComparison(pre, x, batches), 12);
    const agg = aggregateScores(m as Record<string, number>, METRIC_TYPES);
    expect(res.methods[0]!.aggregates.Total).toBeCloseTo(agg.Total, 12);
    // The mixed embedding scores better on batch correction than the batch-split one.
    expect(res.methods[0]!.aggregates['Batch correction']!).toBeGreaterThan(res.methods[1]!.aggregates['Batch correction']!);
    const scaled = bm.getResults({ scale: 'minmax' });
    expect(scaled.scale).toBe('minmax');
    for (const name of Object.keys(m)) {
      const vals = scaled.methods.map((r) => r.metrics[name as keyof typeof m]);
      if (vals.every((v) => v !== null)) expect(Math.min(...(vals as number[]))).toBe(0);
    }
  }, 60_000);

  it('writes results.json atomically and serialises NaN as null', async () => {
    const bm = new Benchmarker({
      embeddings: { z: good.x },
      labels: good.labels,
      batches: good.batches.map(() => 'one'),
      metrics: { pcrComparison: false, kbet: false, isolatedLabels: false, nmiAriKmeans: false, silhouetteLabel: false, clisi: false, graphConnectivity: false, silhouetteBatch: true },
    });
    bm.benchmark();
    const dir = scratch.make();
    const file = path.join(dir, 'results.json');
    await writeResultsJson(file, bm.getResults());
    expect(readdirSync(dir)).toEqual(['results.json']);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json.methods[0].metrics.iLISI).toBeNull();
    expect(json.methods[0].metrics['Silhouette batch']).toBeNull();
    expect(json.methods[0].aggregates['Bio conservation']).toBeNull();
    expect(json.methods[0].aggregates.Total).toBeNull();
  });

  it('rejects inconsistent inputs with typed errors', () => {
    expect(() => new Benchmarker({ embeddings: {}, labels: [], batches: [] })).toThrow(BenchInputError);
    expect(() => new Benchmarker({ embeddings: { z: good.x }, labels: good.labels.slice(1), batches: good.batches, unintegrated: pre })).toThrow(/labels has 359 entries/);
    expect(() => new Benchmarker({ embeddings: { z: good.x }, labels: good.labels, batches: good.batches })).toThrow(/PCR comparison needs/);
    const bm = new Benchmarker({ embeddings: { z: good.x }, labels: good.labels, batches: good.batches, unintegrated: pre });
    expect(() => bm.getResults()).toThrow(/before benchmark/);
  });
});
