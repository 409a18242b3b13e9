import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf, logNbPositive } from '../src/index';
import { logNbPositiveDense } from '../src/likelihoods/negative-binomial';
import { nbFusedApplies } from '../src/likelihoods/nb-fused';
import { digamma64, digammaDiff, lgamma64, lgammaRatio, logFactorial } from '../src/likelihoods/special-f64';
import { Rng } from '../src/random/rng';

// Reference values: mpmath 1.2.1 at 30 digits (/usr/bin/python3: mpmath.loggamma, mpmath.digamma).
const LGAMMA: [number, number][] = [
  [1e-30, 69.07755278982137],
  [0.001, 6.907178885383853],
  [0.1, 2.252712651734206],
  [0.5, 0.5723649429247001],
  [1.0, 0.0],
  [1.4616321449683622, -0.12148629053584961],
  [2.0, 0.0],
  [2.5, 0.2846828704729192],
  [7.3, 7.147892523022248],
  [9.999, 12.799575780077413],
  [10.0, 12.801827480081469],
  [33.3, 82.60372358165495],
  [1000.0, 5905.220423209181],
  [123456.0, 1323892.7688437013],
  [1e9, 19723265827.503716],
];
const DIGAMMA: [number, number][] = [
  [1e-30, -1e30],
  [0.001, -1000.5755719318103],
  [0.1, -10.423754940411076],
  [0.5, -1.9635100260214235],
  [1.0, -0.5772156649015329],
  [2.0, 0.42278433509846713],
  [2.5, 0.7031566406452432],
  [7.3, 1.9178203356379862],
  [9.999, 2.2516474172057355],
  [10.0, 2.251752589066721],
  [33.3, 3.490467238520243],
  [1000.0, 6.907255195648812],
  [123456.0, 11.723636046234013],
  [1e9, 20.723265836446412],
];
// (x, a, lnΓ(a+x) − lnΓ(a), ψ(a+x) − ψ(a)): the product/sum branch (integer x ≤ 64) and the other one
const RATIOS: [number, number, number, number][] = [
  [1, 0.5, -0.6931471805599453, 2.0],
  [3, 0.0001, -8.517043197665862, 10001.499875011248],
  [7, 2.5, 11.40465055032435, 1.4945812357577064],
  [64, 3.0, 212.83909431400332, 3.2744270342418997],
  [65, 3.0, 217.04378693339427, 3.289352407376228],
  [150, 0.7, 603.2553483268608, 6.231993139937082],
  [1000, 50.0, 6107.2477165395085, 3.054079503661703],
  [2.5, 4.0, 3.8708025906290864, 0.5367936619681325],
  [1, 1e6, 13.815510557964274, 1e-6],
  [40, 1e7, 644.7239040382301, 3.99999220002054e-6],
  [5, 1e-30, -65.89949895947342, 1e30],
  [300, 0.001, 1402.3005907015793, 1006.2776901527644],
];
const LOG_FACTORIAL: [number, number][] = [
  [0, 0],
  [1, 0],
  [2, 0.6931471805599453],
  [10, 15.104412573075516],
  [100, 363.73937555556347],
  [4095, 29970.33029467733],
  [4096, 29978.648060844047],
  [1e5, 1051299.2218991218],
  [2.5, 1.2009736023470743],
];

const rel = (got: number, want: number) => Math.abs(got - want) / Math.max(Math.abs(want), 1e-300);

describe('double-precision special functions', () => {
  it('lgamma64 and digamma64 match mpmath within 1e-13 (relative, or absolute at the zeros)', () => {
    for (const [x, want] of LGAMMA) expect(Math.abs(lgamma64(x) - want), `lgamma64(${x})`).toBeLessThan(1e-13 * Math.max(1, Math.abs(want)));
    for (const [x, want] of DIGAMMA) expect(Math.abs(digamma64(x) - want), `digamma64(${x})`).toBeLessThan(1e-13 * Math.max(1, Math.abs(want)));
    expect(Math.abs(digamma64(1.4616321449683622))).toBeLessThan(1e-14);
  });

  it('lgammaRatio, digammaDiff and logFactorial match mpmath within 1e-12 relative', () => {
    for (const [x, a, lr, dd] of RATIOS) {
      expect(rel(lgammaRatio(x, a), lr), `lgammaRatio(${x}, ${a})`).toBeLessThan(1e-12);
      // differences of two ψ values lose digits when a ≫ x; 1e-9 relative is still far below float32 resolution
      expect(rel(digammaDiff(x, a), dd), `digammaDiff(${x}, ${a})`).toBeLessThan(x <= 64 && Number.isInteger(x) ? 1e-12 : 1e-9);
    }
    for (const [x, want] of LOG_FACTORIAL) expect(Math.abs(logFactorial(x) - want), `logFactorial(${x})`).toBeLessThan(1e-12 * Math.max(1, want));
  });

  it('gives NaN outside the domain and 0 for a zero count', () => {
    expect(lgamma64(0)).toBeNaN();
    expect(digamma64(-1)).toBeNaN();
    expect(lgammaRatio(0, 2)).toBe(0);
    expect(digammaDiff(0, 2)).toBe(0);
    expect(lgammaRatio(3, 0)).toBeNaN();
  });
});

/** Random NB arguments: ~60% zero counts, small and very large counts, a few non-integer ones. */
function randomArgs(seed: number, b: number, g: number) {
  const rng = new Rng(seed);
  const x = new Float32Array(b * g);
  const mu = new Float32Array(b * g);
  const theta = new Float32Array(g);
  for (let j = 0; j < g; j++) theta[j] = Math.exp(-3 + 8.5 * rng.uniform()); // 0.05 … 250
  for (let i = 0; i < b * g; i++) {
    const u = rng.uniform();
    x[i] = u < 0.6 ? 0 : u < 0.85 ? Math.floor(1 + 10 * rng.uniform()) : u < 0.95 ? Math.floor(50 + 5000 * rng.uniform()) : 0.5 + 20 * rng.uniform();
    mu[i] = Math.exp(-21 + 28 * rng.uniform()); // 8e-10 … 1e3 (below and above ε = 1e-8)
  }
  return { x, mu, theta };
}

function compareWithDense(b: number, g: number, seed: number) {
  const a = randomArgs(seed, b, g);
  const x = tf.tensor2d(a.x, [b, g]);
  const mu = tf.tensor2d(a.mu, [b, g]);
  const theta = tf.tensor1d(a.theta);
  const w = tf.tensor1d(Array.from({ length: b }, (_, i) => 0.5 + ((i * 7) % 5)));
  expect(nbFusedApplies(x, mu, theta)).toBe(true);
  const loss = (fn: typeof logNbPositive) => (m: tf.Tensor, t: tf.Tensor) => tf.sum(tf.mul(fn(x, m, t), w));
  const fused = tf.grads(loss(logNbPositive))([mu, theta]);
  const dense = tf.grads(loss(logNbPositiveDense))([mu, theta]);
  const vf = logNbPositive(x, mu, theta).dataSync();
  const vd = logNbPositiveDense(x, mu, theta).dataSync();
  // float32 resolution of the dense formula: its terms (lnΓ ~ 4e4 for counts ~5000) cancel
  for (let r = 0; r < b; r++) {
    let mag = 0;
    for (let j = 0; j < g; j++) {
      const i = r * g + j;
      const xv = a.x[i]!;
      const th = a.theta[j]!;
      const t = th + a.mu[i]!;
      mag += Math.abs(lgamma64(xv + th)) + Math.abs(lgamma64(th)) + logFactorial(xv) + Math.abs(xv * Math.log(a.mu[i]!)) + Math.abs((th + xv) * Math.log(t)) + Math.abs(th * Math.log(th));
    }
    expect(Math.abs(vf[r]! - vd[r]!), `cell ${r}: fused ${vf[r]} dense ${vd[r]}`).toBeLessThan(2e-6 * mag + 1e-5);
  }
  const [dmf, dtf] = fused.map((t) => t.dataSync());
  const [dmd, dtd] = dense.map((t) => t.dataSync());
  const wv = w.dataSync();
  for (let i = 0; i < b * g; i++) {
    const xv = a.x[i]!;
    const m = a.mu[i]!;
    const th = a.theta[i % g]!;
    const scale = wv[Math.floor(i / g)]! * (xv / m + (th + xv) / (th + m));
    expect(Math.abs(dmf![i]! - dmd![i]!), `dmu[${i}]`).toBeLessThan(1e-5 * scale + 1e-6);
  }
  for (let j = 0; j < g; j++) {
    let scale = 0;
    for (let r = 0; r < b; r++) {
      const i = r * g + j;
      const th = a.theta[j]!;
      const t = th + a.mu[i]!;
      scale += wv[r]! * (Math.abs(Math.log(th)) + 1 + Math.abs(Math.log(t)) + (th + a.x[i]!) / t + Math.abs(digamma64(a.x[i]! + th)) + Math.abs(digamma64(th)));
    }
    expect(Math.abs(dtf![j]! - dtd![j]!), `dtheta[${j}]: fused ${dtf![j]} dense ${dtd![j]}`).toBeLessThan(2e-5 * scale);
  }
  tf.dispose([x, mu, theta, w, ...fused, ...dense]);
}

describe('fused NB log-likelihood', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm', report: null });
  });
  afterAll(async () => {
    await tf.setBackend('wasm');
  });

  it('equals the dense formula in value and gradients (wasm; zeros, large and non-integer counts)', () => {
    compareWithDense(9, 37, 1);
    compareWithDense(3, 200, 2);
  });

  it('equals the dense formula on the cpu engine too', async () => {
    await tf.setBackend('cpu');
    compareWithDense(5, 23, 3);
    await tf.setBackend('wasm');
  });

  it('falls back to the dense formula for other shapes (unreduced, theta per element)', () => {
    const x = tf.tensor2d([[0, 2], [5, 0]]);
    const mu = tf.tensor2d([[1, 2], [3, 4]]);
    const th = tf.tensor2d([[1, 2], [3, 4]]);
    expect(nbFusedApplies(x, mu, th)).toBe(false);
    const a = logNbPositive(x, mu, th).dataSync();
    const d = logNbPositiveDense(x, mu, th).dataSync();
    expect(Array.from(a)).toEqual(Array.from(d));
    expect(logNbPositive(x, mu, tf.tensor1d([1, 2]), { reduce: false }).shape).toEqual([2, 2]);
  });

  it('keeps the tensor count constant across value-and-gradient steps', () => {
    const a = randomArgs(4, 16, 50);
    const x = tf.tensor2d(a.x, [16, 50]);
    const mu = tf.variable(tf.tensor2d(a.mu, [16, 50]));
    const theta = tf.variable(tf.tensor1d(a.theta));
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(logNbPositive(x, mu, theta)) as tf.Scalar, [mu, theta]);
      value.dispose();
      tf.dispose(grads);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, mu, theta]);
  });
});

describe('float32 logarithm from bits', () => {
  it('equals Math.log of the float32-rounded value within 1e-14 over the float32 range, edge cases included', async () => {
    const { logF32 } = await import('../src/likelihoods/log-f32');
    const rng = new Rng(9);
    let worst = 0;
    for (let i = 0; i < 20000; i++) {
      const x = Math.fround(Math.exp(-87 + 175 * rng.uniform())); // 1.6e-38 … 1e38
      worst = Math.max(worst, Math.abs(logF32(x) - Math.log(x)) / Math.max(1, Math.abs(Math.log(x))));
    }
    expect(worst).toBeLessThan(1e-14);
    for (const x of [1, 2, 0.5, Math.fround(1 + 2 ** -23), Math.fround(2 - 2 ** -23), 1e-8]) expect(Math.abs(logF32(x) - Math.log(Math.fround(x)))).toBeLessThan(1e-14);
    expect(logF32(0)).toBe(-Infinity);
    expect(logF32(Infinity)).toBe(Infinity);
    expect(logF32(-1)).toBeNaN();
    expect(logF32(NaN)).toBeNaN();
    expect(Math.abs(logF32(1e-40) - Math.log(Math.fround(1e-40)))).toBeLessThan(1e-12); // subnormal
  });
});
