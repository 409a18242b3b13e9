import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DataValidationError,
  Invae,
  ModelFormatError,
  PriorNotFoundError,
  csrMatrix,
  denseMatrix,
  initEngine,
  registerPrior,
  simulate,
  unregisterPrior,
  type InvaeDataset,
} from '../src/index';
import { StandardNormalPrior } from './model-helpers';
import { scratchDirs } from '../../../test-support/index';

const scratch = scratchDirs('invae-wf');

const sim = simulate({ nCells: 300, nGenes: 30, nBatches: 2, nCellTypes: 3, nDiseases: 1, latentDimInv: 3, latentDimSpur: 1, seed: 2 });
const data: InvaeDataset = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
const setup = {
  invariant: { categorical: ['cell_type'] },
  spurious: { categorical: ['batch'] },
  options: { latentDimInv: 3, latentDimSpur: 1, hiddenDim: 16, seed: 4 },
  invPrior: { name: 'test-normal' },
  spurPrior: { name: 'test-normal' },
};

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  registerPrior({ name: 'test-normal', family: 'gaussian', create: (ctx) => new StandardNormalPrior(ctx.latentDim) });
});
afterAll(() => {
  unregisterPrior('test-normal');
});

const quiet = { warn: () => {} };

describe('Invae workflow', () => {
  it('sets up from the data, trains, and save → load gives identical latents and predictions', async () => {
    const w = Invae.setup(data, setup, quiet);
    expect(w.model.config.invCovarDim).toBe(3);
    expect(w.model.config.spurCovarDim).toBe(2);
    const h = await w.train(data, { epochs: 3, batchSize: 100 });
    expect(h.epochs).toHaveLength(3);
    w.trainPredictor(data, 'cell_type', { kind: 'linear', epochs: 20 });
    const before = w.latent(data, { part: 'full' });
    const pred = w.predict(data);
    const dir = path.join(scratch.make(), 'model');
    await w.save(dir);
    const back = await Invae.load(dir, quiet);
    const after = back.latent(data, { part: 'full' });
    expect(Array.from(after.data)).toEqual(Array.from(before.data));
    expect(back.predict(data).labels).toEqual(pred.labels);
    expect(back.predictor?.labelKey).toBe('cell_type');
    expect(back.spec.invPrior.name).toBe('test-normal');
    expect(back.latent(data, { part: 'inv' }).nCols).toBe(3);
    expect(back.latent(data, { part: 'spur' }).nCols).toBe(1);
    w.dispose();
    back.dispose();
  });

  it('saves the per-epoch history (history.json) with the model and loads it back; folders without one still load', async () => {
    const w = Invae.setup(data, setup, quiet);
    const h = await w.train(data, { epochs: 3, batchSize: 100, validation: 0.1 });
    expect(h.epochs.every((e) => Number.isFinite(e.validationLoss))).toBe(true);
    const dir = path.join(scratch.make(), 'model');
    await w.save(dir, { files: { 'loss.svg': '<svg/>' } });
    expect(readFileSync(path.join(dir, 'loss.svg'), 'utf8')).toBe('<svg/>');
    const manifest = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(manifest.extra.training.history).toBe('history.json');
    const back = await Invae.load(dir, quiet);
    expect(back.history).toEqual(h);
    back.dispose();
    // a model folder saved before history.json existed
    rmSync(path.join(dir, 'history.json'));
    const old = await Invae.load(dir, quiet);
    expect(old.history).toBeNull();
    old.dispose();
    writeFileSync(path.join(dir, 'history.json'), '{"format":"invae-history","formatVersion":7,"epochs":[]}');
    await expect(Invae.load(dir, quiet)).rejects.toThrow(ModelFormatError);
    await expect(w.save(dir, { overwrite: true, files: { '../escape.txt': 'x' } })).rejects.toThrow(/cannot write the extra file '..\/escape.txt'/);
    expect(existsSync(path.join(path.dirname(dir), 'escape.txt'))).toBe(false);
    w.dispose();
  });

  it('holds the epochs so far during training, so that a checkpoint saves them', async () => {
    const w = Invae.setup(data, setup, quiet);
    const dir = path.join(scratch.make(), 'model');
    const seen: number[] = [];
    await w.train(data, {
      epochs: 3,
      batchSize: 100,
      checkpointEvery: 2,
      onCheckpoint: async (epoch) => {
        seen.push(w.history!.epochs.length);
        if (epoch === 2) await w.save(dir);
      },
    });
    expect(seen).toEqual([2, 3]);
    const back = await Invae.load(dir, quiet);
    expect(back.history!.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    back.dispose();
    w.dispose();
  });

  it('encodes unseen categories and missing covariate keys as zeros, with warnings', async () => {
    const w = Invae.setup(data, setup, quiet);
    const warnings: string[] = [];
    const other = Invae.setup(data, setup, { warn: (m) => warnings.push(m) });
    const obs = { ...sim.obs, batch: sim.obs.batch.map(() => 'new-site') } as Record<string, string[]>;
    delete obs.cell_type;
    const cov = other.covariates({ ...data, obs });
    expect(cov.spur!.data.every((v) => v === 0)).toBe(true);
    expect(cov.inv!.data.every((v) => v === 0)).toBe(true);
    expect(warnings.join('\n')).toMatch(/new-site/);
    expect(warnings.join('\n')).toMatch(/cell_type/);
    w.dispose();
    other.dispose();
  });

  it('selects genes by name when the data has them in another order', () => {
    const warnings: string[] = [];
    const w = Invae.setup(data, setup, { warn: (m) => warnings.push(m) });
    const full = w.latent(data);
    expect(warnings).toEqual([]);
    // A dense copy of the counts with the gene order reversed.
    expect(sim.counts.kind).toBe('csr');
    const m = sim.counts as { indptr: Int32Array; indices: Int32Array; data: Float32Array };
    const rev = new Float32Array(sim.nCells * sim.nGenes);
    for (let r = 0; r < sim.nCells; r++) for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) rev[r * sim.nGenes + (sim.nGenes - 1 - m.indices[p]!)] = m.data[p]!;
    const reordered: InvaeDataset = { counts: denseMatrix(sim.nCells, sim.nGenes, rev), geneNames: [...sim.geneNames].reverse(), obs: sim.obs };
    const again = w.latent(reordered);
    expect(Array.from(again.data)).toEqual(Array.from(full.data));
    expect(warnings.join('\n')).toMatch(/selected by name/);
    // More genes than the model's, the model's in the same order (train's highly variable genes): no warning.
    warnings.length = 0;
    const extra = new Float32Array(sim.nCells * (sim.nGenes + 1));
    for (let r = 0; r < sim.nCells; r++) for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) extra[r * (sim.nGenes + 1) + 1 + m.indices[p]!] = m.data[p]!;
    const superset: InvaeDataset = { counts: denseMatrix(sim.nCells, sim.nGenes + 1, extra), geneNames: ['extra-gene', ...sim.geneNames], obs: sim.obs };
    expect(Array.from(w.latent(superset).data)).toEqual(Array.from(full.data));
    expect(warnings).toEqual([]);
    const missing: InvaeDataset = { ...reordered, geneNames: reordered.geneNames.map((g, i) => (i === 0 ? 'not-a-gene' : g)) };
    expect(() => w.latent(missing)).toThrow(DataValidationError);
    w.dispose();
  });

  it('refuses non-count data, NaN and empty cells for the NB decoder, naming the cell', () => {
    const bad = (values: number[]) => ({ ...data, counts: denseMatrix(2, 2, Float32Array.from(values)), geneNames: ['g1', 'g2'], obs: { cell_type: ['a', 'b'], batch: ['x', 'y'] } });
    expect(() => Invae.setup(bad([1.5, 0, 2, 1]), setup, quiet)).toThrow(/non-negative integer counts, but cell 0, gene 'g1' holds 1.5/);
    expect(() => Invae.setup(bad([1, -1, 2, 1]), setup, quiet)).toThrow(DataValidationError);
    expect(() => Invae.setup(bad([1, Number.NaN, 2, 1]), setup, quiet)).toThrow(/non-finite/);
    expect(() => Invae.setup(bad([0, 0, 2, 1]), setup, quiet)).toThrow(/1 cell\(s\) have no counts/);
    const csr = csrMatrix(2, 2, Int32Array.from([0, 1, 2]), Int32Array.from([0, 1]), Float32Array.from([3, 0.5]));
    expect(() => Invae.setup({ ...bad([1, 1, 1, 1]), counts: csr }, setup, quiet)).toThrow(/cell 1, gene 'g2' holds 0.5/);
  });

  it('names the missing plugin when a prior is not registered', () => {
    expect(() => Invae.setup(data, { ...setup, invPrior: { name: 'nope' } }, quiet)).toThrow(PriorNotFoundError);
    expect(() => Invae.setup(data, { ...setup, invPrior: undefined }, quiet)).toThrow(/No prior named 'gaussian'/);
  });

  it('refuses an unknown obs key clearly', () => {
    expect(() => Invae.setup(data, { ...setup, spurious: { categorical: ['site'] } }, quiet)).toThrow(/site/);
  });
});
