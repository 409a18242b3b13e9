import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Adam,
  Invae,
  InvaeModel,
  InvalidOptionError,
  initEngine,
  registerPrior,
  resolveDecoderPaths,
  resolveModelConfig,
  simulate,
  tf,
  unregisterPrior,
  type InvaeDataset,
  type InvaeModelConfig,
} from '../src/index';
import { StandardNormalPrior } from './model-helpers';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

const G = 12;
const base: InvaeModelConfig = { model: 'FinVAE', dataDim: G, invCovarDim: 0, spurCovarDim: 0, latentDimInv: 3, latentDimSpur: 1, hiddenDim: 8, seed: 3 };
const priors = (c: InvaeModelConfig) => ({ inv: new StandardNormalPrior(c.latentDimInv), spur: new StandardNormalPrior(c.latentDimSpur) });
const sizes = { dataDim: G, latentDimInv: 3, latentDimSpur: 1, mainExtraInputs: 0 };

function errorOf(f: () => unknown): InvalidOptionError {
  try {
    f();
  } catch (e) {
    return e as InvalidOptionError;
  }
  throw new Error('expected an error');
}

describe('decoderPaths (masked decoder paths) configuration', () => {
  it('accepts gene index lists or a dense 0/1 mask, and they resolve to the same paths', () => {
    const mask = [Array.from({ length: G }, (_, g) => (g === 1 || g === 4 ? 1 : 0)), Array.from({ length: G }, (_, g) => (g >= 9 ? 1 : 0))];
    const fromMask = resolveDecoderPaths({ mask, names: ['a', 'b'] }, sizes);
    expect(fromMask).toEqual({ genes: [[1, 4], [9, 10, 11]], names: ['a', 'b'] });
    expect(resolveDecoderPaths({ genes: [[4, 1, 4], [11, 9, 10]], names: ['a', 'b'] }, sizes)).toEqual(fromMask);
    expect(resolveDecoderPaths({ genes: [[0]] }, sizes)!.names).toEqual(['path0']);
    expect(resolveDecoderPaths(undefined, sizes)).toBeNull();
    expect(resolveModelConfig(base).decoderPaths).toBeNull();
  });

  it('rejects malformed paths with a typed error naming the option', () => {
    const cases: [unknown, RegExp][] = [
      [{ mask: [[1, 0]] }, /mask row 0 has 2 entries; expected 12/],
      [{ mask: [Array.from({ length: G }, () => 2)] }, /mask\[0\]\[0\] is 2; entries must be 0 or 1/],
      [{ genes: [[0], [12]] }, /genes\[1\] holds 12; gene indices must be integers in \[0, 12\)/],
      [{ genes: [[0], []] }, /dedicated dimension 1 has no gene/],
      [{ genes: [[0], [1], [2], [3]] }, /4 dedicated dimensions but only 3 invariant/],
      [{ genes: [[0]], mask: [[1]] }, /exactly one of genes .* and mask/],
      [{ genes: [[0]], names: ['a', 'b'] }, /names must be 1 strings/],
      [{ genes: [] }, /no dedicated dimensions/],
      [{ genes: [[0]], colour: 1 }, /unknown field\(s\) colour/],
    ];
    for (const [paths, message] of cases) {
      const e = errorOf(() => resolveModelConfig({ ...base, decoderPaths: paths as InvaeModelConfig['decoderPaths'] }));
      expect(e).toBeInstanceOf(InvalidOptionError);
      expect(e.option).toBe('decoderPaths');
      expect(e.message).toMatch(message);
    }
    // all latents dedicated → the main decoder has no input
    expect(() => resolveModelConfig({ ...base, latentDimSpur: 0, decoderPaths: { genes: [[0], [1], [2]] } })).toThrow(/without inputs/);
  });
});

describe('Decoder with masked paths', () => {
  it('without the option, the variables are the reference ones', () => {
    const m = new InvaeModel(base, priors(base));
    expect(m.namedVariables().some((v) => v.name.startsWith('decoder_paths'))).toBe(false);
    expect(m.decoder.rawMean.namedVariables().find((v) => v.name === 'fc.0.weight')!.variable.shape).toEqual([8, 4]);
    m.dispose();
  });

  for (const decoderDist of ['nb', 'normal'] as const) {
    it(`${decoderDist}: a dedicated dimension changes only its own genes; the main network does not see it`, () => {
      const config: InvaeModelConfig = { ...base, decoderDist, decoderPaths: { genes: [[1, 4], [9, 10]], names: ['p', 'q'] } };
      const m = new InvaeModel(config, priors(config));
      const names = m.namedVariables().map((v) => v.name);
      expect(names).toContain('decoder_paths.weight');
      expect(names).toContain('decoder_paths.mask');
      // the MLP reads 3 + 1 − 2 latents
      expect(m.decoder.rawMean.namedVariables().find((v) => v.name === 'fc.0.weight')!.variable.shape).toEqual([8, 2]);
      const w = m.decoder.paths!.weight.arraySync() as number[][];
      for (let g = 0; g < G; g++) {
        expect(w[g]![0] !== 0).toBe(g === 1 || g === 4);
        expect(w[g]![1] !== 0).toBe(g === 9 || g === 10);
      }
      const z = tf.tensor2d([[0.3, -0.2, 0.5, 1.0], [0.1, 0.7, -0.4, -1.0]]);
      const dz = tf.tensor2d([[0, 1.5, 0, 0], [0, 1.5, 0, 0]]); // latent 1 = first dedicated dim (dims 1, 2 of 3)
      const lib = tf.tensor2d([[100], [200]]);
      const decode = (zz: tf.Tensor2D) => tf.tidy(() => m.decoder.apply(zz, null, decoderDist === 'nb' ? lib : null, false).mean.arraySync() as number[][]);
      const a = decode(z);
      const b = decode(tf.add(z, dz) as tf.Tensor2D);
      for (let r = 0; r < 2; r++) {
        // normal: the mean itself; NB: log mean moves by the same constant (the softmax normaliser) outside the mask
        const diff = Array.from({ length: G }, (_, g) => (decoderDist === 'nb' ? Math.log(b[r]![g]!) - Math.log(a[r]![g]!) : b[r]![g]! - a[r]![g]!));
        const outside = diff.filter((_, g) => g !== 1 && g !== 4);
        for (const d of outside) expect(d).toBeCloseTo(outside[0]!, 5);
        if (decoderDist === 'normal') expect(outside[0]).toBeCloseTo(0, 6);
        expect(Math.abs(diff[1]! - outside[0]!)).toBeGreaterThan(1e-3);
        expect(Math.abs(diff[4]! - outside[0]!)).toBeGreaterThan(1e-3);
      }
      tf.dispose([z, dz, lib]);
      m.dispose();
    });
  }

  it('training leaves the weights outside the mask at zero (and never updates the mask)', () => {
    const config: InvaeModelConfig = { ...base, decoderPaths: { genes: [[0, 2, 3]] } };
    const m = new InvaeModel(config, priors(config));
    const sim = simulate({ nCells: 64, nGenes: G, nBatches: 1, nCellTypes: 2, nDiseases: 1, latentDimInv: 2, latentDimSpur: 1, seed: 1, format: 'dense' });
    const x = tf.tensor2d(sim.counts.data as Float32Array, [64, G]);
    const opt = new Adam(m.trainableVariables, { learningRate: 0.05, weightDecay: 1e-4 });
    for (let i = 0; i < 5; i++) {
      const { value, grads } = tf.variableGrads(() => m.loss(x, null, null, { training: true }).loss, m.trainableVariables);
      opt.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
    }
    const w = m.decoder.paths!.weight.arraySync() as number[][];
    const mask = m.decoder.paths!.mask.arraySync() as number[][];
    for (let g = 0; g < G; g++) {
      expect(mask[g]![0]).toBe([0, 2, 3].includes(g) ? 1 : 0);
      if (![0, 2, 3].includes(g)) expect(Math.abs(w[g]![0]!)).toBe(0);
    }
    expect(m.trainableVariables).not.toContain(m.decoder.paths!.mask);
    x.dispose();
    opt.dispose();
    m.dispose();
  });
});

describe('decoder paths requested by a prior plugin', () => {
  const sim = simulate({ nCells: 200, nGenes: 20, nBatches: 2, nCellTypes: 2, nDiseases: 1, latentDimInv: 3, latentDimSpur: 1, seed: 2 });
  const data: InvaeDataset = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
  const quiet = { warn: () => {} };
  const tmp = mkdtempSync(path.join(tmpdir(), 'invae-paths-'));

  beforeAll(() => {
    registerPrior({ name: 'test-normal', family: 'gaussian', create: (ctx) => new StandardNormalPrior(ctx.latentDim) });
    // a plugin that dedicates one dimension to the genes named in its options
    registerPrior({
      name: 'test-paths',
      family: 'gaussian',
      create: (ctx) => new StandardNormalPrior(ctx.latentDim),
      decoderPaths: (o, d) => ({ names: ['mine'], genes: [(o.genes as string[]).map((g) => d.geneNames.indexOf(g))] }),
    });
  });
  afterAll(() => {
    unregisterPrior('test-normal');
    unregisterPrior('test-paths');
    rmSync(tmp, { recursive: true, force: true });
  });

  it('Invae.setup asks the invariant prior; the paths are saved in model.json and reloaded', async () => {
    const setup = {
      spurious: { categorical: ['batch'] },
      options: { latentDimInv: 3, latentDimSpur: 1, hiddenDim: 8, seed: 1 },
      invPrior: { name: 'test-paths', options: { genes: ['gene_03', 'gene_07'] } },
      spurPrior: { name: 'test-normal' },
    };
    const w = Invae.setup(data, setup, quiet);
    expect(w.model.config.decoderPaths).toEqual({ genes: [[3, 7]], names: ['mine'] });
    await w.train(data, { epochs: 1, batchSize: 100 });
    const dir = path.join(tmp, 'model');
    await w.save(dir);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { model: { config: InvaeModelConfig } };
    expect(manifest.model.config.decoderPaths).toEqual({ names: ['mine'], genes: [[3, 7]] });
    const back = await Invae.load(dir, quiet);
    expect(back.model.config.decoderPaths).toEqual(w.model.config.decoderPaths);
    expect(Array.from(back.latent(data, { part: 'full' }).data)).toEqual(Array.from(w.latent(data, { part: 'full' }).data));
    const wb = back.model.getWeights();
    const wa = w.model.getWeights();
    expect(Array.from(wb.get('decoder_paths.weight')!.dataSync())).toEqual(Array.from(wa.get('decoder_paths.weight')!.dataSync()));
    tf.dispose([...wb.values(), ...wa.values()]);
    back.dispose();
    w.dispose();
    // the user cannot set paths of their own on top of the prior's
    expect(() => Invae.setup(data, { ...setup, options: { ...setup.options, decoderPaths: { genes: [[0]] } } }, quiet)).toThrow(/sets up its own decoder paths/);
  });
});
