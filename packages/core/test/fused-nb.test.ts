import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf, logNbPositive } from '../src/index';
import { fastPaths } from '../src/nn/fast-paths';
import { threadedNbLimits, threadedNbStats } from '../src/likelihoods/nb-fused';
import { fusedThreads } from '../src/fused/threads';
import { Rng } from '../src/random/rng';

const LIMITS = { ...threadedNbLimits };
const SWITCHES = { ...fastPaths };

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});
afterEach(() => {
  Object.assign(fastPaths, SWITCHES);
  Object.assign(threadedNbLimits, LIMITS);
});
afterAll(() => fusedThreads().close());

/** NB arguments with zeros, table counts (1…16), large and non-integer counts (the kernels' every branch). */
function args(seed: number, b: number, g: number) {
  const rng = new Rng(seed);
  const x = new Float32Array(b * g);
  const mu = new Float32Array(b * g);
  const theta = new Float32Array(g);
  for (let j = 0; j < g; j++) theta[j] = Math.exp(-3 + 8.5 * rng.uniform());
  for (let i = 0; i < b * g; i++) {
    const u = rng.uniform();
    x[i] = u < 0.6 ? 0 : u < 0.85 ? Math.floor(1 + 10 * rng.uniform()) : u < 0.95 ? Math.floor(50 + 5000 * rng.uniform()) : 0.5 + 20 * rng.uniform();
    mu[i] = Math.exp(-21 + 28 * rng.uniform());
  }
  return { x, mu, theta };
}

/** Value and gradients (w.r.t. μ and θ) of Σ_cells w·log NB. */
function evaluate(a: ReturnType<typeof args>, b: number, g: number) {
  return tf.tidy(() => {
    const x = tf.tensor2d(a.x, [b, g]);
    const mu = tf.tensor2d(a.mu, [b, g]);
    const theta = tf.tensor1d(a.theta);
    const w = tf.tensor1d(Array.from({ length: b }, (_, i) => 0.5 + ((i * 7) % 5)));
    const value = logNbPositive(x, mu, theta).dataSync().slice() as Float32Array;
    const [dmu, dtheta] = tf.grads((m: tf.Tensor, t: tf.Tensor) => tf.sum(tf.mul(logNbPositive(x, m, t), w)))([mu, theta]);
    return { value, dmu: dmu!.dataSync().slice() as Float32Array, dtheta: dtheta!.dataSync().slice() as Float32Array };
  });
}

function relErr(a: Float32Array, e: Float32Array): number {
  let err = 0;
  for (let i = 0; i < e.length; i++) err = Math.max(err, Math.abs(a[i]! - e[i]!) / Math.max(1e-6, Math.abs(e[i]!)));
  return err;
}

const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

describe('NB log-likelihood on the fused threads', () => {
  for (const [b, g] of [[37, 203], [256, 64]] as const) {
    it(`equals the single-thread kernels (b ${b}, g ${g}) and is bit-identical on 1, 2 and 3 threads`, () => {
      const a = args(b + g, b, g);
      fastPaths.threadedNb = false;
      const single = evaluate(a, b, g);
      fastPaths.threadedNb = true;
      threadedNbLimits.minElements = 0;
      const runs = [1, 2, 3].map((n) => {
        fusedThreads(n);
        const before = threadedNbStats.forward;
        const r = evaluate(a, b, g);
        expect(threadedNbStats.forward - before, 'threaded forward passes').toBe(2);
        return r;
      });
      const r = runs[0]!;
      expect(relErr(r.value, single.value)).toBeLessThan(1e-6);
      expect(relErr(r.dmu, single.dmu)).toBeLessThan(1e-6);
      expect(relErr(r.dtheta, single.dtheta)).toBeLessThan(1e-5);
      for (const o of runs.slice(1)) {
        expect(same(o.value, r.value)).toBe(true);
        expect(same(o.dmu, r.dmu)).toBe(true);
        expect(same(o.dtheta, r.dtheta)).toBe(true);
      }
    });
  }

  it('runs on the threads at the default limit for a 256-cell × 2000-gene minibatch only', () => {
    expect(256 * 2000).toBeGreaterThanOrEqual(threadedNbLimits.minElements);
    fastPaths.threadedNb = true;
    const a = args(3, 8, 40);
    const before = threadedNbStats.forward;
    evaluate(a, 8, 40);
    expect(threadedNbStats.forward).toBe(before);
  });
});
