import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, initEngine, simulate, type InvaeDataset } from '@invae/core';
import { registerBuiltinPriors } from '@invae/priors';
import { BenchInputError, checkBenchmarkOptions, mergeBenchmarkJobs, resultsTableSvg, runBenchmark, runBenchmarkJob, seedStat, summarizeSeeds, type BenchmarkJobRecord, type SeededBenchmarkRun } from '../src/index';

// Seeds as an axis: every trained method once per seed, PCA once; mean ± sd per metric and aggregate;
// each (method, seed) job alone gives the same record, so merged jobs give the same report files.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-bench-seeds-'));
const sim = simulate({ nCells: 150, nGenes: 30, nBatches: 2, nCellTypes: 3, nDiseases: 1, latentDimInv: 3, latentDimSpur: 1, batchShift: 3, batchVariance: 0.3, seed: 2 });
const data: InvaeDataset = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
const input = { data, obsm: { X_true_inv: { data: sim.zInv, nRows: sim.nCells, nCols: sim.latentDimInv } }, cellNames: sim.cellNames, name: 'sim' };
const common = { batch: 'batch', label: 'cell_type', epochs: 2, latentInv: 3, registerPriors: registerBuiltinPriors };
const out = path.join(dir, 'report');
let run: SeededBenchmarkRun;

beforeAll(async () => {
  await initEngine({ report: null });
  run = await runBenchmark(input, { ...common, methods: ['finvae', 'pca'], seeds: [1, 0], outDir: out });
}, 600_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('runBenchmark with seeds', () => {
  it('trains FinVAE once per seed and runs PCA (untrained) once, and reports mean ± sd of every metric and aggregate', () => {
    const s = run.summary;
    expect(s.seeds).toEqual([0, 1]);
    expect(run.jobs.map((j) => [j.name, j.seed])).toEqual([
      ['PCA', 0],
      ['FinVAE', 0],
      ['FinVAE', 1],
    ]);
    const [pca, finvae] = s.methods;
    expect(pca!.embedding).toBe('PCA');
    expect(pca!.trained).toBe(false);
    expect(pca!.seeds).toEqual([0]);
    expect(pca!.aggregates.Total.sd).toBeNull();
    expect(finvae!.seeds).toEqual([0, 1]);
    expect(finvae!.epochs).toEqual([2, 2]);
    for (const [name, st] of [...Object.entries(finvae!.metrics), ...Object.entries(finvae!.aggregates)]) {
      expect(st.values, name).toHaveLength(2);
      expect(st).toEqual(seedStat(st.values));
    }
    // different seeds train different models
    expect(finvae!.aggregates.Total.values[0]).not.toBe(finvae!.aggregates.Total.values[1]);
    expect(finvae!.aggregates.Total.sd).toBeGreaterThan(0);
    // the per-seed tables are single-seed tables of the raw metrics
    const t1 = s.perSeed.find((p) => p.seed === 1)!.methods.find((m) => m.embedding === 'FinVAE')!;
    expect(t1.aggregates.Total).toBe(finvae!.aggregates.Total.values[1]);
    expect(finvae!.invariantPrediction!.accuracy.values).toHaveLength(2);
    expect(finvae!.identifiability!.mccPearson.values).toHaveLength(2);
  });

  it('seedStat: mean and sample sd of the finite values', () => {
    expect(seedStat([1, 2, 3, null])).toEqual({ mean: 2, sd: 1, values: [1, 2, 3, null] });
    expect(seedStat([0.5])).toEqual({ mean: 0.5, sd: null, values: [0.5] });
    expect(seedStat([null])).toEqual({ mean: null, sd: null, values: [null] });
  });

  it('writes results.json/csv/md/svg with mean ± sd and error bars, and run.json; no single-seed plots', () => {
    const files = fs.readdirSync(out).sort();
    expect(files).toEqual(['results.csv', 'results.json', 'results.md', 'results.svg', 'run.json']);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(run.summary)));
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    const total = run.summary.methods[1]!.aggregates.Total;
    expect(md).toContain(`${total.mean!.toFixed(3)} ± ${total.sd!.toFixed(3)}`);
    expect(md).toContain('PCA not trained: run once (seed 0), no sd');
    const csv = fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toContain('Total mean,Total sd');
    expect(csv).toHaveLength(3);
    const finvaeRow = csv.find((l) => l.startsWith('FinVAE,'))!.split(',');
    expect(Number(finvaeRow.at(-2))).toBe(total.mean);
    expect(Number(finvaeRow.at(-1))).toBe(total.sd);
    const svg = fs.readFileSync(path.join(out, 'results.svg'), 'utf8');
    // one error bar per FinVAE metric and aggregate with an sd, none for PCA
    const bars = svg.match(/class="error-bar"/g) ?? [];
    const withSd = [...Object.values(run.summary.methods[1]!.metrics), ...Object.values(run.summary.methods[1]!.aggregates)].filter((st) => st.sd !== null).length;
    expect(bars.length).toBe(withSd);
    expect(svg).toContain('mean ± sample sd over seeds 0, 1');
    expect(JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')).timings.total).toBeGreaterThan(0);
  });

  it('a job run alone (runBenchmarkJob) gives the record of the seeded run, so merged jobs give the same report files', async () => {
    const records: BenchmarkJobRecord[] = [];
    for (const [method, seed] of [['finvae', 1], ['pca', 0], ['finvae', 0]] as const) records.push((await runBenchmarkJob(input, { ...common, method, seed })).record);
    const strip = (r: BenchmarkJobRecord) => ({ ...r, timings: {} });
    expect(records.map(strip).sort((a, b) => a.name.localeCompare(b.name) || a.seed - b.seed)).toEqual(run.jobs.map(strip).sort((a, b) => a.name.localeCompare(b.name) || a.seed - b.seed));
    const merged = mergeBenchmarkJobs(records);
    for (const f of ['results.json', 'results.csv', 'results.md', 'results.svg']) expect(merged.files.get(f), f).toEqual(run.files.get(f));
  }, 600_000);

  it('a missing seed, a duplicate or another data set is a typed error', () => {
    const jobs = run.jobs;
    expect(() => summarizeSeeds(jobs.filter((j) => !(j.name === 'FinVAE' && j.seed === 1)), { seeds: [0, 1] })).toThrow(/FinVAE has no record for seed 1/);
    expect(() => summarizeSeeds([...jobs, jobs[1]!])).toThrow(BenchInputError);
    expect(() => summarizeSeeds([...jobs.slice(0, 2), { ...jobs[2]!, dataset: { ...jobs[2]!.dataset, nCells: 1 } }])).toThrow(/another data set/);
  });

  it('rejects bad seeds, obsm embeddings and the retrain protocol with seeds, before any work', () => {
    expect(() => checkBenchmarkOptions({ methods: ['pca'], seeds: [] })).toThrow(InvalidOptionError);
    expect(() => checkBenchmarkOptions({ methods: ['pca'], seeds: [0, -1] })).toThrow(/-1 is not a non-negative integer/);
    expect(() => checkBenchmarkOptions({ methods: ['pca'], seeds: [0], embeddings: ['X_true_inv'] })).toThrow(/not scored in a seeded run/);
    expect(() => checkBenchmarkOptions({ methods: ['finvae'], seeds: [0], loboRetrain: true })).toThrow(/retrain protocol/);
  });
});

describe('resultsTableSvg error bars', () => {
  it('draws no error bar without errors (single-seed tables unchanged) and one per finite sd', () => {
    const table = {
      schema: 'invae.bench.results/1' as const,
      scibMetrics: '0.6' as const,
      scale: 'none' as const,
      nCells: 10,
      nLabels: 2,
      nBatches: 2,
      metricTypes: { cLISI: 'Bio conservation' as const, iLISI: 'Batch correction' as const },
      methods: [{ embedding: 'A', metrics: { cLISI: 0.5, iLISI: 0.4 }, aggregates: { 'Batch correction': 0.4, 'Bio conservation': 0.5, Total: 0.46 }, seconds: {}, nanReasons: {} }],
    };
    expect(resultsTableSvg(table)).not.toContain('error-bar');
    const svg = resultsTableSvg(table, { errors: { A: { cLISI: 0.1, iLISI: null, Total: 0.05 } }, caption: 'mean ± sd' });
    expect(svg.match(/class="error-bar"/g)).toHaveLength(2);
    expect(svg).toContain('A · Total: 0.460 ± 0.050');
  });
});
