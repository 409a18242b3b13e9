import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, initEngine, tf } from '@invae/core';
import { ScoreMatchingPrior } from '../src/index';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

const B = 5;
const D = 3;

function setup(activation: 'relu' | 'lrelu', batchNorm = false, regSm = 0) {
  const prior = new ScoreMatchingPrior({ latentDim: D, covarDim: 2, outputDim: 7, hiddenDim: 9, nLayers: 3, activation, batchNorm, regSm, seed: 5 });
  if (batchNorm) {
    // non-trivial running statistics
    for (const v of prior.namedVariables()) {
      if (v.name.endsWith('running_mean')) v.variable.assign(tf.randomNormal(v.variable.shape, 0, 0.3, 'float32', 8));
      if (v.name.endsWith('running_var')) v.variable.assign(tf.randomUniform(v.variable.shape, 0.5, 2, 'float32', 9));
    }
  }
  const z = tf.randomNormal([B, D], 0, 1.5, 'float32', 6) as tf.Tensor2D;
  const u = tf.tensor2d([
    [1, 0],
    [0, 1],
    [1, 0],
    [0, 1],
    [1, 0],
  ]);
  return { prior, z, u };
}

/** Activation pattern of T_NN at z (which side of every kink each unit is on). */
function pattern(prior: ScoreMatchingPrior, z: tf.Tensor2D): string {
  return prior.tNn
    .trace(z, { training: false })
    .layers.map((l) => Array.from(l.preActivation.dataSync(), (v) => (v > 0 ? '1' : '0')).join(''))
    .join('|');
}

/** Central finite differences of f: [B, D] → [B] (rows independent), per coordinate. */
function fdGrad(f: (z: tf.Tensor2D) => Float32Array, z: tf.Tensor2D, h: number, prior?: ScoreMatchingPrior): number[][] {
  const base = z.arraySync();
  const out = base.map((r) => r.map(() => 0));
  for (let j = 0; j < D; j++) {
    const plus = tf.tensor2d(base.map((r) => r.map((v, k) => (k === j ? v + h : v))));
    const minus = tf.tensor2d(base.map((r) => r.map((v, k) => (k === j ? v - h : v))));
    const fp = f(plus);
    const fm = f(minus);
    // a step across a kink of the piecewise-linear network is not a derivative: mark it NaN (skipped)
    const crossed = prior ? pattern(prior, plus) !== pattern(prior, minus) : false;
    for (let b = 0; b < B; b++) out[b]![j] = crossed ? NaN : (fp[b]! - fm[b]!) / (2 * h);
  }
  return out;
}

/** Compares where the finite difference is defined; returns how many entries were compared. */
function compare(got: number[][], fd: number[][], tol: number): number {
  let n = 0;
  for (let b = 0; b < B; b++)
    for (let j = 0; j < D; j++) {
      if (Number.isNaN(fd[b]![j]!)) continue;
      n++;
      expect(Math.abs(got[b]![j]! - fd[b]![j]!), `[${b}, ${j}]: ${got[b]![j]} vs FD ${fd[b]![j]}`).toBeLessThan(tol * Math.max(1, Math.abs(fd[b]![j]!)));
    }
  return n;
}

describe('ScoreMatchingPrior', () => {
  it('names its networks t_nn / params_t_nn / params_t_suff with the reference shapes', () => {
    const { prior } = setup('relu');
    const shapes = Object.fromEntries(prior.namedVariables().map((v) => [v.name, v.variable.shape]));
    expect(shapes['t_nn.fc.0.weight']).toEqual([9, D]);
    expect(shapes['t_nn.fc.2.weight']).toEqual([7, 9]);
    expect(shapes['params_t_nn.fc.2.weight']).toEqual([7, 9]);
    expect(shapes['params_t_suff.fc.2.weight']).toEqual([2 * D, 9]);
  });

  it('log p̃ = T(z)·λ(u) + [z, z²]·λ_suff(u)', () => {
    const { prior, z, u } = setup('relu');
    const lp = prior.logDensity(z, u, { training: false });
    const t = prior.tNn.forward(z, { training: false });
    const lam = prior.paramsTNn.forward(u, { training: false });
    const s = prior.paramsTSuff.forward(u, { training: false });
    const want = tf.add(tf.sum(tf.mul(t, lam), 1), tf.sum(tf.mul(tf.concat([z, tf.square(z)], 1), s), 1));
    expect(tf.max(tf.abs(tf.sub(lp, want))).dataSync()[0]).toBeLessThan(1e-5);
  });

  for (const [activation, batchNorm] of [
    ['relu', false],
    ['lrelu', false],
    ['lrelu', true],
  ] as const) {
    it(`analytic ∂log p̃/∂z and second derivatives match finite differences (${activation}${batchNorm ? ', BatchNorm eval' : ''})`, () => {
      const { prior, z, u } = setup(activation, batchNorm);
      const terms = prior.scoreTerms(z, u, { training: false });
      const f = (zz: tf.Tensor2D) => prior.logDensity(zz, u, { training: false }).dataSync() as Float32Array;
      const h = 1e-3;
      const fd = fdGrad(f, z, h, prior);
      expect(compare(terms.grad.arraySync(), fd, 1e-2)).toBeGreaterThanOrEqual(D);
      // the reference's second-derivative term is grad of Σⱼ ∂log p̃/∂zⱼ (a Hessian row sum); compare with FD of the analytic gradient
      const gsum = (zz: tf.Tensor2D) => tf.sum(prior.scoreTerms(zz, u, { training: false }).grad, 1).dataSync() as Float32Array;
      const fd2 = fdGrad(gsum, z, h, prior);
      // and the Hessian diagonal
      const diag = z.arraySync().map((r) => r.map(() => 0));
      for (let j = 0; j < D; j++) {
        const gj = (zz: tf.Tensor2D) => tf.slice(prior.scoreTerms(zz, u, { training: false }).grad, [0, j], [-1, 1]).reshape([-1]).dataSync() as Float32Array;
        const fdj = fdGrad(gj, z, h, prior);
        for (let b = 0; b < B; b++) diag[b]![j] = fdj[b]![j]!;
      }
      const s2 = terms.secondDerivative.arraySync();
      expect(compare(s2, fd2, 1e-2)).toBeGreaterThanOrEqual(D);
      expect(compare(s2, diag, 1e-2)).toBeGreaterThanOrEqual(D);
    });
  }

  it('the score-matching loss is mean Σⱼ(∂² + ½(∂)² + reg·(∂²)²) and its parameter gradients match finite differences', () => {
    const { prior, z, u } = setup('lrelu', false, 0.3);
    const t = prior.scoreTerms(z, u, { training: false });
    const want = tf.mean(tf.sum(tf.add(tf.add(t.secondDerivative, tf.mul(0.5, tf.square(t.grad))), tf.mul(0.3, tf.square(t.secondDerivative))), 1));
    const loss = prior.scoreMatchingLoss(z, u, { training: false });
    expect(loss.dataSync()[0]).toBeCloseTo(want.dataSync()[0]!, 4);
    const vars = prior.namedVariables();
    const { grads } = tf.variableGrads(() => prior.scoreMatchingLoss(z, u, { training: false }), vars.map((v) => v.variable));
    // check a few coordinates of weights in every network (first layer of T_NN reaches the loss only through ∂T/∂z)
    for (const name of ['t_nn.fc.0.weight', 't_nn.fc.2.weight', 'params_t_nn.fc.1.weight', 'params_t_suff.fc.2.bias']) {
      const v = vars.find((x) => x.name === name)!.variable;
      const g = grads[v.name]!.dataSync();
      const orig = v.dataSync().slice();
      let checked = 0;
      for (let idx = 0; idx < orig.length && checked < 2; idx++) {
        const h = 1e-3;
        const at = (delta: number) => {
          const w = orig.slice();
          w[idx]! += delta;
          v.assign(tf.tensor(w, v.shape));
          return [prior.scoreMatchingLoss(z, u, { training: false }).dataSync()[0]!, pattern(prior, z)] as const;
        };
        const [lp, pp] = at(h);
        const [lm, pm] = at(-h);
        v.assign(tf.tensor(orig, v.shape));
        if (pp !== pm) continue; // the step crossed a kink of T_NN
        const fd = (lp - lm) / (2 * h);
        checked++;
        expect(Math.abs(g[idx]! - fd), `${name}[${idx}]: autodiff ${g[idx]} vs FD ${fd}`).toBeLessThan(2e-2 * Math.max(1, Math.abs(fd)));
      }
      expect(checked, name).toBe(2);
    }
  });

  it('frozen log-density: gradients reach z but not the prior parameters', () => {
    const { prior, z, u } = setup('relu');
    const vars = prior.namedVariables().map((v) => v.variable);
    const { grads } = tf.variableGrads(() => tf.sum(prior.logDensity(z, u, { training: false, frozen: true })) as tf.Scalar, vars);
    for (const v of vars) expect(tf.max(tf.abs(grads[v.name]!)).dataSync()[0]).toBe(0);
    const gz = tf.grad((zz: tf.Tensor) => tf.sum(prior.logDensity(zz as tf.Tensor2D, u, { training: false, frozen: true })))(z);
    const analytic = prior.scoreTerms(z, u, { training: false }).grad;
    expect(tf.max(tf.abs(tf.sub(gz, analytic))).dataSync()[0]).toBeLessThan(1e-4);
  });

  it('needs covariates', () => {
    expect(() => new ScoreMatchingPrior({ latentDim: 2, covarDim: 0, outputDim: 4 })).toThrow(InvalidOptionError);
    const { prior, z } = setup('relu');
    expect(() => prior.logDensity(z, null, { training: false })).toThrow(InvalidOptionError);
  });

  it('does not leak tensors', () => {
    const { prior, z, u } = setup('lrelu', true, 0.1);
    const n0 = tf.memory().numTensors;
    const l = prior.scoreMatchingLoss(z, u, { training: true });
    expect(tf.memory().numTensors).toBe(n0 + 1);
    l.dispose();
  });
});
