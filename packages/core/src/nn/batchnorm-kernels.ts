import { tf } from '../tf';
import { defineJsKernel } from './js-kernel';
import { simdKernelsFor } from '../wasm/kernels';

/**
 * Training-mode batch normalisation of `x` `[n, c]` as two JavaScript kernels (wasm and cpu engines;
 * see `js-kernel`), each one pass over rows with per-column accumulators in double precision, in place
 * of the ~9 engine ops of each direction (reductions over the batch axis, which the wasm engine runs
 * as a transpose and a sum, and the elementwise steps).
 *
 * Forward: mean, biased variance (two passes: Σ(x − mean)²), inv = 1/√(var + ε) (float32), x̂ =
 * (x − mean)·inv, out = x̂·γ + β. Backward, given dy and x̂: dβ = Σ dy, dγ = Σ dy·x̂ and
 * dx = γ·inv·(dy − (dβ + x̂·dγ)/n). On the wasm engine with an even number of columns, the SIMD
 * kernels of `wasm/kernels.wat` compute the same values (bit for bit, two columns at a time in f64).
 *
 * A block kernel pair adds the activation and dropout that follow the normalisation in an MLP block
 * (one kernel each way in place of ~5 engine ops), with the float32 arithmetic of those engine ops.
 */

/** Batch statistics and normalisation of `x` `[n, c]` into out, x̂, mean, variance, inv (see the module comment). */
function forwardInto(x: Float32Array, gamma: Float32Array, beta: Float32Array, out: Float32Array, xhat: Float32Array, mean: Float32Array, variance: Float32Array, inv: Float32Array, n: number, c: number, eps: number): void {
  const k = c % 2 === 0 ? simdKernelsFor([x, gamma, beta, out, xhat, mean, variance, inv]) : null;
  if (k) return k.batchNormForward(x.byteOffset, n, c, gamma.byteOffset, beta.byteOffset, eps, out.byteOffset, xhat.byteOffset, mean.byteOffset, variance.byteOffset, inv.byteOffset);
  const acc = new Float64Array(c);
  for (let r = 0, o = 0; r < n; r++, o += c) for (let j = 0; j < c; j++) acc[j]! += x[o + j]!;
  for (let j = 0; j < c; j++) mean[j] = acc[j]! / n;
  acc.fill(0);
  for (let r = 0, o = 0; r < n; r++, o += c) {
    for (let j = 0; j < c; j++) {
      const d = x[o + j]! - mean[j]!;
      acc[j]! += d * d;
    }
  }
  for (let j = 0; j < c; j++) {
    variance[j] = acc[j]! / n;
    inv[j] = 1 / Math.sqrt(Math.fround(variance[j]! + eps));
  }
  for (let r = 0, o = 0; r < n; r++, o += c) {
    for (let j = 0; j < c; j++) {
      const h = Math.fround((x[o + j]! - mean[j]!) * inv[j]!);
      xhat[o + j] = h;
      out[o + j] = h * gamma[j]! + beta[j]!;
    }
  }
}

/** dx, dγ, dβ from dy `[n, c]` and the forward pass's x̂ and inv, with scale γ (see the module comment). */
function backwardInto(dy: Float32Array, xhat: Float32Array, inv: Float32Array, gamma: Float32Array, dx: Float32Array, dGamma: Float32Array, dBeta: Float32Array, n: number, c: number): void {
  const k = c % 2 === 0 ? simdKernelsFor([dy, xhat, inv, gamma, dx, dGamma, dBeta]) : null;
  if (k) return k.batchNormBackward(dy.byteOffset, xhat.byteOffset, inv.byteOffset, gamma.byteOffset, n, c, dx.byteOffset, dGamma.byteOffset, dBeta.byteOffset);
  const sb = new Float64Array(c);
  const sg = new Float64Array(c);
  for (let r = 0, o = 0; r < n; r++, o += c) {
    for (let j = 0; j < c; j++) {
      const d = dy[o + j]!;
      sb[j]! += d;
      sg[j]! += d * xhat[o + j]!;
    }
  }
  const f = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    dBeta[j] = sb[j]!;
    dGamma[j] = sg[j]!;
    f[j] = gamma[j]! * inv[j]!;
  }
  for (let r = 0, o = 0; r < n; r++, o += c) {
    for (let j = 0; j < c; j++) dx[o + j] = f[j]! * (dy[o + j]! - (dBeta[j]! + xhat[o + j]! * dGamma[j]!) / n);
  }
}

/** Activation after the normalisation in a {@link batchNormBlockForward} (attribute `act`). */
export const BLOCK_ACTIVATION = { none: 0, relu: 1, lrelu: 2 } as const;

/**
 * out = act(y)·mask (the engine's Relu / LeakyRelu and Multiply, float32): relu y < 0 ? 0 : y, lrelu
 * y < 0 ? slope·y : y; no mask multiply without `hasMask`. The wasm engine's LeakyRelu multiplies by
 * the float32 slope, the cpu engine's by the double one: `slope` is the one of the engine at hand.
 */
function activateInto(y: Float32Array, mask: Float32Array, out: Float32Array, act: number, s: number, hasMask: boolean): void {
  // the SIMD kernel on the wasm engine (whose slope is the float32 one)
  const k = simdKernelsFor([y, mask, out]);
  if (k) return k.activateMask(y.byteOffset, mask.byteOffset, out.byteOffset, y.length, act, s, hasMask ? 1 : 0);
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    const a = act === 1 ? (v < 0 ? 0 : v) : act === 2 ? (v < 0 ? Math.fround(s * v) : v) : v;
    out[i] = hasMask ? Math.fround(a * mask[i]!) : a;
  }
}

/**
 * dy = d out · mask · act'(y), as the engine's gradients of Multiply (dout·mask), Relu (times
 * step(y): 1 where y > 0, NaN where y is NaN, else 0) and LeakyRelu (y > 0 ? d : slope·d) compute it.
 */
function activationGradInto(dout: Float32Array, y: Float32Array, mask: Float32Array, dy: Float32Array, act: number, slope: number, hasMask: boolean): void {
  const s = Math.fround(slope);
  const k = simdKernelsFor([dout, y, mask, dy]);
  if (k) return k.activationGrad(dout.byteOffset, y.byteOffset, mask.byteOffset, dy.byteOffset, y.length, act, s, hasMask ? 1 : 0);
  for (let i = 0; i < y.length; i++) {
    const d = hasMask ? Math.fround(dout[i]! * mask[i]!) : dout[i]!;
    const v = y[i]!;
    dy[i] = act === 1 ? d * (v > 0 ? 1 : v !== v ? NaN : 0) : act === 2 ? (v > 0 ? d : Math.fround(d * s)) : d;
  }
}

let blockForwardKernel: ReturnType<typeof defineJsKernel> | null = null;
let blockBackwardKernel: ReturnType<typeof defineJsKernel> | null = null;

let forwardKernel: ReturnType<typeof defineJsKernel> | null = null;
let backwardKernel: ReturnType<typeof defineJsKernel> | null = null;

function kernels() {
  forwardKernel ??= defineJsKernel({
    name: 'InvaeBatchNormForward',
    inputs: ['x', 'gamma', 'beta'],
    outputShapes: ([x]) => [[x![0]!, x![1]!], [x![0]!, x![1]!], [x![1]!], [x![1]!], [x![1]!]],
    body: ([x, gamma, beta], [out, xhat, mean, variance, inv], [xs], { eps }) => forwardInto(x!, gamma!, beta!, out!, xhat!, mean!, variance!, inv!, xs![0]!, xs![1]!, eps!),
  });
  backwardKernel ??= defineJsKernel({
    name: 'InvaeBatchNormBackward',
    inputs: ['dy', 'xhat', 'inv', 'gamma'],
    outputShapes: ([dy]) => [[dy![0]!, dy![1]!], [dy![1]!], [dy![1]!]],
    body: ([dy, xhat, inv, gamma], [dx, dGamma, dBeta], [ds]) => backwardInto(dy!, xhat!, inv!, gamma!, dx!, dGamma!, dBeta!, ds![0]!, ds![1]!),
  });
  return { forward: forwardKernel, backward: backwardKernel! };
}

/** Forward kernel: `[out, x̂, mean, variance, inv]` of `x` `[n, c]` with scale γ, shift β and ε. */
export function batchNormForward(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D] {
  return kernels().forward([x, gamma, beta], { eps }) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
}

/** Backward kernel: `[dx, dγ, dβ]` from dy and the forward pass's x̂ and inv, with scale γ. */
export function batchNormBackward(dy: tf.Tensor2D, xhat: tf.Tensor2D, inv: tf.Tensor1D, gamma: tf.Tensor1D): [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D] {
  return kernels().backward([dy, xhat, inv, gamma]) as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
}

function blockKernels() {
  blockForwardKernel ??= defineJsKernel({
    name: 'InvaeBatchNormBlockForward',
    inputs: ['x', 'gamma', 'beta', 'mask'],
    outputShapes: ([x]) => [[x![0]!, x![1]!], [x![0]!, x![1]!], [x![0]!, x![1]!], [x![1]!], [x![1]!], [x![1]!]],
    body: ([x, gamma, beta, mask], [out, y, xhat, mean, variance, inv], [xs], { eps, act, slope, hasMask }) => {
      forwardInto(x!, gamma!, beta!, y!, xhat!, mean!, variance!, inv!, xs![0]!, xs![1]!, eps!);
      activateInto(y!, mask!, out!, act!, slope!, hasMask === 1);
    },
  });
  blockBackwardKernel ??= defineJsKernel({
    name: 'InvaeBatchNormBlockBackward',
    inputs: ['dout', 'y', 'mask', 'xhat', 'inv', 'gamma'],
    outputShapes: ([d]) => [[d![0]!, d![1]!], [d![1]!], [d![1]!]],
    scratch: ([d]) => [d![0]! * d![1]!],
    body: ([dout, y, mask, xhat, inv, gamma], [dx, dGamma, dBeta], [ds], { act, slope, hasMask }, [dy]) => {
      activationGradInto(dout!, y!, mask!, dy!, act!, slope!, hasMask === 1);
      backwardInto(dy!, xhat!, inv!, gamma!, dx!, dGamma!, dBeta!, ds![0]!, ds![1]!);
    },
  });
  return { forward: blockForwardKernel, backward: blockBackwardKernel! };
}

/** Options of a {@link batchNormBlockForward}: ε, the activation, its slope (lrelu) and whether a dropout mask multiplies. */
export interface BlockAttrs {
  eps: number;
  act: number;
  /** The lrelu slope (as given: each engine's rounding is applied here). */
  slope: number;
  /** 1: `mask` multiplies the activation; 0: it is ignored (pass any tensor of x's shape). */
  hasMask: number;
}

/**
 * Forward kernel of a BatchNorm → activation → dropout block: `[out, y, x̂, mean, variance, inv]` of
 * `x` `[n, c]`, y the normalised values and out = act(y)·mask (see {@link activateInto}).
 */
export function batchNormBlockForward(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, mask: tf.Tensor2D, attrs: BlockAttrs): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D] {
  const forwardSlope = tf.getBackend() === 'wasm' ? Math.fround(attrs.slope) : attrs.slope;
  return blockKernels().forward([x, gamma, beta, mask], { ...attrs, slope: forwardSlope }) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
}

/** Backward kernel of the block: `[dx, dγ, dβ]` from d out and the forward pass's y, x̂, inv, the mask and γ. */
export function batchNormBlockBackward(dout: tf.Tensor2D, y: tf.Tensor2D, mask: tf.Tensor2D, xhat: tf.Tensor2D, inv: tf.Tensor1D, gamma: tf.Tensor1D, attrs: Omit<BlockAttrs, 'eps'>): [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D] {
  return blockKernels().backward([dout, y, mask, xhat, inv, gamma], { ...attrs }) as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
}

let statsKernel: ReturnType<typeof defineJsKernel> | null = null;

/**
 * The running statistics' update in one kernel: mean ← (1 − m)·mean + m·batch mean, var ← (1 − m)·var +
 * (m·unbiased)·batch variance, each product and sum rounded to float32 as the engine's Multiply and
 * Add round them (the factors are float32 scalars there too). Returns `[newMean, newVar]`.
 */
export function runningStatsUpdate(runningMean: tf.Tensor1D, runningVar: tf.Tensor1D, mean: tf.Tensor1D, variance: tf.Tensor1D, momentum: number, unbiased: number): [tf.Tensor1D, tf.Tensor1D] {
  statsKernel ??= defineJsKernel({
    name: 'InvaeBatchNormRunningStats',
    inputs: ['runningMean', 'runningVar', 'mean', 'variance'],
    outputShapes: ([m]) => [m!.slice(), m!.slice()],
    body: ([rm, rv, m, v], [mOut, vOut], _s, { keep, rate, varRate }) => {
      const f = Math.fround;
      for (let j = 0; j < rm!.length; j++) {
        mOut![j] = f(rm![j]! * keep!) + f(m![j]! * rate!);
        vOut![j] = f(rv![j]! * keep!) + f(v![j]! * varRate!);
      }
    },
  });
  const f = Math.fround;
  return statsKernel([runningMean, runningVar, mean, variance], { keep: f(1 - momentum), rate: f(momentum), varRate: f(momentum * unbiased) }) as [tf.Tensor1D, tf.Tensor1D];
}
