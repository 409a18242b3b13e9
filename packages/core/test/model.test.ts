import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  InputShapeError,
  InvaeModel,
  InvalidOptionError,
  WeightMismatchError,
  initEngine,
  loadTorchStateDict,
  tf,
  writeSafetensors,
  type InvaeModelConfig,
} from '../src/index';
import { QuadraticEnergyPrior, StandardNormalPrior } from './model-helpers';
import { scratchDirs } from '../../../test-support/index';

const scratch = scratchDirs('invae-sd');

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

const B = 6;
const G = 10;
const base: InvaeModelConfig = { model: 'FinVAE', dataDim: G, invCovarDim: 2, spurCovarDim: 3, latentDimInv: 3, latentDimSpur: 2, nLayers: 2, hiddenDim: 8, seed: 1 };

function finvae(over: Partial<InvaeModelConfig> = {}) {
  const c = { ...base, ...over };
  return new InvaeModel(c, { inv: new StandardNormalPrior(c.latentDimInv), spur: c.injectCovarInLatent ? null : new StandardNormalPrior(c.latentDimSpur) });
}

function batch(seed = 3) {
  return tf.tidy(() => {
    const x = tf.floor(tf.mul(tf.randomUniform([B, G], 0, 1, 'float32', seed), 20)) as tf.Tensor2D;
    const inv = tf.oneHot(tf.tensor1d([0, 1, 0, 1, 1, 0], 'int32'), 2).toFloat() as tf.Tensor2D;
    const spur = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3).toFloat() as tf.Tensor2D;
    const eps = tf.randomNormal([B, 5], 0, 1, 'float32', seed + 1) as tf.Tensor2D;
    return { x, inv, spur, eps };
  });
}

describe('InvaeModel (FinVAE wiring)', () => {
  it('names its variables like the reference state_dict', () => {
    const m = finvae();
    const names = m.namedVariables().map((v) => v.name);
    expect(names).toContain('shared_encoder.fc.0.weight');
    expect(names).toContain('shared_encoder.bn.0.running_var');
    expect(names).toContain('g.weight');
    expect(names).toContain('logv.bias');
    expect(names).toContain('decoder_raw_mean.fc.1.weight');
    expect(names).toContain('decoder_freq.0.weight');
    expect(names).toContain('decoder_raw_theta');
    expect(names.filter((n) => n.startsWith('shared_encoder.fc.') && n.endsWith('weight'))).toHaveLength(1); // n_layers − 1
    const w = m.namedVariables().find((v) => v.name === 'shared_encoder.fc.0.weight')!;
    expect(w.variable.shape).toEqual([8, G + 2 + 3]);
    expect(m.trainableVariables.length).toBe(m.namedVariables().filter((v) => !v.name.includes('running')).length);
    m.dispose();
  });

  it('forward: shapes, z = mean + eps·√var, decoder mean sums to the library size', () => {
    const m = finvae();
    const { x, inv, spur, eps } = batch();
    const f = m.forward(x, inv, spur, { training: false, eps });
    expect(f.encoderMean.shape).toEqual([B, 5]);
    expect(f.z.shape).toEqual([B, 5]);
    expect(f.theta!.shape).toEqual([G]);
    expect(f.logPxZ.shape).toEqual([B]);
    const z2 = tf.add(f.encoderMean, tf.mul(eps, tf.sqrt(f.encoderVar)));
    expect(tf.max(tf.abs(tf.sub(z2, f.z))).dataSync()[0]).toBeLessThan(1e-6);
    const rows = tf.sum(f.decoderMean, 1).dataSync();
    const lib = tf.sum(x, 1).dataSync();
    rows.forEach((r, i) => expect(r).toBeCloseTo(lib[i]!, 3));
    expect(Math.min(...f.encoderVar.dataSync())).toBeGreaterThanOrEqual(1e-4);
    m.dispose();
  });

  it('objective = mean(log p(x|z) + β(log p(z) − log q(z|x))) with an N(0, I) prior, loss = −objective', () => {
    const m = finvae({ klRate: 0.3 });
    const { x, inv, spur, eps } = batch();
    const r = m.loss(x, inv, spur, { training: false, eps });
    const f = r.forward;
    const lp = tf.sum(tf.mul(-0.5, tf.add(Math.log(2 * Math.PI), tf.square(f.z))), 1);
    const lq = tf.sum(tf.mul(-0.5, tf.add(tf.add(Math.log(2 * Math.PI), tf.log(f.encoderVar)), tf.div(tf.square(tf.sub(f.z, f.encoderMean)), f.encoderVar))), 1);
    const want = tf.mean(tf.add(f.logPxZ, tf.mul(0.3, tf.sub(lp, lq)))).dataSync()[0]!;
    expect(r.objective.dataSync()[0]).toBeCloseTo(want, 3);
    expect(r.loss.dataSync()[0]).toBeCloseTo(-want, 3);
    expect(Object.keys(r.terms).sort()).toEqual(['logPxZ', 'logPz', 'logQz']);
    m.dispose();
  });

  it("elbo 'kl_div' uses the analytic KL to N(0, I)", () => {
    const m = finvae({ elboVersion: 'kl_div' });
    const { x, inv, spur, eps } = batch();
    const r = m.loss(x, inv, spur, { training: false, eps });
    const f = r.forward;
    const kl = tf.mul(0.5, tf.sum(tf.sub(tf.add(f.encoderVar, tf.square(f.encoderMean)), tf.add(1, tf.log(f.encoderVar))), 1));
    expect(r.terms.kl!.dataSync()[0]).toBeCloseTo(tf.mean(kl).dataSync()[0]!, 4);
    expect(r.objective.dataSync()[0]).toBeCloseTo(tf.mean(tf.sub(f.logPxZ, kl)).dataSync()[0]!, 3);
    m.dispose();
  });

  it('the total-correlation term needs datasetSize and is estimated by minibatch-weighted sampling', () => {
    const m = finvae({ tcBeta: 2 });
    const { x, inv, spur, eps } = batch();
    expect(() => m.loss(x, inv, spur, { training: false, eps })).toThrow(InvalidOptionError);
    m.warmUp(0, 10); // warmed-up weight 0 still needs the dataset size, as in the reference
    expect(() => m.loss(x, inv, spur, { training: false, eps })).toThrow(InvalidOptionError);
    m.warmUp(10, 10);
    const r = m.loss(x, inv, spur, { training: false, eps, datasetSize: 100 });
    // brute-force the estimator with plain loops
    const z = r.forward.z.arraySync();
    const mu = r.forward.encoderMean.arraySync();
    const v = r.forward.encoderVar.arraySync();
    const lse = (a: number[]) => {
      const mx = Math.max(...a);
      return mx + Math.log(a.reduce((s, x) => s + Math.exp(x - mx), 0));
    };
    const logq = (i: number, j: number, dims: number[]) =>
      dims.reduce((s, k) => s - 0.5 * (Math.log(2 * Math.PI) + Math.log(v[j]![k]!) + (z[i]![k]! - mu[j]![k]!) ** 2 / v[j]![k]!), 0);
    const all = [0, 1, 2, 3, 4];
    let tc = 0;
    for (let i = 0; i < B; i++) {
      const f = (dims: number[]) => lse(Array.from({ length: B }, (_, j) => logq(i, j, dims))) - Math.log(B * 100);
      tc += f(all) - f([0, 1, 2]) - f([3, 4]);
    }
    expect(r.terms.tc!.dataSync()[0]).toBeCloseTo(tc / B, 3);
    m.dispose();
  });

  it('gradients reach every trainable variable and stay finite; training mode updates BN running stats', () => {
    const m = finvae({ tcBeta: 1 });
    const { x, inv, spur, eps } = batch();
    const rm = m.namedVariables().find((v) => v.name === 'shared_encoder.bn.0.running_mean')!.variable;
    const before = rm.dataSync().slice();
    const { value, grads } = tf.variableGrads(() => m.loss(x, inv, spur, { training: true, eps, datasetSize: 50 }).loss, m.trainableVariables);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    for (const v of m.trainableVariables) {
      const g = grads[v.name]!;
      expect(g, v.name).toBeDefined();
      expect(g.dataSync().every(Number.isFinite)).toBe(true);
    }
    const gTheta = grads[m.namedVariables().find((v) => v.name === 'decoder_raw_theta')!.variable.name]!;
    expect(tf.max(tf.abs(gTheta)).dataSync()[0]).toBeGreaterThan(0);
    expect(Array.from(rm.dataSync())).not.toEqual(Array.from(before));
    m.dispose();
  });

  it('does not leak tensors in forward, loss and encode', () => {
    const m = finvae({ tcBeta: 1 });
    const { x, inv, spur, eps } = batch();
    const n0 = tf.memory().numTensors;
    const r = m.loss(x, inv, spur, { training: true, eps, datasetSize: 50 });
    const owned = [r.loss, r.objective, ...Object.values(r.terms), ...Object.values(r.forward)] as tf.Tensor[];
    expect(tf.memory().numTensors - n0).toBe(owned.length);
    owned.forEach((t) => t.dispose());
    const e = m.encode(x, inv, spur, 'inv');
    expect(e.shape).toEqual([B, 3]);
    e.dispose();
    expect(tf.memory().numTensors).toBe(n0);
    m.dispose();
  });

  it('encode returns the full, invariant and spurious latent means', () => {
    const m = finvae();
    const { x, inv, spur } = batch();
    const full = m.encode(x, inv, spur).arraySync();
    const i = m.encode(x, inv, spur, 'inv').arraySync();
    const s = m.encode(x, inv, spur, 'spur').arraySync();
    expect(i[2]).toEqual(full[2]!.slice(0, 3));
    expect(s[2]).toEqual(full[2]!.slice(3));
    m.dispose();
  });

  it('getWeights / setWeights round-trip, and mismatches are reported without assigning anything', () => {
    const a = finvae({ seed: 1 });
    const b = finvae({ seed: 2 });
    const { x, inv, spur, eps } = batch();
    b.setWeights(a.getWeights());
    const oa = a.loss(x, inv, spur, { training: false, eps }).objective.dataSync()[0];
    const ob = b.loss(x, inv, spur, { training: false, eps }).objective.dataSync()[0];
    expect(ob).toBe(oa);
    const w = b.getWeights();
    w.delete('g.bias');
    w.set('extra.weight', tf.zeros([1]));
    w.set('logv.weight', tf.zeros([2, 2]));
    const snapshot = b.namedVariables().find((v) => v.name === 'decoder_raw_theta')!.variable.dataSync().slice();
    w.set('decoder_raw_theta', tf.zeros([G]));
    let err: unknown;
    try {
      b.setWeights(w, { source: 'test' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeightMismatchError);
    const e = err as WeightMismatchError;
    expect(e.missing).toEqual(['g.bias']);
    expect(e.unexpected).toEqual(['extra.weight']);
    expect(e.conflicts[0]).toMatch(/logv\.weight: shape \[2, 2\], expected \[5, 8\]/);
    expect(Array.from(b.namedVariables().find((v) => v.name === 'decoder_raw_theta')!.variable.dataSync())).toEqual(Array.from(snapshot));
    a.dispose();
    b.dispose();
  });

  it('loadTorchStateDict reads a safetensors state dict (weights written by getWeights)', async () => {
    const a = finvae({ seed: 4 });
    const b = finvae({ seed: 5 });
    const file = path.join(scratch.make(), 'sd.safetensors');
    const w = a.getWeights();
    await writeSafetensors(file, new Map([...w].map(([k, t]) => [k, { shape: t.shape, data: t.dataSync() as Float32Array }])));
    await loadTorchStateDict(b, file);
    const { x, inv, spur, eps } = batch();
    expect(b.loss(x, inv, spur, { training: false, eps }).objective.dataSync()[0]).toBe(a.loss(x, inv, spur, { training: false, eps }).objective.dataSync()[0]);
    const other = finvae({ hiddenDim: 4 });
    await expect(loadTorchStateDict(other, file)).rejects.toThrow(WeightMismatchError);
    a.dispose();
    b.dispose();
    other.dispose();
  });

  it('inject_covar_in_latent feeds [z, u_spur] to the decoder and uses no spurious prior', () => {
    const m = finvae({ injectCovarInLatent: true, latentDimSpur: 0 });
    const w = m.namedVariables().find((v) => v.name === 'decoder_raw_mean.fc.0.weight')!;
    expect(w.variable.shape).toEqual([8, 3 + 3]);
    const { x, inv, spur } = batch();
    const eps = tf.randomNormal([B, 3]) as tf.Tensor2D;
    const r = m.loss(x, inv, spur, { training: false, eps });
    expect(Number.isFinite(r.objective.dataSync()[0])).toBe(true);
    m.dispose();
  });

  it('normal decoder: log p(x|z) is a Gaussian with variance 0.01 and the encoder sees x unlogged', () => {
    const m = finvae({ decoderDist: 'normal' });
    expect(m.namedVariables().some((v) => v.name === 'f.fc.1.weight')).toBe(true);
    const { x, inv, spur, eps } = batch();
    const f = m.forward(x, inv, spur, { training: false, eps });
    expect(f.theta).toBeUndefined();
    const want = tf.sum(tf.mul(-0.5, tf.add(Math.log(2 * Math.PI * 0.01), tf.div(tf.square(tf.sub(x, f.decoderMean)), 0.01))), 1);
    expect(tf.max(tf.abs(tf.sub(want, f.logPxZ))).dataSync()[0]).toBeLessThan(1e-2);
    m.dispose();
  });

  it('validates configuration, priors and inputs with typed errors', () => {
    expect(() => finvae({ nLayers: 1 })).toThrow(InvalidOptionError);
    expect(() => finvae({ decoderDist: 'poisson' as 'nb' })).toThrow(InvalidOptionError);
    expect(() => new InvaeModel(base, { inv: new StandardNormalPrior(2), spur: new StandardNormalPrior(2) })).toThrow(/latentDimInv/);
    expect(() => new InvaeModel(base, { inv: new StandardNormalPrior(3), spur: null })).toThrow(/spurious prior is required/);
    expect(() => new InvaeModel(base, { inv: new QuadraticEnergyPrior(3, 2), spur: new StandardNormalPrior(2) })).toThrow(/Gaussian invariant prior/);
    expect(() => new InvaeModel({ ...base, model: 'NFinVAE', elboVersion: 'kl_div' }, { inv: new QuadraticEnergyPrior(3, 2), spur: new StandardNormalPrior(2) })).toThrow(InvalidOptionError);
    const m = finvae();
    const { x, inv, spur } = batch();
    expect(() => m.forward(tf.zeros([B, G + 1]) as tf.Tensor2D, inv, spur, { training: false })).toThrow(InputShapeError);
    expect(() => m.forward(x, null, spur, { training: false })).toThrow(/invCovar: expected \[6, 2\], got null/);
    expect(() => m.forward(x, inv, spur, { training: false, eps: tf.zeros([B, 4]) as tf.Tensor2D })).toThrow(/eps/);
    m.dispose();
  });

  it('warm-up scales β and tc_β linearly up to their configured values', () => {
    const m = finvae({ klRate: 0.5, tcBeta: 2 });
    m.warmUp(25, 100);
    expect(m.hyperparameters).toEqual({ beta: 0.125, tcBeta: 0.5 });
    m.warmUp(300, 100);
    expect(m.hyperparameters).toEqual({ beta: 0.5, tcBeta: 2 });
    m.dispose();
  });
});

describe('InvaeModel (NFinVAE wiring)', () => {
  const nconf: InvaeModelConfig = { ...base, model: 'NFinVAE', normalizeConstant: 2 };

  it('uses x_y_e_encoder with n_layers layers and heads latent_mean / latent_log_var', () => {
    const m = new InvaeModel(nconf, { inv: new QuadraticEnergyPrior(3, 2), spur: new StandardNormalPrior(2) });
    const names = m.namedVariables().map((v) => v.name);
    expect(names.filter((n) => /^x_y_e_encoder\.fc\.\d+\.weight$/.test(n))).toHaveLength(2);
    expect(names).toContain('latent_mean.weight');
    expect(names).toContain('latent_log_var.bias');
    m.dispose();
  });

  it('objective = mean(...)/normalize_constant − β·score matching; the prior trains by score matching only', () => {
    const prior = new QuadraticEnergyPrior(3, 2);
    const m = new InvaeModel(nconf, { inv: prior, spur: new StandardNormalPrior(2) });
    const { x, inv, spur, eps } = batch();
    const r = m.loss(x, inv, spur, { training: false, eps });
    const t = Object.fromEntries(Object.entries(r.terms).map(([k, v]) => [k, v.dataSync()[0]!]));
    expect(r.objective.dataSync()[0]).toBeCloseTo((t.logPxZ! + t.logPz! - t.logQz!) / 2 - t.scoreMatching!, 3);
    // d loss / d a must equal d(score matching)/d a: the ELBO's prior density is a frozen copy
    const { grads } = tf.variableGrads(() => m.loss(x, inv, spur, { training: false, eps }).loss, [prior.a]);
    const zInv = tf.slice(r.forward.z, [0, 0], [-1, 3]);
    const a = prior.a.dataSync()[0]!;
    const want = tf.mean(tf.sum(tf.add(-1, tf.mul(a, tf.square(zInv))), 1)).dataSync()[0]!; // d/da of mean Σ(−a + ½a²z²)
    expect(grads[prior.a.name]!.dataSync()[0]).toBeCloseTo(want, 4);
    m.dispose();
  });
});
