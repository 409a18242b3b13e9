import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../src/index';
import { logNbPositiveDense } from '../src/likelihoods/negative-binomial';
import { decoderNbApplies, decoderNbLimits, decoderNbLogLik, decoderNbStats } from '../src/fused/decoder-nb';
import { fusedThreads } from '../src/fused/threads';
import { deferGradients, deferredStats, settle } from '../src/fused/deferred-gradients';
import { Rng } from '../src/random/rng';
import { buildCountsCsr, nonZeroStats } from '../src/nn/counts-csr';
import { relErr } from './support/kernels';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});
afterAll(() => fusedThreads().close());

/**
 * Arguments of the decoder's output layer + NB likelihood: b rows (a partial 16-row chunk), g genes
 * (not a multiple of 4 or 8: the kernels' tails), counts with zeros, table counts, large and
 * non-integer counts, one cell with library 0.
 */
function args(seed: number, b: number, g: number, k: number) {
  const rng = new Rng(seed);
  const fill = (n: number, f: () => number) => Float32Array.from({ length: n }, f);
  const h = fill(b * k, () => 2 * rng.uniform() - 1);
  const w = fill(g * k, () => (2 * rng.uniform() - 1) * 0.6);
  const bias = fill(g, () => 2 * rng.uniform() - 1);
  const theta = fill(g, () => Math.exp(-2 + 6 * rng.uniform()));
  const x = fill(b * g, () => {
    const u = rng.uniform();
    return u < 0.6 ? 0 : u < 0.9 ? Math.floor(1 + 10 * rng.uniform()) : u < 0.97 ? Math.floor(20 + 500 * rng.uniform()) : 0.5 + 20 * rng.uniform();
  });
  x.fill(0, 3 * g, 4 * g); // an empty cell
  const lib = new Float32Array(b);
  for (let r = 0; r < b; r++) for (let j = 0; j < g; j++) lib[r] += x[r * g + j]!;
  const dy = fill(b, () => 0.5 + rng.uniform());
  return { h, w, bias, theta, x, lib, dy };
}

type Args = ReturnType<typeof args>;

/** Value Σ dy·ll and gradients w.r.t. h, W, b, θ: fused op, or the engine composition (linear → softmax → × library → NB formula). */
function evaluate(a: Args, b: number, g: number, k: number, fused: boolean, withNonZeros = false) {
  return tf.tidy(() => {
    const x = tf.tensor2d(a.x, [b, g]);
    // as a minibatch comes: with its non-zeros found once (the op then reads them instead of scanning)
    if (withNonZeros) buildCountsCsr(x);
    const lib = tf.tensor2d(a.lib, [b, 1]);
    const dy = tf.tensor1d(a.dy);
    const f = (h: tf.Tensor, w: tf.Tensor, bias: tf.Tensor, theta: tf.Tensor) => {
      const ll = fused
        ? decoderNbLogLik(h as tf.Tensor2D, w as tf.Tensor2D, bias as tf.Tensor1D, theta as tf.Tensor1D, lib, x).logLik
        : logNbPositiveDense(x, tf.mul(tf.softmax(tf.add(tf.matMul(h as tf.Tensor2D, w as tf.Tensor2D, false, true), bias)), lib), theta);
      return tf.sum(tf.mul(ll, dy)) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(f)([tf.tensor2d(a.h, [b, k]), tf.tensor2d(a.w, [g, k]), tf.tensor1d(a.bias), tf.tensor1d(a.theta)]);
    return { value: value.dataSync()[0]!, grads: grads.map((t) => t.dataSync() as Float32Array) };
  });
}

describe('fused decoder output layer + NB likelihood', () => {
  const [b, g, k] = [37, 103, 20];
  const a = args(3, b, g, k);

  it('equals the engine composition (value and gradients w.r.t. h, W, b, θ) to 1e-4 relative', () => {
    fusedThreads(2);
    const before = decoderNbStats.forward;
    const got = evaluate(a, b, g, k, true);
    const want = evaluate(a, b, g, k, false);
    expect(decoderNbStats.forward - before).toBe(1);
    expect(Math.abs(got.value - want.value) / Math.abs(want.value)).toBeLessThan(1e-4);
    ['h', 'W', 'b', 'θ'].forEach((name, i) => expect(relErr(got.grads[i]!, want.grads[i]!), name).toBeLessThan(1e-4));
  });

  it('returns the decoder mean softmax(h · Wᵀ + b) · library to 1e-5 relative', () => {
    tf.tidy(() => {
      const [h, w, bias, theta] = [tf.tensor2d(a.h, [b, k]), tf.tensor2d(a.w, [g, k]), tf.tensor1d(a.bias), tf.tensor1d(a.theta)];
      const lib = tf.tensor2d(a.lib, [b, 1]);
      const got = decoderNbLogLik(h, w, bias, theta, lib, tf.tensor2d(a.x, [b, g])).mean;
      const want = tf.mul(tf.softmax(tf.add(tf.matMul(h, w, false, true), bias)), lib);
      expect(got.shape).toEqual([b, g]);
      expect(relErr(got.dataSync() as Float32Array, want.dataSync() as Float32Array)).toBeLessThan(1e-5);
    });
  });

  it('reads a minibatch\'s non-zeros instead of scanning its counts: the same bits on 1 and 2 threads', () => {
    for (const n of [1, 2]) {
      fusedThreads(n);
      nonZeroStats.scans = 0;
      const scanned = evaluate(a, b, g, k, true);
      expect(nonZeroStats.scans, 'forward and gradient pass scan counts that come alone').toBe(2);
      nonZeroStats.scans = 0;
      const listed = evaluate(a, b, g, k, true, true);
      expect(nonZeroStats.scans, 'no scan with the non-zeros at hand').toBe(0);
      expect(listed.value).toBe(scanned.value);
      listed.grads.forEach((t, i) => expect(Array.from(t), `gradient ${i}, ${n} thread(s)`).toEqual(Array.from(scanned.grads[i]!)));
    }
  });

  it('gives bit-identical values and gradients on 1, 2 and 3 threads', () => {
    const runs = [1, 2, 3].map((n) => {
      fusedThreads(n);
      return evaluate(a, b, g, k, true);
    });
    for (const r of runs.slice(1)) {
      expect(r.value).toBe(runs[0]!.value);
      r.grads.forEach((t, i) => expect(Buffer.from(t.buffer, t.byteOffset, t.byteLength).equals(Buffer.from(runs[0]!.grads[i]!.buffer, runs[0]!.grads[i]!.byteOffset, runs[0]!.grads[i]!.byteLength))).toBe(true));
    }
  });

  it('inside a deferral scope, leaves dW and db of variables to the worker threads: settled, they are the bits of the undeferred gradients', () => {
    fusedThreads(2);
    const want = evaluate(a, b, g, k, true);
    const vars = [tf.variable(tf.tensor2d(a.h, [b, k])), tf.variable(tf.tensor2d(a.w, [g, k])), tf.variable(tf.tensor1d(a.bias)), tf.variable(tf.tensor1d(a.theta))];
    const x = tf.tensor2d(a.x, [b, g]);
    const lib = tf.tensor2d(a.lib, [b, 1]);
    const dy = tf.tensor1d(a.dy);
    const loss = (passes: number) => () => {
      let total: tf.Tensor = tf.scalar(0);
      for (let p = 0; p < passes; p++) {
        const ll = decoderNbLogLik(vars[0] as tf.Tensor2D, vars[1] as tf.Tensor2D, vars[2] as tf.Tensor1D, vars[3] as tf.Tensor1D, lib, x).logLik;
        total = tf.add(total, tf.sum(tf.mul(ll, dy)));
      }
      return total as tf.Scalar;
    };
    try {
      const before = { ...deferredStats };
      // settled one by one (as the optimiser does), and W's read again after the scope
      let dwAfter: Float32Array | null = null;
      const got = deferGradients(() => {
        const { grads } = tf.variableGrads(loss(1), vars);
        const out = vars.map((v) => {
          settle(grads[v.name]!);
          return grads[v.name]!.dataSync().slice() as Float32Array;
        });
        dwAfter = grads[vars[1]!.name]!.dataSync().slice() as Float32Array;
        return out;
      });
      expect(deferredStats.deferred - before.deferred).toBe(1);
      expect(deferredStats.settledEarly - before.settledEarly).toBe(1);
      got.forEach((t, i) => expect(Buffer.from(t.buffer).equals(Buffer.from(want.grads[i]!.buffer, want.grads[i]!.byteOffset, want.grads[i]!.byteLength)), ['h', 'W', 'b', 'θ'][i]).toBe(true));
      expect(Buffer.from(dwAfter!.buffer).equals(Buffer.from(got[1]!.buffer))).toBe(true);
      // never settled inside the scope: written when it ends
      const late = deferGradients(() => tf.variableGrads(loss(1), vars).grads);
      expect(deferredStats.deferred - before.deferred).toBe(2);
      expect(Buffer.from((late[vars[1]!.name]!.dataSync() as Float32Array).buffer).equals(Buffer.from(got[1]!.buffer))).toBe(true);
      tf.dispose(late);
      // W read by two passes in the scope: its gradient is a sum of two, so nothing is deferred
      const twice = deferGradients(() => tf.variableGrads(loss(2), vars).grads);
      expect(deferredStats.deferred - before.deferred).toBe(2);
      const dw2 = twice[vars[1]!.name]!.dataSync() as Float32Array;
      expect(relErr(dw2, want.grads[1]!.map((v) => 2 * v))).toBeLessThan(1e-6);
      tf.dispose(twice);
      // outside a scope, or on one thread: never deferred
      tf.dispose(tf.variableGrads(loss(1), vars).grads);
      fusedThreads(1);
      tf.dispose(deferGradients(() => tf.variableGrads(loss(1), vars).grads));
      expect(deferredStats.deferred - before.deferred).toBe(2);
    } finally {
      tf.dispose([...vars, x, lib, dy]);
      fusedThreads(2);
    }
  });

  it('recomputes its forward pass when another one ran between it and its gradient', () => {
    const want = evaluate(a, b, g, k, true);
    const other = args(4, b, g, k);
    const got = tf.tidy(() => {
      const x = tf.tensor2d(a.x, [b, g]);
      const lib = tf.tensor2d(a.lib, [b, 1]);
      const f = (h: tf.Tensor, w: tf.Tensor, bias: tf.Tensor, theta: tf.Tensor) => {
        const ll = decoderNbLogLik(h as tf.Tensor2D, w as tf.Tensor2D, bias as tf.Tensor1D, theta as tf.Tensor1D, lib, x).logLik;
        // a second forward pass (other arguments) overwrites the op's buffers before the gradient pass
        decoderNbLogLik(tf.tensor2d(other.h, [b, k]), tf.tensor2d(other.w, [g, k]), tf.tensor1d(other.bias), tf.tensor1d(other.theta), tf.tensor2d(other.lib, [b, 1]), tf.tensor2d(other.x, [b, g]));
        return tf.sum(tf.mul(ll, tf.tensor1d(a.dy))) as tf.Scalar;
      };
      const before = decoderNbStats.recomputed;
      const { grads } = tf.valueAndGrads(f)([tf.tensor2d(a.h, [b, k]), tf.tensor2d(a.w, [g, k]), tf.tensor1d(a.bias), tf.tensor1d(a.theta)]);
      return { recomputed: decoderNbStats.recomputed - before, grads: grads.map((t) => t.dataSync() as Float32Array) };
    });
    expect(got.recomputed).toBe(1);
    got.grads.forEach((t, i) => expect(Array.from(t)).toEqual(Array.from(want.grads[i]!)));
  });

  it('applies only to matching float32 shapes within the size limits', () => {
    const limit = decoderNbLimits.minElements;
    const max = decoderNbLimits.maxElements;
    tf.tidy(() => {
      const w = tf.zeros([g, k]);
      decoderNbLimits.minElements = b * g + 1;
      expect(decoderNbApplies(b, w, tf.zeros([b, 1]), tf.zeros([b, g]))).toBe(false);
      decoderNbLimits.minElements = b * g;
      expect(decoderNbApplies(b, w, tf.zeros([b, 1]), tf.zeros([b, g]))).toBe(true);
      expect(decoderNbApplies(b, w, tf.zeros([b, 1]), tf.zeros([b, g + 1]))).toBe(false);
      expect(decoderNbApplies(b, w, tf.zeros([b, 2]), tf.zeros([b, g]))).toBe(false);
      expect(decoderNbApplies(b, w, tf.zeros([b, 1]), tf.zeros([b, g], 'int32'))).toBe(false);
      // above the largest size its buffers fit the shared memory for: the engine path
      decoderNbLimits.maxElements = b * g - 1;
      expect(decoderNbApplies(b, w, tf.zeros([b, 1]), tf.zeros([b, g]))).toBe(false);
      decoderNbLimits.maxElements = b * g;
      expect(decoderNbApplies(b, w, tf.zeros([b, 1]), tf.zeros([b, g]))).toBe(true);
    });
    decoderNbLimits.minElements = limit;
    decoderNbLimits.maxElements = max;
  });
});
