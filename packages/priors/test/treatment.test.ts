import { beforeAll, describe, expect, it } from 'vitest';
import { CovariateEncoder, Invae, buildModel, initEngine, priorCovariates, simulate, tf, type InvaeDataset } from '@invae/core';
import { TreatmentPrior, registerBuiltinPriors, treatmentPlugin } from '../src/index';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  registerBuiltinPriors();
});

const quiet = { warn: () => {} };

/** Prior means for cells given as [drug, dose] (no context). */
function meansAt(prior: TreatmentPrior, enc: CovariateEncoder, cells: [string, number][]): number[][] {
  const u = enc.transform({ drug: cells.map((c) => c[0]), dose: cells.map((c) => c[1]) }, quiet);
  return tf.tidy(() => prior.meanOf(tf.tensor2d(u.data, [u.nRows, u.nCols])).arraySync() as number[][]);
}

describe('treatment prior', () => {
  const spec = treatmentPlugin.covariates!({ treatment: 'drug', treatments: ['A', 'B'] }, 'inv');

  it('declares the dose encoding (log1p per treatment, last)', () => {
    expect(spec).toEqual({ categorical: [], continuous: [], dose: [{ key: 'dose', treatment: 'drug', treatments: ['A', 'B'] }] });
    expect(priorCovariates({ name: 'treatment', options: { treatments: ['A'], time: 'hours', context: ['cell_type'] } }, 'inv')).toEqual({
      categorical: ['cell_type'],
      continuous: ['hours'],
      dose: [{ key: 'dose', treatment: 'treatment', treatments: ['A'] }],
    });
    expect(() => treatmentPlugin.covariates!({}, 'inv')).toThrow(/prior 'treatment', option 'treatments': is required/);
    expect(() => treatmentPlugin.covariates!({ treatments: ['A'], dose: 'x', time: 'x' }, 'inv')).toThrow(/column 'x' is used twice/);
  });

  it('untreated cells get no treatment shift, and the dose-response is monotone from the start', () => {
    const enc = CovariateEncoder.fit(spec, { drug: ['A', 'B'], dose: [1, 1] }, quiet);
    const prior = new TreatmentPrior({ role: 'inv', latentDim: 3, covarDim: enc.width, nTreatments: 2, seed: 1 });
    const m = meansAt(prior, enc, [['A', 0], ['B', 0], ['A', 1], ['A', 10], ['A', 100]]);
    const bias = prior.bias.arraySync() as number[];
    expect(m[0]).toEqual(bias);
    expect(m[1]).toEqual(bias);
    for (let k = 0; k < 3; k++) {
      const path = [m[0]![k]!, m[2]![k]!, m[3]![k]!, m[4]![k]!];
      const up = path[3]! > path[0]!;
      for (let i = 1; i < 4; i++) expect(up ? path[i]! >= path[i - 1]! : path[i]! <= path[i - 1]!).toBe(true);
    }
    prior.dispose();
  });

  it('learns a sigmoid dose-response, and a held-out dose lands between its neighbours', () => {
    // Latent targets follow a true sigmoid in log1p(dose) along a fixed direction per drug.
    const trainDoses = [0, 0.3, 1, 10, 30, 100];
    const heldOut = 3;
    const truth = (d: number) => 1 / (1 + Math.exp(-(1.5 * Math.log1p(d) - 3))) - 1 / (1 + Math.exp(3));
    const dirA = [2, -1, 0.5];
    const dirB = [-1, 1, 1];
    const cells: [string, number][] = [];
    const targets: number[][] = [];
    for (const d of trainDoses) {
      for (const [drug, dir] of [['A', dirA], ['B', dirB]] as const) {
        cells.push([drug, d]);
        targets.push(dir.map((x) => x * truth(d)));
      }
    }
    const enc = CovariateEncoder.fit(spec, { drug: cells.map((c) => c[0]), dose: cells.map((c) => c[1]) }, quiet);
    const prior = new TreatmentPrior({ role: 'inv', latentDim: 3, covarDim: enc.width, nTreatments: 2, variance: 'unit', seed: 7 });
    const u = enc.transform({ drug: cells.map((c) => c[0]), dose: cells.map((c) => c[1]) }, quiet);
    const uT = tf.tensor2d(u.data, [u.nRows, u.nCols]);
    const zT = tf.tensor2d(targets);
    const opt = tf.train.adam(0.05);
    const loss = () => tf.mean(tf.square(tf.sub(prior.meanOf(uT), zT))) as tf.Scalar;
    const initial = loss().dataSync()[0]!;
    const vars = prior.namedVariables().map((v) => v.variable);
    for (let step = 0; step < 1000; step++) opt.minimize(loss, false, vars);
    const final = loss().dataSync()[0]!;
    expect(final).toBeLessThan(initial * 0.01);
    const [lo, mid, hi] = meansAt(prior, enc, [['A', 1], ['A', heldOut], ['A', 10]]);
    for (let k = 0; k < 3; k++) {
      expect(Math.min(lo![k]!, hi![k]!)).toBeLessThan(mid![k]!);
      expect(mid![k]!).toBeLessThan(Math.max(lo![k]!, hi![k]!));
    }
    // and it is close to the truth at the unseen dose
    for (let k = 0; k < 3; k++) expect(Math.abs(mid![k]! - dirA[k]! * truth(heldOut)), `dim ${k}`).toBeLessThan(0.05 * Math.abs(dirA[k]!) + 0.02);
    tf.dispose([uT, zT]);
    opt.dispose();
    prior.dispose();
  });

  it('checks the width of the dose block and trains inside Invae', async () => {
    const config = { model: 'FinVAE' as const, dataDim: 5, invCovarDim: 1, spurCovarDim: 1, latentDimInv: 2, latentDimSpur: 1, hiddenDim: 8 };
    expect(() => buildModel({ config, invPrior: { name: 'treatment', options: { treatments: ['A', 'B'] } } })).toThrow(/option 'covariates'.*2 dose column/);
    const sim = simulate({ nCells: 200, nGenes: 16, nBatches: 2, nCellTypes: 2, nDiseases: 1, latentDimInv: 2, latentDimSpur: 1, seed: 3 });
    const drugs = ['ctrl', 'A', 'B'];
    const obs = {
      ...sim.obs,
      drug: Array.from({ length: 200 }, (_, i) => drugs[i % 3]!),
      dose: Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? 0 : [1, 10, 100][i % 4 % 3]!)),
      hours: Array.from({ length: 200 }, (_, i) => (i % 2 ? 6 : 24)),
    };
    const data: InvaeDataset = { counts: sim.counts, geneNames: sim.geneNames, obs };
    const invPrior = { name: 'treatment', options: { treatment: 'drug', treatments: ['A', 'B'], time: 'hours', context: ['cell_type'] } };
    const w = Invae.setup(data, { invariant: priorCovariates(invPrior, 'inv')!, spurious: { categorical: ['batch'] }, invPrior, options: { latentDimInv: 2, latentDimSpur: 1, hiddenDim: 8, seed: 2 } }, quiet);
    expect(w.model.config.invCovarDim).toBe(2 + 1 + 2);
    const h = await w.train(data, { epochs: 2, batchSize: 100 });
    expect(h.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
    expect(w.model.getWeights().has('prior_treatment_inv.dose_slope')).toBe(true);
    w.dispose();
  });
});
