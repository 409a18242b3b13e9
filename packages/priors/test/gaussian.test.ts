import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, initEngine, tf } from '@invae/core';
import { GaussianPrior, gaussianVariant } from '../src/index';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

const u = () => tf.tensor2d([
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
  [1, 0, 0],
]);

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
}

describe('GaussianPrior variants', () => {
  it('maps the reference flags to variants', () => {
    expect(gaussianVariant(true, false)).toBe('fixed-mean');
    expect(gaussianVariant(false, true)).toBe('fixed-var');
    expect(gaussianVariant(false, false)).toBe('learned');
    expect(gaussianVariant(true, true)).toBe('fixed');
  });

  it('fixed-mean (default): mean 0, variance exp(MLP(u)) + 1e-4 from logl_<role>', () => {
    const p = new GaussianPrior({ role: 'inv', latentDim: 2, covarDim: 3, hiddenDim: 5, seed: 1 });
    expect(p.variant).toBe('fixed-mean');
    expect(p.namedVariables().map((v) => v.name)).toEqual(['logl_inv.fc.0.weight', 'logl_inv.fc.0.bias', 'logl_inv.fc.1.weight', 'logl_inv.fc.1.bias']);
    const { mean, variance } = p.params(u(), { training: false });
    expect(Array.from(mean.dataSync())).toEqual([0]);
    const [w0, b0, w1, b1] = p.namedVariables().map((v) => v.variable);
    const h = tf.relu(tf.add(tf.matMul(u(), w0!, false, true), b0!));
    const want = tf.add(tf.exp(tf.add(tf.matMul(h, w1!, false, true), b1!)), 1e-4);
    expect(variance.shape).toEqual([4, 2]);
    expect(maxDiff(variance, want)).toBeLessThan(1e-6);
  });

  it('fixed-var: mean MLP(u) from prior_mean_<role>, variance 1', () => {
    const p = new GaussianPrior({ role: 'spur', latentDim: 2, covarDim: 3, hiddenDim: 5, variant: 'fixed-var', seed: 2 });
    expect(p.namedVariables().map((v) => v.name)[0]).toBe('prior_mean_spur.fc.0.weight');
    const { mean, variance } = p.params(u(), { training: false });
    expect(mean.shape).toEqual([4, 2]);
    expect(Array.from(variance.dataSync())).toEqual([1]);
    // rows with the same covariates get the same mean
    const m = mean.arraySync() as number[][];
    expect(m[3]).toEqual(m[0]);
    expect(m[1]).not.toEqual(m[0]);
  });

  it('learned: shared prior_nn_<role> (n_layers − 1 layers, ending with the activation) and two linear heads', () => {
    const p = new GaussianPrior({ role: 'inv', latentDim: 2, covarDim: 3, hiddenDim: 5, nLayers: 2, variant: 'learned', seed: 3 });
    expect(p.namedVariables().map((v) => `${v.name}:${v.variable.shape.join('x')}`)).toEqual([
      'prior_nn_inv.fc.0.weight:5x3',
      'prior_nn_inv.fc.0.bias:5',
      'prior_mean_inv.weight:2x5',
      'prior_mean_inv.bias:2',
      'logl_inv.weight:2x5',
      'logl_inv.bias:2',
    ]);
    const [w0, b0, wm, bm, wv, bv] = p.namedVariables().map((v) => v.variable);
    const h = tf.relu(tf.add(tf.matMul(u(), w0!, false, true), b0!));
    const { mean, variance } = p.params(u(), { training: false });
    expect(maxDiff(mean, tf.add(tf.matMul(h, wm!, false, true), bm!))).toBeLessThan(1e-6);
    expect(maxDiff(variance, tf.add(tf.exp(tf.add(tf.matMul(h, wv!, false, true), bv!)), 1e-4))).toBeLessThan(1e-6);
    expect(() => new GaussianPrior({ role: 'inv', latentDim: 2, covarDim: 3, nLayers: 1, variant: 'learned' })).toThrow(InvalidOptionError);
  });

  it('fixed: N(0, I) without variables; any variant without covariates is N(0, I) too', () => {
    for (const p of [
      new GaussianPrior({ role: 'inv', latentDim: 2, covarDim: 3, variant: 'fixed' }),
      new GaussianPrior({ role: 'spur', latentDim: 2, covarDim: 0, variant: 'learned' }),
    ]) {
      expect(p.variant).toBe('fixed');
      expect(p.namedVariables()).toEqual([]);
      const { mean, variance } = p.params(null, { training: true });
      expect(Array.from(mean.dataSync())).toEqual([0]);
      expect(Array.from(variance.dataSync())).toEqual([1]);
    }
  });

  it('batch norm in the prior network (batch_norm_prior) adds bn.* variables and uses batch statistics in training', () => {
    const p = new GaussianPrior({ role: 'inv', latentDim: 2, covarDim: 3, hiddenDim: 5, batchNorm: true, seed: 4 });
    expect(p.namedVariables().some((v) => v.name === 'logl_inv.bn.1.running_var')).toBe(true);
    const a = p.params(u(), { training: true }).variance;
    const b = p.params(u(), { training: false }).variance;
    expect(maxDiff(a, b)).toBeGreaterThan(1e-3);
  });

  it('rejects bad options', () => {
    expect(() => new GaussianPrior({ role: 'x' as 'inv', latentDim: 2, covarDim: 3 })).toThrow(InvalidOptionError);
    expect(() => new GaussianPrior({ role: 'inv', latentDim: 2, covarDim: 3, variant: 'odd' as 'fixed' })).toThrow(InvalidOptionError);
  });
});
