import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CovariateEncoder, Invae, PriorOptionError, buildModel, initEngine, priorCovariates, simulate, tf, type InvaeDataset } from '@invae/core';
import { LinearGaussianPrior, diseasePlugin, registerBuiltinPriors } from '../src/index';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  registerBuiltinPriors();
});

const quiet = { warn: () => {} };
const sim = simulate({ nCells: 240, nGenes: 20, nBatches: 2, nCellTypes: 3, nDiseases: 2, latentDimInv: 3, latentDimSpur: 1, seed: 5 });
const severityLevels = ['none', 'mild', 'severe'];
const obs = { ...sim.obs, severity: Array.from({ length: 240 }, (_, i) => severityLevels[i % 3]!) };
const data: InvaeDataset = { counts: sim.counts, geneNames: sim.geneNames, obs };

describe('disease prior plugin', () => {
  it('declares one-hot disease, cell type and their interaction, or a thermometer code for severity', () => {
    expect(priorCovariates({ name: 'disease', options: { cellType: 'cell_type' } }, 'inv')).toEqual({
      categorical: ['cell_type', 'disease'],
      ordinal: [],
      interactions: [['cell_type', 'disease']],
    });
    expect(priorCovariates({ name: 'disease', options: { disease: 'severity', severity: severityLevels } }, 'inv')).toEqual({
      categorical: [],
      ordinal: [{ key: 'severity', order: severityLevels }],
      interactions: [],
    });
  });

  it('errors name the plugin and the option', () => {
    expect(() => diseasePlugin.covariates!({ interaction: true }, 'inv')).toThrow(/prior 'disease', option 'interaction'/);
    expect(() => diseasePlugin.covariates!({ severity: ['only'] }, 'inv')).toThrow(/option 'severity'/);
    expect(() => diseasePlugin.covariates!({ colour: 'red' }, 'inv')).toThrow(PriorOptionError);
    const config = { model: 'FinVAE' as const, dataDim: 5, invCovarDim: 0, spurCovarDim: 1, latentDimInv: 2, latentDimSpur: 1, hiddenDim: 8 };
    expect(() => buildModel({ config, invPrior: { name: 'disease' } })).toThrow(/prior 'disease', option 'covariates'/);
  });

  it('has an additive mean: W·u + b over [cell type, disease, cell type × disease]', () => {
    const spec = priorCovariates({ name: 'disease', options: { cellType: 'cell_type' } }, 'inv')!;
    const enc = CovariateEncoder.fit(spec, obs, quiet);
    const prior = new LinearGaussianPrior({ role: 'inv', latentDim: 2, covarDim: enc.width, seed: 3 });
    const u = enc.transform(obs, quiet);
    const mean = tf.tidy(() => prior.params(tf.tensor2d(u.data, [u.nRows, u.nCols]), { training: false }).mean.arraySync() as number[][]);
    const W = prior.mean.weight.arraySync() as number[][];
    const b = prior.mean.bias.arraySync() as number[];
    const names = enc.columnNames();
    for (const i of [0, 7, 100]) {
      const ct = String(obs.cell_type[i]);
      const dis = String(obs.disease[i]);
      const cols = [names.indexOf(`cell_type=${ct}`), names.indexOf(`disease=${dis}`), names.indexOf(`cell_type=${ct}×disease=${dis}`)];
      expect(cols.every((c) => c >= 0)).toBe(true);
      for (let k = 0; k < 2; k++) expect(mean[i]![k]!).toBeCloseTo(b[k]! + cols.reduce((s, c) => s + W[k]![c]!, 0), 5);
    }
    prior.dispose();
  });

  it('trains inside Invae with the declared encoding and survives save → load', async () => {
    const invPrior = { name: 'disease', options: { cellType: 'cell_type', disease: 'severity', severity: severityLevels } };
    const w = Invae.setup(
      data,
      { invariant: priorCovariates(invPrior, 'inv')!, spurious: { categorical: ['batch'] }, invPrior, options: { latentDimInv: 3, latentDimSpur: 1, hiddenDim: 16, seed: 1 } },
      quiet,
    );
    expect(w.spec.invPrior).toMatchObject({ name: 'disease', options: { disease: 'severity', severity: severityLevels, cellType: 'cell_type', interaction: true, variance: 'learned' } });
    // 3 cell types + 2 severity steps + 9 seen cell type × severity combinations
    expect(w.model.config.invCovarDim).toBe(3 + 2 + 9);
    const h = await w.train(data, { epochs: 2, batchSize: 120 });
    expect(h.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'invae-disease-')), 'model');
    try {
      await w.save(dir);
      const back = await Invae.load(dir, quiet);
      expect(Array.from(back.latent(data).data)).toEqual(Array.from(w.latent(data).data));
      back.dispose();
    } finally {
      w.dispose();
      rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });
});
