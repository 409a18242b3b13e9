import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, simulate, type InvaeDataset } from '@invae/core';
import { registerBuiltinPriors } from '@invae/priors';
import { BenchInputError, runBenchmark, type BenchmarkRun } from '../src/index';

// runBenchmark's optional differential expression: a section of report.html, with the CSV and volcano plot files.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-run-benchmark-de-'));
const sim = simulate({ nCells: 240, nGenes: 40, nBatches: 2, nCellTypes: 2, nDiseases: 1, latentDimInv: 3, latentDimSpur: 1, seed: 4 });
const data: InvaeDataset = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
const out = path.join(dir, 'report');
const base = { batch: 'batch', label: 'cell_type', methods: ['finvae' as const], epochs: 2, latentInv: 3, umap: false, lobo: false, registerPriors: registerBuiltinPriors };
let run: BenchmarkRun;

beforeAll(async () => {
  await initEngine({ report: null });
  run = await runBenchmark({ data, cellNames: sim.cellNames, name: 'sim' }, { ...base, de: { groupby: 'cell_type', group: 'cell_type_0', samplesPerGroup: 30 }, outDir: out });
}, 600_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('runBenchmark with de', () => {
  it('writes de_<method>.csv and its volcano plot, and report.html gets a differential expression section', () => {
    const files = fs.readdirSync(out);
    expect(files).toEqual(expect.arrayContaining(['de_FinVAE.csv', 'volcano_FinVAE.svg', 'volcano_FinVAE.png', 'report.html']));
    const csv = fs.readFileSync(path.join(out, 'de_FinVAE.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(41);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/<section id="de"><h2>Differential expression<\/h2>/);
    expect(html).toMatch(/<b>cell_type_0<\/b> \(120 cells\) vs <b>rest<\/b> \(120 cells\)/);
    expect(html).toMatch(/<img src="volcano_FinVAE\.png"/);
    expect((html.match(/<table class="de-table"[\s\S]*?<\/table>/)![0].match(/<tr>/g) ?? []).length).toBe(16);
    expect(run.files.get('de_FinVAE.csv')).toBe(fs.readFileSync(path.join(out, 'de_FinVAE.csv'), 'utf8'));
  });

  it('checks the groupby column and the groups before training', async () => {
    await expect(runBenchmark({ data, cellNames: sim.cellNames, name: 'sim' }, { ...base, de: { groupby: 'cell_type', group: 'nope' } })).rejects.toThrow(BenchInputError);
    await expect(runBenchmark({ data, cellNames: sim.cellNames, name: 'sim' }, { ...base, de: { groupby: 'tissue', group: 'a' } })).rejects.toThrow(/obs has no column 'tissue'/);
  });
});
