import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, Invae, simulate, getPreset, autoEpochs, PRESETS } from '@invae/core';
import { registerBuiltinPriors } from '../src/index';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  registerBuiltinPriors();
});

describe('presets', () => {
  it('autoEpochs follows scvi-tools: 400 up to 20k cells, fewer beyond', () => {
    expect(autoEpochs(450)).toBe(400);
    expect(autoEpochs(20000)).toBe(400);
    expect(autoEpochs(40000)).toBe(200);
    expect(autoEpochs(1e6)).toBe(8);
    expect(autoEpochs(1e9)).toBe(1);
  });

  it('reference keeps the reference defaults; integration injects the batch and learns the invariant prior', () => {
    const sim = simulate({ nCells: 60, nGenes: 20, seed: 0 });
    const data = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
    const setup = { invariant: { categorical: ['cell_type'] }, spurious: { categorical: ['batch'] }, options: { seed: 0 } };
    const ref = Invae.setup(data, { ...setup, preset: 'reference' }, { warn: () => {} });
    const def = Invae.setup(data, setup, { warn: () => {} });
    try {
      expect(ref.model.config).toMatchObject({ latentDimInv: 9, latentDimSpur: 1, dropoutRate: 0.1, injectCovarInLatent: false, encoderCovariates: 'all', invariancePenalty: 0 });
      expect(ref.spec.invPrior.options).toMatchObject({ fixMean: true, fixVar: false });
      expect(ref.spec.spurPrior?.name).toBe('gaussian');
      expect(def.preset.name).toBe('integration');
      expect(def.model.config).toMatchObject(PRESETS.integration.options);
      expect(def.model.config).toMatchObject({ klRate: 5, injectCovarInLatent: true, latentDimSpur: 0, encoderCovariates: 'all' });
      expect(def.spec.invPrior.options).toMatchObject({ fixMean: false, fixVar: false });
      expect(def.spec.spurPrior).toBeNull();
      expect(getPreset('integration').train.epochs).toBe('auto');
      expect(getPreset('reference').train.epochs).toBe(500);
    } finally {
      ref.dispose();
      def.dispose();
    }
  });

  it('explicit options override the preset, and an unknown preset is a typed error', () => {
    const sim = simulate({ nCells: 40, nGenes: 12, seed: 1 });
    const data = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
    const w = Invae.setup(data, { spurious: { categorical: ['batch'] }, options: { latentDimInv: 3, latentDimSpur: 2, seed: 0 } }, { warn: () => {} });
    try {
      expect(w.model.config.latentDimInv).toBe(3);
      // a spurious block beside the injected batch gets a learned batch-conditioned prior
      expect(w.spec.spurPrior).toMatchObject({ name: 'gaussian', options: { fixMean: false, fixVar: false } });
    } finally {
      w.dispose();
    }
    expect(() => Invae.setup(data, { preset: 'nope' as never })).toThrow(/Unknown preset 'nope'.*/);
  });

  it('the integration preset weights the prior term β = 5; encoderCovariates spurious makes the invariant latent independent of the labels', () => {
    const sim = simulate({ nCells: 50, nGenes: 16, seed: 2 });
    const data = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
    const w = Invae.setup(data, { invariant: { categorical: ['cell_type'] }, spurious: { categorical: ['batch'] }, options: { seed: 0, encoderCovariates: 'spurious' } }, { warn: () => {} });
    const relabelled = { ...data, obs: { ...data.obs, cell_type: data.obs.cell_type.map(() => sim.categories.cell_type[0]!) } };
    try {
      const a = w.latent(data).data;
      const b = w.latent(relabelled).data;
      expect(Array.from(a)).toEqual(Array.from(b));
    } finally {
      w.dispose();
    }
  });
});
