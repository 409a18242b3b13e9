import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Invae, PriorOptionError, buildModel, initEngine, simulate, type InvaeDataset } from '@invae/core';
import { GeneProgramScorer, geneProgramPlugin, registerBuiltinPriors } from '../src/index';

// Gene programs with dedicated latent dimensions (expiMap-style masked decoder paths), on
// simulated data with planted programs whose per-cell activity is known.

const quiet = { warn: () => {} };
const tmp = mkdtempSync(path.join(tmpdir(), 'invae-program-dims-'));

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  registerBuiltinPriors();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n;
    mb += b[i]! / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

const P = 3;
const sim = simulate({ nCells: 1500, nGenes: 200, nBatches: 2, nCellTypes: 3, nDiseases: 1, latentDimInv: 4, latentDimSpur: 1, seed: 3, nPrograms: P, programSize: 10 });
const data: InvaeDataset = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
const sets = Object.fromEntries(sim.programs!.names.map((n, p) => [n, [...sim.programs!.genes[p]!, `missing_${p}`]]));
const scorer = GeneProgramScorer.fit(data, sets, quiet);

describe('gene-program prior: dedicated dimensions', () => {
  it('asks for one masked decoder path per program (matched genes only), and only when dedicatedDims is set', () => {
    expect(geneProgramPlugin.decoderPaths!({ scorer: scorer.toJSON() }, data)).toBeNull();
    const paths = geneProgramPlugin.decoderPaths!({ scorer: scorer.toJSON(), dedicatedDims: true }, data)!;
    expect(paths.names).toEqual(sim.programs!.names);
    expect(paths.genes).toEqual(sim.programs!.geneIndices);
    expect(() => geneProgramPlugin.decoderPaths!({ scorer: scorer.toJSON(), dedicatedDims: 'yes' }, data)).toThrow(/prior 'gene-program', option 'dedicatedDims': expected true or false/);
    // scored on other genes than the data's
    expect(() => geneProgramPlugin.decoderPaths!({ scorer: scorer.toJSON(), dedicatedDims: true }, { geneNames: sim.geneNames.slice(0, 50) })).toThrow(PriorOptionError);
  });

  it('errors name the plugin and the option', () => {
    const config = { model: 'FinVAE' as const, dataDim: 200, invCovarDim: P, spurCovarDim: 2, latentDimInv: 5, latentDimSpur: 1, hiddenDim: 8 };
    const options = { scorer: scorer.toJSON(), dedicatedDims: true };
    // built without the decoder paths the option needs
    expect(() => buildModel({ config, invPrior: { name: 'gene-program', options } })).toThrow(/prior 'gene-program', option 'dedicatedDims': the model has no decoder paths/);
    // as spurious prior
    const paths = geneProgramPlugin.decoderPaths!(options, data)!;
    expect(() => buildModel({ config: { ...config, spurCovarDim: P, decoderPaths: paths }, spurPrior: { name: 'gene-program', options } })).toThrow(/dedicated dimensions belong to the invariant block/);
    // too few invariant dimensions for three programs
    const setup = { spurious: { categorical: ['batch'] }, invPrior: { name: 'gene-program', options }, options: { latentDimInv: 2, latentDimSpur: 1, hiddenDim: 8 } };
    let error: unknown;
    try {
      Invae.setup(data, setup, quiet);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PriorOptionError);
    expect((error as PriorOptionError).plugin).toBe('gene-program');
    expect((error as Error).message).toMatch(/3 dedicated dimensions but only 2 invariant latent dimensions/);
    expect((error as PriorOptionError).hint).toMatch(/raise latentDimInv to at least 3/);
  });

  it('each dedicated dimension follows its planted program (|Pearson| ≥ 0.8), and survives save → load', async () => {
    const latentDimInv = 6;
    const w = Invae.setup(
      data,
      {
        spurious: { categorical: ['batch'] },
        invPrior: { name: 'gene-program', options: { scorer: scorer.toJSON(), dedicatedDims: true } },
        options: { latentDimInv, latentDimSpur: 1, hiddenDim: 32, seed: 1 },
      },
      quiet,
    );
    try {
      expect(w.model.config.decoderPaths!.names).toEqual(sim.programs!.names);
      expect(w.spec.invPrior.options).toMatchObject({ dedicatedDims: true });
      await w.train(data, { epochs: 40, batchSize: 128, learningRate: 0.01, seed: 1 });
      const z = w.latent(data, { part: 'inv' });
      const activity = (p: number) => Array.from({ length: sim.nCells }, (_, i) => sim.programs!.activity[i * P + p]!);
      const dim = (j: number) => Array.from({ length: sim.nCells }, (_, i) => z.data[i * latentDimInv + j]!);
      const correlations = sim.programs!.names.map((_, p) => Math.abs(pearson(dim(latentDimInv - P + p), activity(p))));
      console.log(`gene-program dedicated dimensions, |Pearson| with the planted activities: ${correlations.map((c) => c.toFixed(3)).join(', ')}`);
      for (const c of correlations) expect(c).toBeGreaterThanOrEqual(0.8);
      // each program is carried by its own dimension, not by another dedicated one
      for (let p = 0; p < P; p++) {
        for (let q = 0; q < P; q++) if (q !== p) expect(Math.abs(pearson(dim(latentDimInv - P + q), activity(p)))).toBeLessThan(correlations[p]! - 0.3);
      }
      const dir = path.join(tmp, 'model');
      await w.save(dir);
      const back = await Invae.load(dir, quiet);
      try {
        expect(back.model.config.decoderPaths).toEqual(w.model.config.decoderPaths);
        expect(Array.from(back.latent(data, { part: 'full' }).data)).toEqual(Array.from(w.latent(data, { part: 'full' }).data));
      } finally {
        back.dispose();
      }
    } finally {
      w.dispose();
    }
  }, 180_000);
});
