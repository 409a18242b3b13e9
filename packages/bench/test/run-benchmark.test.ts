import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, initEngine, listPriors, simulate, unregisterPrior, type InvaeDataset } from '@invae/core';
import { registerBuiltinPriors } from '@invae/priors';
import { BenchInputError, PNG_SIGNATURE, checkBenchmarkOptions, runBenchmark, type BenchmarkRun } from '../src/index';

// A CI job's benchmark, from code: simulate a small data set, run the pipeline of `invae bench`
// (PCA, the scVI-equivalent and FinVAE, a few epochs) and check the typed results and the report folder.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-run-benchmark-'));
const sim = simulate({ nCells: 240, nGenes: 40, nBatches: 3, nCellTypes: 3, nDiseases: 1, latentDimInv: 3, latentDimSpur: 1, batchShift: 3, batchVariance: 0.3, seed: 1 });
const data: InvaeDataset = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
const truth = { data: sim.zInv, nRows: sim.nCells, nCols: sim.latentDimInv };
const out = path.join(dir, 'report');
let run: BenchmarkRun;
const lines: string[] = [];

beforeAll(async () => {
  await initEngine({ report: null });
  run = await runBenchmark(
    { data, obsm: { X_true_inv: truth }, cellNames: sim.cellNames, name: 'sim' },
    { batch: 'batch', label: 'cell_type', methods: ['pca', 'scvi', 'finvae'], epochs: 3, latentInv: 3, umapEpochs: 30, registerPriors: registerBuiltinPriors, outDir: out, log: (l) => lines.push(l) },
  );
}, 600_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('runBenchmark (a CI job from code)', () => {
  it('returns the scib-metrics table of every method, with aggregates in [0, 1]', () => {
    expect(run.results.methods.map((m) => m.embedding)).toEqual(['PCA', 'scVI-equivalent', 'FinVAE']);
    expect(run.results.nCells).toBe(240);
    expect(run.results.nBatches).toBe(3);
    expect(Object.keys(run.results.metricTypes)).toEqual(expect.arrayContaining(['Isolated labels', 'KMeans NMI', 'cLISI', 'iLISI', 'KBET', 'Graph connectivity', 'PCR comparison', 'BRAS']));
    for (const m of run.results.methods) {
      expect(Object.keys(m.metrics).sort()).toEqual(Object.keys(run.results.metricTypes).sort());
      for (const k of ['Batch correction', 'Bio conservation', 'Total'] as const) {
        expect(m.aggregates[k]).toBeGreaterThanOrEqual(0);
        expect(m.aggregates[k]).toBeLessThanOrEqual(1);
      }
      expect(m.aggregates.Total).toBeCloseTo(0.4 * m.aggregates['Batch correction']! + 0.6 * m.aggregates['Bio conservation']!, 10);
    }
  });

  it('says what each method is: PCA untrained, the models trained for the epochs asked, FinVAE reading the labels', () => {
    expect(run.methodInfo).toEqual({
      PCA: { preset: null, epochs: null, readsLabels: false },
      'scVI-equivalent': { preset: 'integration', epochs: 3, readsLabels: false },
      FinVAE: { preset: 'integration', epochs: 3, readsLabels: true },
    });
    expect(Object.keys(run.histories).sort()).toEqual(['FinVAE', 'scVI-equivalent']);
    expect(run.histories.FinVAE!.epochs).toHaveLength(3);
    expect(run.trainingSeconds.FinVAE).toBeGreaterThan(0);
  });

  it('returns the embeddings scored, one row per cell', () => {
    expect(run.embeddings.PCA!.nRows).toBe(240);
    expect(run.embeddings.FinVAE!.nCols).toBe(3);
    expect(run.embeddings['scVI-equivalent']!.nCols).toBe(3);
  });

  it('scores leave-one-batch-out invariant prediction of every method, FinVAE encoding held-out cells without their label', () => {
    const ip = run.invariantPrediction!;
    expect(ip.label).toBe('cell_type');
    expect(ip.retrain).toBe(false);
    expect(ip.methods.map((m) => m.method)).toEqual(['PCA', 'scVI-equivalent', 'FinVAE']);
    for (const m of ip.methods) {
      expect(m.result.perBatch).toHaveLength(3);
      expect(m.result.mean.accuracy).toBeGreaterThanOrEqual(0);
      expect(m.result.mean.accuracy).toBeLessThanOrEqual(1);
    }
    expect(ip.methods.find((m) => m.method === 'FinVAE')!.note).toMatch(/without 'cell_type'/);
    expect(ip.methods.find((m) => m.method === 'PCA')!.note).toBeUndefined();
  });

  it('scores identifiability against the true latents (obsm X_true_inv, found by default)', () => {
    const idf = run.identifiability!;
    expect(idf.truthKey).toBe('X_true_inv');
    expect(idf.rows.map((r) => r.method)).toEqual(['PCA', 'scVI-equivalent', 'FinVAE']);
    for (const r of idf.rows) {
      expect(r.mccPearson).toBeGreaterThan(0);
      expect(r.mccPearson).toBeLessThanOrEqual(1);
      expect(r.linearR2).toBeLessThanOrEqual(1);
    }
  });

  it('writes the report folder of `invae bench`: tables, UMAPs, loss curves, report.html; results.json is run.json', () => {
    const files = fs.readdirSync(out).sort();
    const expected = [
      'results.json',
      'results.csv',
      'results.md',
      'results.svg',
      'report.html',
      ...['PCA', 'scVI-equivalent', 'FinVAE'].flatMap((m) => ['batch', 'label'].flatMap((c) => [`umap_${m}_${c}.svg`, `umap_${m}_${c}.png`])),
      ...['scVI-equivalent', 'FinVAE'].flatMap((m) => [`loss_${m}.svg`, `loss_${m}.png`]),
    ].sort();
    expect(files).toEqual(expected);
    expect([...run.files.keys()].sort()).toEqual(expected);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(json).toEqual(JSON.parse(JSON.stringify(run.json)));
    expect(json.dataset).toMatchObject({ file: 'sim', nCells: 240, nGenes: 40, genesIn: 40, geneSelection: 'all genes', batchKey: 'batch', labelKey: 'cell_type' });
    expect(Object.keys(json.timings)).toEqual(expect.arrayContaining(['PCA (unintegrated)', 'train FinVAE (3 epochs)', 'identifiability', 'UMAP FinVAE', 'total']));
    expect(json.environment['@invae/bench']).toBeDefined();
    const csv = fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(4);
    expect(csv[0]!.endsWith('Batch correction,Bio conservation,Total')).toBe(true);
    expect(fs.readFileSync(path.join(out, 'results.md'), 'utf8')).toBe(run.markdown);
    expect(run.markdown).toMatch(/^\| Method \|/);
    expect(run.markdown).toContain('| FinVAE † |');
    expect(run.markdown).toContain("Identifiability against obsm['X_true_inv']");
    const png = fs.readFileSync(path.join(out, 'umap_FinVAE_label.png'));
    expect([...png.subarray(0, 8)]).toEqual([...PNG_SIGNATURE]);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    for (const f of ['umap_FinVAE_label.png', 'loss_FinVAE.png', 'scVI-equivalent']) expect(html).toContain(f);
    expect(run.umaps.FinVAE!.nPoints).toBe(240);
    expect(lines.some((l) => l.startsWith('wrote '))).toBe(true);
    // nothing but the folder: no temporary files left beside it
    expect(fs.readdirSync(dir)).toEqual(['report']);
  });
});

describe('runBenchmark input checks (before any work)', () => {
  it('rejects unknown methods and an empty benchmark', () => {
    expect(() => checkBenchmarkOptions({ methods: ['harmony' as 'pca'] })).toThrow(InvalidOptionError);
    expect(() => checkBenchmarkOptions({ methods: [] })).toThrow(/Nothing to benchmark/);
    expect(() => checkBenchmarkOptions({ methods: ['pca'], embeddings: ['PCA'] })).toThrow(/name of a trained method/);
  });

  it('names a missing obs column, and writes nothing', async () => {
    const bad = path.join(dir, 'bad');
    await expect(runBenchmark({ data }, { batch: 'site', label: 'cell_type', methods: ['pca'], outDir: bad })).rejects.toThrow(/obs has no column 'site'/);
    expect(fs.existsSync(bad)).toBe(false);
  });

  it('says which prior to register when trained methods find none', async () => {
    const saved = listPriors();
    for (const p of saved) unregisterPrior(p.name);
    try {
      const e = await runBenchmark({ data }, { batch: 'batch', label: 'cell_type', methods: ['scvi'] }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(BenchInputError);
      expect((e as BenchInputError).hint).toMatch(/registerBuiltinPriors/);
    } finally {
      registerBuiltinPriors();
    }
  });
});

describe('runBenchmark on an AnnData', () => {
  it('takes the AnnData itself (X, obs, obsm, names) and scores it as the same cells given in code', async () => {
    // The shape readH5ad returns (structurally: core's AnnDataLike), with arquero frames.
    const aq = await import('arquero');
    const c = sim.counts;
    if (c.kind !== 'csr') throw new Error('the simulator gives CSR counts');
    const adata = {
      nObs: sim.nCells,
      nVars: sim.geneNames.length,
      X: { kind: 'csr' as const, shape: [c.shape[0], c.shape[1]] as [number, number], dtype: 'float32', data: c.data, indices: c.indices, indptr: c.indptr },
      obs: { table: aq.table({ _index: sim.cellNames, batch: sim.obs.batch as string[], cell_type: sim.obs.cell_type as string[] }), indexName: '_index', columns: { batch: { kind: 'string' }, cell_type: { kind: 'string' } } },
      var: { table: aq.table({ _index: sim.geneNames }), indexName: '_index', columns: {} },
      layers: {},
      obsm: { X_true_inv: { kind: 'dense' as const, shape: [sim.nCells, sim.latentDimInv] as [number, number], dtype: 'float32', data: sim.zInv } },
    };
    const fromFile = await runBenchmark(adata, { batch: 'batch', label: 'cell_type', methods: ['pca'], embeddings: ['X_true_inv'], umap: false, lobo: false });
    expect(fromFile.results.methods.map((m) => m.embedding)).toEqual(['PCA', 'X_true_inv']);
    expect(fromFile.results.nCells).toBe(240);
    // The same cells given as a BenchmarkInput score the same.
    const fromCode = await runBenchmark({ data, obsm: { X_true_inv: truth }, cellNames: sim.cellNames }, { batch: 'batch', label: 'cell_type', methods: ['pca'], embeddings: ['X_true_inv'], umap: false, lobo: false });
    for (const [i, m] of fromFile.results.methods.entries()) expect(m.aggregates.Total).toBeCloseTo(fromCode.results.methods[i]!.aggregates.Total!, 6);
  }, 300_000);
});
