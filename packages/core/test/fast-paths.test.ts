import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf, InvaeModel, withDropoutSeed } from '../src/index';
import { fastPaths } from '../src/nn/fast-paths';
import { QuadraticEnergyPrior, StandardNormalPrior } from './model-helpers';
import { dropoutMask } from '../src/nn/dropout-mask';
import { Rng } from '../src/random/rng';
import { setSimdKernelsEnabled } from '../src/wasm/kernels';

const ALL = { ...fastPaths };
// every switch that computes the same numbers both ways (the dropout-mask kernel draws another random stream)
const setAll = (on: boolean) => {
  for (const k of Object.keys(ALL) as (keyof typeof fastPaths)[]) if (k !== 'dropoutKernel') fastPaths[k] = on;
};

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});
afterEach(() => Object.assign(fastPaths, ALL));

function counts(b: number, g: number, seed: number): tf.Tensor2D {
  const rng = new Rng(seed);
  const v = new Float32Array(b * g).map(() => (rng.uniform() < 0.55 ? 0 : Math.floor(1 + 30 * rng.uniform() ** 3)));
  for (let j = 0; j < g; j++) v[j] = 0; // one cell without counts (library size 0)
  return tf.tensor2d(v, [b, g]);
}

describe('model with and without the fast paths', () => {
  for (const model of ['FinVAE', 'NFinVAE'] as const) {
    it(`${model}: same loss, gradients and BatchNorm statistics; no tensor leaks`, () => {
      const b = 12;
      const g = 40;
      const x = counts(b, g, 5);
      const inv = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], 'int32'), 3).toFloat() as tf.Tensor2D;
      const eps = tf.randomNormal([b, 6], 0, 1, 'float32', 7) as tf.Tensor2D;
      const build = () =>
        new InvaeModel(
          { model, dataDim: g, invCovarDim: 3, spurCovarDim: 0, latentDimInv: 4, latentDimSpur: 2, hiddenDim: 16, nLayers: 2, batchNorm: true, dropoutRate: 0.1, seed: 3 },
          { inv: model === 'FinVAE' ? new StandardNormalPrior(4) : new QuadraticEnergyPrior(4, 3), spur: new StandardNormalPrior(2) },
        );
      const run = (on: boolean) => {
        setAll(on);
        const m = build();
        const vars = m.trainableVariables;
        const { value, grads } = tf.variableGrads(() => withDropoutSeed(11, () => m.loss(x, inv, null, { training: true, eps }).loss), vars);
        const out = {
          loss: value.dataSync()[0]!,
          grads: vars.map((v) => Array.from(grads[v.name]!.dataSync())),
          stats: m.namedVariables().filter((v) => !v.trainable).map((v) => Array.from(v.variable.dataSync())),
        };
        value.dispose();
        tf.dispose(grads);
        // tensor count is stable across further steps
        const before = tf.memory().numTensors;
        for (let i = 0; i < 2; i++) {
          const r = tf.variableGrads(() => withDropoutSeed(12 + i, () => m.loss(x, inv, null, { training: true, eps }).loss), vars);
          r.value.dispose();
          tf.dispose(r.grads);
        }
        expect(tf.memory().numTensors, 'tensors after two more steps').toBe(before);
        m.dispose();
        return out;
      };
      const fast = run(true);
      const plain = run(false);
      expect(Math.abs(fast.loss - plain.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(plain.loss)));
      fast.grads.forEach((gv, i) => {
        const ref = plain.grads[i]!;
        // (the bias of a layer followed by BatchNorm has an exactly-zero gradient, i.e. rounding noise: absolute floor)
        const scale = Math.max(...ref.map(Math.abs));
        gv.forEach((v, k) => expect(Math.abs(v - ref[k]!), `variable ${i} element ${k}`).toBeLessThan(1e-3 * scale + 1e-5));
      });
      fast.stats.forEach((sv, i) => sv.forEach((v, k) => expect(Math.abs(v - plain.stats[i]![k]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(v)))));
      tf.dispose([x, inv, eps]);
    });
  }
});

describe('dropout mask kernel', () => {
  it('is 0 or 1/(1−p), keeps a fraction 1−p, repeats for a seed and differs between seeds', () => {
    const p = 0.3;
    const a = dropoutMask(200, 50, p, 123).dataSync();
    const b = dropoutMask(200, 50, p, 123).dataSync();
    const c = dropoutMask(200, 50, p, 124).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const scale = Math.fround(1 / (1 - p));
    expect(a.every((v) => v === 0 || v === scale)).toBe(true);
    const kept = a.filter((v) => v !== 0).length / a.length;
    expect(Math.abs(kept - (1 - p))).toBeLessThan(0.02); // 10 000 draws: sd ≈ 0.005
    // neighbouring seeds and positions are not correlated: keep-rate of the product of two streams ≈ (1−p)²
    const both = a.filter((v, i) => v !== 0 && c[i] !== 0).length / a.length;
    expect(Math.abs(both - (1 - p) ** 2)).toBeLessThan(0.02);
  });

  it('its SIMD kernel (wasm) writes the JavaScript kernel\'s mask bit for bit, for any length, seed and rate', () => {
    for (const [rows, cols, p, seed] of [[256, 128, 0.1, 7], [37, 13, 0.5, -5], [1, 3, 0.3, 2 ** 31 - 1], [3, 5, 0, 99], [20, 20, 0.99, 0]] as const) {
      const simd = dropoutMask(rows, cols, p, seed);
      setSimdKernelsEnabled(false);
      const js = dropoutMask(rows, cols, p, seed);
      setSimdKernelsEnabled(true);
      const [a, b] = [simd, js].map((t) => Buffer.from((t.dataSync() as Float32Array).buffer));
      expect(a.equals(b!), `${rows} × ${cols}, p ${p}, seed ${seed}`).toBe(true);
      tf.dispose([simd, js]);
    }
  });
});
