import { afterAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../src/index';
import { fastPaths } from '../src/nn/fast-paths';
import { normalLogPdf } from '../src/likelihoods/normal';
import { recordKernels, relErr } from './support/kernels';

afterAll(async () => {
  fastPaths.normalKernel = true;
  await initEngine({ backend: 'wasm', report: null });
});

/** Σ_j log N(x; μ, v) per row and its gradients w.r.t. x, μ, v, weighted by `up`, on the fused kernels or the engine ops. */
function evaluate(fused: boolean, x: tf.Tensor2D, mu: tf.Tensor2D, v: tf.Tensor2D, up: tf.Tensor1D) {
  fastPaths.normalKernel = fused;
  return tf.tidy(() => {
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(normalLogPdf(a, b, c), up)) as tf.Scalar)([x, mu, v]);
    const rows = normalLogPdf(x, mu, v).dataSync().slice();
    return { value: value.dataSync()[0]!, rows, grads: grads.map((g) => g.dataSync().slice()) };
  });
}

describe('fused Gaussian log-density (per row)', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`equals the engine ops' value and gradients for x, μ, v to float32 rounding (${backend}), and runs one kernel each way`, async () => {
      await initEngine({ backend, report: null });
      const [n, d] = [37, 25];
      const x = tf.randomNormal([n, d], 0, 2, 'float32', 1) as tf.Tensor2D;
      const mu = tf.randomNormal([n, d], 0, 1, 'float32', 2) as tf.Tensor2D;
      const v = tf.exp(tf.randomNormal([n, d], 0, 1.5, 'float32', 3)) as tf.Tensor2D;
      const up = tf.randomUniform([n], 0.5, 1.5, 'float32', 4) as tf.Tensor1D;
      const ops = evaluate(false, x, mu, v, up);
      const { value: fused, names } = recordKernels(() => evaluate(true, x, mu, v, up));
      expect(names.filter((k) => k === 'InvaeNormalLogPdfRows')).toHaveLength(2);
      expect(names.filter((k) => k === 'InvaeNormalLogPdfRowsGrad')).toHaveLength(1);
      expect(names.filter((k) => k === 'Log' || k === 'RealDiv')).toHaveLength(0);
      expect(Math.abs(fused.value - ops.value) / Math.abs(ops.value)).toBeLessThan(1e-6);
      expect(relErr(fused.rows, ops.rows)).toBeLessThan(1e-6);
      ['x', 'μ', 'v'].forEach((name, i) => expect(relErr(fused.grads[i]!, ops.grads[i]!), name).toBeLessThan(1e-6));
      tf.dispose([x, mu, v, up]);
    });
  }

  it('keeps the engine ops for broadcast arguments, numbers, 3-D input and reduce: false', async () => {
    await initEngine({ backend: 'wasm', report: null });
    fastPaths.normalKernel = true;
    const x = tf.randomNormal([4, 3], 0, 1, 'float32', 5) as tf.Tensor2D;
    const { names } = recordKernels(() =>
      tf.tidy(() => {
        const full = tf.ones([4, 3]);
        expect(normalLogPdf(x, tf.zeros([3]), full).shape).toEqual([4]);
        expect(normalLogPdf(x, 0, 1).shape).toEqual([4]);
        expect(normalLogPdf(tf.reshape(x, [2, 2, 3]), tf.zeros([2, 2, 3]), tf.ones([2, 2, 3])).shape).toEqual([2, 2]);
        expect(normalLogPdf(x, tf.zeros([4, 3]), full, { reduce: false }).shape).toEqual([4, 3]);
      }),
    );
    expect(names.filter((k) => k.startsWith('InvaeNormalLogPdf'))).toHaveLength(0);
    x.dispose();
  });
});
