import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf, lgamma, logNbPositive } from '../src/index';

// Expected values: mpmath 1.2.1 at 30 significant digits (/usr/bin/python3, `mpmath.loggamma` and
// `mpmath.digamma`), evaluated at the float32-representable arguments listed here.
// Points straddle every branch boundary of the implementation (0.5, 1.5, 2.5, 10) and come close to
// the zeros of lnΓ at 1 and 2, where relative accuracy is hardest in float32.
const LGAMMA_CASES: [number, number][] = [
  [0.0010000000474974513, 6.9071788378590653],
  [0.012299999594688416, 4.3911799886537041],
  [0.10000000149011612, 2.2527126362016008],
  [0.25, 1.2880225246980775],
  [0.4999000132083893, 0.57256129266279489],
  [0.5, 0.57236494292470009],
  [0.699999988079071, 0.26086726107548082],
  [0.8999999761581421, 0.066376257733604591],
  [0.9900000095367432, 0.005854801101922376],
  [0.9990000128746033, 0.00057803108027546509],
  [1.0010000467300415, -0.00057642049478183812],
  [1.0099999904632568, -0.0056903025970490156],
  [1.100000023841858, -0.049872451362944395],
  [1.2999999523162842, -0.10817480144020892],
  [1.4616321325302124, -0.12148629053584953],
  [1.5, -0.12078223763524522],
  [1.7000000476837158, -0.095807687462727362],
  [1.899999976158142, -0.038984284415175295],
  [1.9900000095367432, -0.0041955251185052085],
  [1.9989999532699585, -0.00042248152727373383],
  [2.000999927520752, 0.00042307604498146539],
  [2.009999990463257, 0.0042600188137990582],
  [2.200000047683716, 0.096947492744572988],
  [2.4999001026153564, 0.28461262941032274],
  [2.5, 0.28468287047291916],
  [3.0, 0.69314718055994531],
  [3.700000047683716, 1.428072382319606],
  [4.5, 2.4537365708424422],
  [6.25, 5.2196039869902293],
  [9.989999771118164, 12.779314699205762],
  [10.0, 12.80182748008147],
  [10.5, 13.940625219403764],
  [17.299999237060547, 31.515622025521481],
  [50.0, 144.56574394634489],
  [123.45600128173828, 469.60555329743532],
  [1000.0, 5905.2204232091812],
  [12345.599609375, 103959.18138608467],
  [100000.0, 1051287.7089736569],
  [999999.0, 12815490.753638054],
];

const DIGAMMA_CASES: [number, number][] = [
  [0.0010000000474974513, -1000.5755244342832],
  [0.012299999594688416, -81.857978532282116],
  [0.10000000149011612, -10.423754789263685],
  [0.25, -4.2274535333762654],
  [0.4999000132083893, -1.9640035251986776],
  [0.5, -1.9635100260214235],
  [0.699999988079071, -1.2200235874824337],
  [0.8999999761581421, -0.75492699578397684],
  [0.9900000095367432, -0.59378628813587078],
  [0.9990000128746033, -0.57886178089977824],
  [1.0010000467300415, -0.57557185505465867],
  [1.0099999904632568, -0.56088547332977164],
  [1.100000023841858, -0.42375490623856263],
  [1.2999999523162842, -0.16919094295221948],
  [1.5, 0.036489973978576521],
  [1.7000000476837158, 0.20854791269778212],
  [1.899999976158142, 0.35618414476152753],
  [1.9900000095367432, 0.41631471223476173],
  [1.9989999532699585, 0.42213916873566362],
  [2.000999927520752, 0.42342902047563324],
  [2.009999990463257, 0.4292135459200502],
  [2.200000047683716, 0.54429346406070763],
  [2.4999001026153564, 0.7031076540092342],
  [2.5, 0.70315664064524319],
  [3.0, 0.92278433509846714],
  [3.700000047683716, 1.1671535541452684],
  [4.5, 1.3888709263595289],
  [6.25, 1.750453526883736],
  [9.989999771118164, 2.2507003487352192],
  [10.0, 2.2517525890667211],
  [10.5, 2.3030010342976864],
  [17.299999237060547, 2.8215263781401952],
  [50.0, 3.9019896734278922],
  [123.45600128173828, 4.8118293342532933],
  [1000.0, 6.9072551956488121],
  [12345.599609375, 9.4210144708232871],
  [100000.0, 11.512920464961895],
  [999999.0, 13.815509057963191],
];

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

function relErrors(got: Float32Array | number[], cases: [number, number][]): number[] {
  return cases.map(([, want], i) => Math.abs((got[i]! - want) / want));
}

describe('lgamma', () => {
  it('matches 30-digit reference values within 1e-6 relative on (1e-3, 1e6), zeros at 1 and 2 included', () => {
    const xs = tf.tensor1d(LGAMMA_CASES.map((c) => c[0]));
    const got = lgamma(xs).dataSync() as Float32Array;
    const errs = relErrors(got, LGAMMA_CASES);
    const worst = Math.max(...errs);
    const at = LGAMMA_CASES[errs.indexOf(worst)]![0];
    expect(worst, `worst relative error ${worst} at x=${at}`).toBeLessThan(1e-6);
    xs.dispose();
  });

  it('its autodiff gradient is digamma within 1e-5 relative (away from the digamma zero at 1.4616)', () => {
    const xs = tf.tensor1d(DIGAMMA_CASES.map((c) => c[0]));
    const g = tf.grad((x: tf.Tensor) => tf.sum(lgamma(x)))(xs);
    const got = g.dataSync() as Float32Array;
    const errs = relErrors(got, DIGAMMA_CASES);
    const worst = Math.max(...errs);
    const at = DIGAMMA_CASES[errs.indexOf(worst)]![0];
    expect(worst, `worst relative error ${worst} at x=${at}`).toBeLessThan(1e-5);
    xs.dispose();
    g.dispose();
  });

  it('near the digamma zero (x = 1.4616321) the gradient is accurate in absolute terms', () => {
    const g = tf.grad((x: tf.Tensor) => tf.sum(lgamma(x)))(tf.tensor1d([1.4616321325302124]));
    expect(Math.abs(g.dataSync()[0]! - -1.2036052549106669e-8)).toBeLessThan(2e-7);
  });

  it('gives NaN for non-positive input and keeps finite gradients elsewhere in the batch', () => {
    const out = lgamma(tf.tensor1d([0, -1, 3])).dataSync();
    expect(Number.isNaN(out[0])).toBe(true);
    expect(Number.isNaN(out[1])).toBe(true);
    expect(out[2]).toBeCloseTo(Math.log(2), 6);
    const g = tf.grad((x: tf.Tensor) => tf.sum(lgamma(x)))(tf.tensor1d([1e-20, 5e5, 2])).dataSync();
    expect(g.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('does not leak tensors', () => {
    const x = tf.tensor1d([0.3, 3, 30]);
    const before = tf.memory().numTensors;
    const y = lgamma(x);
    expect(tf.memory().numTensors).toBe(before + 1);
    y.dispose();
    x.dispose();
  });
});

describe('logNbPositive', () => {
  it('matches a 30-digit reference value per cell', () => {
    // mpmath evaluation of the same formula (eps = 1e-8) on these inputs.
    const x = tf.tensor2d([
      [0, 3, 10, 1],
      [7, 0, 2, 150],
    ]);
    const mu = tf.tensor2d([
      [1.5, 2.5, 20, 0.01],
      [3, 0.2, 4, 120.5],
    ]);
    const theta = tf.tensor1d([0.7, 2.0, 5, 50]);
    const ll = logNbPositive(x, mu, theta).dataSync();
    // Cell 2 sums lnΓ terms of size ~900 that cancel to ~-10: float32 resolution there is ~6e-5
    // absolute, so 2e-4 absolute is the honest bound (PyTorch float32 has the same limitation).
    expect(Math.abs(ll[0]! - -10.785757114644065)).toBeLessThan(2e-5);
    expect(Math.abs(ll[1]! - -10.5870263904044)).toBeLessThan(2e-4);
    const unreduced = logNbPositive(x, mu, theta, { reduce: false });
    expect(unreduced.shape).toEqual([2, 4]);
  });
});
