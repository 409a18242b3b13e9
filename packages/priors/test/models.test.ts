import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, SafetensorsFormatError, WeightMismatchError, initEngine, tf, writeSafetensors, detach } from '@invae/core';
import { GaussianPrior, ScoreMatchingPrior, createInvae, fromReferenceConfig, importTorchStateDict, type InvaeOptions } from '../src/index';
import { scratchDirs } from '../../../test-support/index';

const scratch = scratchDirs('invae-imp');

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

const B = 16;
const G = 12;

function data(seed = 1) {
  return tf.tidy(() => {
    const x = tf.floor(tf.mul(tf.randomUniform([B, G], 0, 1, 'float32', seed), 15)) as tf.Tensor2D;
    const inv = tf.oneHot(tf.tensor1d(Array.from({ length: B }, (_, i) => i % 3), 'int32'), 3).toFloat() as tf.Tensor2D;
    const spur = tf.oneHot(tf.tensor1d(Array.from({ length: B }, (_, i) => i % 2), 'int32'), 2).toFloat() as tf.Tensor2D;
    return { x, inv, spur };
  });
}

const fin: InvaeOptions = { model: 'FinVAE', dataDim: G, invCovarDim: 3, spurCovarDim: 2, latentDimInv: 3, latentDimSpur: 2, hiddenDim: 16, seed: 3 };
const nfin: InvaeOptions = { ...fin, model: 'NFinVAE' };

describe('createInvae', () => {
  it('composes FinVAE from Gaussian priors and NFinVAE from the score-matching prior', () => {
    const a = createInvae(fin);
    expect(a.priors.inv).toBeInstanceOf(GaussianPrior);
    expect(a.priors.spur).toBeInstanceOf(GaussianPrior);
    expect(a.namedVariables().some((v) => v.name === 'logl_spur.fc.1.weight')).toBe(true);
    const b = createInvae({ ...nfin, hiddenDimPrior: 6, nLayersPrior: 3 });
    expect(b.priors.inv).toBeInstanceOf(ScoreMatchingPrior);
    const shapes = Object.fromEntries(b.namedVariables().map((v) => [v.name, v.variable.shape]));
    expect(shapes['t_nn.fc.2.weight']).toEqual([2 * 5, 6]); // output 2 × total latent dim, as the reference
    expect(shapes['logl_spur.fc.2.weight']).toEqual([2, 6]); // spurious prior uses the prior sizes in NFinVAE
    const c = createInvae({ ...fin, injectCovarInLatent: true });
    expect(c.priors.spur).toBeNull();
    a.dispose();
    b.dispose();
    c.dispose();
  });

  it('a few Adam steps lower the training loss of FinVAE (TC, learned prior) and NFinVAE (BN prior, reg_sm) without leaking', () => {
    const { x, inv, spur } = data();
    for (const opts of [
      { ...fin, tcBeta: 1, fixMeanPrior: false },
      { ...nfin, batchNormPrior: true, regSm: 0.1 },
    ] as InvaeOptions[]) {
      const m = createInvae(opts);
      const opt = tf.train.adam(3e-3);
      const eps = tf.randomNormal([B, 5], 0, 1, 'float32', 9) as tf.Tensor2D;
      const costs: number[] = [];
      const n0 = tf.memory().numTensors;
      for (let i = 0; i < 25; i++) {
        const cost = opt.minimize(() => m.loss(x, inv, spur, { training: true, eps, datasetSize: 100 }).loss, true, m.trainableVariables);
        costs.push(cost!.dataSync()[0]!);
        cost!.dispose();
      }
      expect(costs.every(Number.isFinite)).toBe(true);
      expect(tf.memory().numTensors - n0).toBeLessThanOrEqual(2 * m.trainableVariables.length); // Adam slots only
      const avg = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      expect(avg(costs.slice(-5)), `${opts.model}: ${costs.map((c) => c.toFixed(1)).join(' ')}`).toBeLessThan(avg(costs.slice(0, 5)));
      m.dispose();
      opt.dispose();
      eps.dispose();
    }
  });

  it('NFinVAE: the prior learns from score matching only; the encoder gets no gradient from it', () => {
    const m = createInvae({ ...nfin, klRate: 0.7 });
    const { x, inv, spur } = data(2);
    const eps = tf.randomNormal([B, 5], 0, 1, 'float32', 4) as tf.Tensor2D;
    const prior = m.priors.inv as ScoreMatchingPrior;
    const pv = prior.namedVariables().map((v) => v.variable);
    const full = tf.variableGrads(() => m.loss(x, inv, spur, { training: false, eps }).loss, pv).grads;
    const f = m.forward(x, inv, spur, { training: false, eps });
    const zInv = tf.slice(f.z, [0, 0], [-1, 3]) as tf.Tensor2D;
    const sm = tf.variableGrads(() => tf.mul(0.7, prior.scoreMatchingLoss(zInv, inv, { training: false })) as tf.Scalar, pv).grads;
    for (const v of pv) {
      // the last bias of T_NN does not change ∂log p̃/∂z, so neither loss depends on it (no gradient at all)
      const a = full[v.name] ?? tf.zerosLike(v);
      const b = sm[v.name] ?? tf.zerosLike(v);
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0], v.name).toBeLessThan(1e-4);
    }
    expect(full[prior.tNn.fc[0]!.weight.name]).toBeDefined();
    // encoder gradient is unchanged when the score-matching term is removed from the graph
    const enc = m.encoder.namedVariables().filter((v) => v.trainable).map((v) => v.variable);
    const g1 = tf.variableGrads(() => m.loss(x, inv, spur, { training: false, eps }).loss, enc).grads;
    const g2 = tf.variableGrads(() => {
      const r = m.loss(x, inv, spur, { training: false, eps });
      return tf.add(r.loss, tf.mul(-0.7, detach(r.terms.scoreMatching!))) as tf.Scalar;
    }, enc).grads;
    for (const v of enc) expect(tf.max(tf.abs(tf.sub(g1[v.name]!, g2[v.name]!))).dataSync()[0]).toBeLessThan(1e-4);
    m.dispose();
  });
});

describe('fromReferenceConfig / importTorchStateDict', () => {
  it('translates reference names, reads missing sizes off the tensors, and keeps FinVAE/NFinVAE prior flags apart', () => {
    const shapes = new Map<string, number[]>([
      ['decoder_raw_theta', [40]],
      ['t_nn.fc.0.weight', [7, 4]],
      ['t_nn.fc.1.weight', [7, 7]],
      ['t_nn.fc.2.weight', [11, 7]],
      ['t_nn.bn.0.weight', [7]],
    ]);
    const o = fromReferenceConfig(
      { model: 'NFinVAE', inv_covar_dim: 3, spur_covar_dim: 2, latent_dim: 6, latent_dim_spur: 2, fix_mean_spur_prior: false, fix_mean_prior: true, kl_rate: 0.5, unknown_option: 1 },
      shapes,
    );
    expect(o).toMatchObject({ model: 'NFinVAE', dataDim: 40, latentDimInv: 4, latentDimSpur: 2, fixMeanPrior: false, batchNormPrior: true, nLayersPrior: 3, outputDimPriorNn: 11, hiddenDimPrior: 7 });
    expect(o.klRate).toBeUndefined(); // the reference NFinVAE has no kl_rate
    expect(() => fromReferenceConfig({ model: 'VAE' })).toThrow(InvalidOptionError);
    expect(() => fromReferenceConfig({ model: 'FinVAE', latent_dim_inv: 2, inv_covar_dim: 1, spur_covar_dim: 1 })).toThrow(/data_dim/);
  });

  it('round-trips a model through a state-dict file and reports mismatches with typed errors', async () => {
    const ref = { model: 'FinVAE', genes: G, inv_covar_dim: 3, spur_covar_dim: 2, latent_dim_inv: 3, latent_dim_spur: 2, n_layers: 2, hidden_dim: 16, fix_mean_prior: false, fix_var_prior: false };
    const a = createInvae(fromReferenceConfig(ref));
    const dir = scratch.make();
    const file = path.join(dir, 'm.safetensors');
    await writeSafetensors(file, new Map([...a.getWeights()].map(([k, t]) => [k, { shape: t.shape, data: t.dataSync() as Float32Array }])));
    const b = await importTorchStateDict(file, ref);
    const { x, inv, spur } = data();
    const eps = tf.randomNormal([B, 5]) as tf.Tensor2D;
    expect(b.loss(x, inv, spur, { training: false, eps }).objective.dataSync()[0]).toBe(a.loss(x, inv, spur, { training: false, eps }).objective.dataSync()[0]);
    await expect(importTorchStateDict(file, { ...ref, hidden_dim: 8 })).rejects.toThrow(WeightMismatchError);
    await expect(importTorchStateDict(file, { ...ref, fix_var_prior: true })).rejects.toThrow(/missing: .*prior_mean_inv\.fc\.0\.weight|unexpected: .*prior_nn_inv/);
    const broken = path.join(dir, 'broken.safetensors');
    writeFileSync(broken, 'nope');
    await expect(importTorchStateDict(broken, ref)).rejects.toThrow(SafetensorsFormatError);
    a.dispose();
    b.dispose();
  });
});
