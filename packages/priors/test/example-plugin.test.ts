import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Invae, PriorOptionError, buildModel, getPrior, initEngine, registerPrior, simulate, unregisterPrior, type PriorPlugin } from '@invae/core';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const examplePath = path.join(repoRoot, 'examples/prior-plugin/index.js');

let plugin: PriorPlugin;

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  const mod = (await import(pathToFileURL(examplePath).href)) as { default: PriorPlugin; plugin: PriorPlugin };
  expect(mod.plugin).toBe(mod.default);
  plugin = mod.default;
});

describe('third-party prior plugin (examples/prior-plugin)', () => {
  it('registers through the public registry and validates its options by name', () => {
    registerPrior(plugin);
    try {
      expect(getPrior('example-homoscedastic')).toBe(plugin);
      const config = { model: 'FinVAE' as const, dataDim: 6, invCovarDim: 2, spurCovarDim: 0, latentDimInv: 3, latentDimSpur: 1, hiddenDim: 8, seed: 1 };
      expect(() => buildModel({ config, invPrior: { name: plugin.name, options: { initialLogVariance: 'big' } } })).toThrow(PriorOptionError);
      expect(() => buildModel({ config, invPrior: { name: plugin.name, options: { initialLogVariance: 'big' } } })).toThrow(/prior 'example-homoscedastic', option 'initialLogVariance'/);
      const { model, spec } = buildModel({ config, invPrior: { name: plugin.name, options: { initialLogVariance: -1 } }, spurPrior: { name: plugin.name } });
      expect(spec.invPrior).toEqual({ name: 'example-homoscedastic', version: '0.1.0', options: { initialLogVariance: -1 } });
      expect([...model.getWeights().keys()]).toEqual(expect.arrayContaining(['prior_example_inv.mean.weight', 'prior_example_inv.log_variance', 'prior_example_spur.offset']));
      model.dispose();
    } finally {
      unregisterPrior(plugin.name);
    }
  });

  it('trains an Invae model and reloads it while registered', async () => {
    registerPrior(plugin);
    try {
      const sim = simulate({ nCells: 120, nGenes: 12, nBatches: 2, nCellTypes: 2, nDiseases: 1, latentDimInv: 2, latentDimSpur: 1, seed: 4 });
      const data = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
      const w = Invae.setup(
        data,
        { invariant: { categorical: ['cell_type'] }, spurious: { categorical: ['batch'] }, invPrior: { name: plugin.name }, spurPrior: { name: plugin.name }, options: { latentDimInv: 2, latentDimSpur: 1, hiddenDim: 8, seed: 2 } },
        { warn: () => {} },
      );
      const h = await w.train(data, { epochs: 3, batchSize: 60 });
      expect(h.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
      const logVar = w.model.getWeights().get('prior_example_inv.log_variance')!;
      expect(Array.from(logVar.dataSync()).some((v) => v !== 0)).toBe(true); // the prior's parameters were trained
      const dir = path.join(mkdtempSync(path.join(tmpdir(), 'invae-example-')), 'model');
      try {
        await w.save(dir);
        const back = await Invae.load(dir, { warn: () => {} });
        expect(back.spec.invPrior.name).toBe('example-homoscedastic');
        expect(Array.from(back.latent(data).data)).toEqual(Array.from(w.latent(data).data));
        back.dispose();
      } finally {
        w.dispose();
        rmSync(path.dirname(dir), { recursive: true, force: true });
      }
    } finally {
      unregisterPrior(plugin.name);
    }
  });
});
