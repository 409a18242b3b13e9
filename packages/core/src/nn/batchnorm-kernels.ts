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
 */
let forwardKernel: ReturnType<typeof defineJsKernel> | null = null;
let backwardKernel: ReturnType<typeof defineJsKernel> | null = null;

function kernels() {
  forwardKernel ??= defineJsKernel({
    name: 'InvaeBatchNormForward',
    inputs: ['x', 'gamma', 'beta'],
    outputShapes: ([x]) => [[x![0]!, x![1]!], [x![0]!, x![1]!], [x![1]!], [x![1]!], [x![1]!]],
    body: ([x, gamma, beta], [out, xhat, mean, variance, inv], [xs], { eps }) => {
      const [n, c] = [xs![0]!, xs![1]!];
      const k = c % 2 === 0 ? simdKernelsFor([x!, gamma!, beta!, out!, xhat!, mean!, variance!, inv!]) : null;
      if (k) return k.batchNormForward(x!.byteOffset, n, c, gamma!.byteOffset, beta!.byteOffset, eps!, out!.byteOffset, xhat!.byteOffset, mean!.byteOffset, variance!.byteOffset, inv!.byteOffset);
      const acc = new Float64Array(c);
      for (let r = 0, o = 0; r < n; r++, o += c) for (let j = 0; j < c; j++) acc[j]! += x![o + j]!;
      for (let j = 0; j < c; j++) mean![j] = acc[j]! / n;
      acc.fill(0);
      for (let r = 0, o = 0; r < n; r++, o += c) {
        for (let j = 0; j < c; j++) {
          const d = x![o + j]! - mean![j]!;
          acc[j]! += d * d;
        }
      }
      for (let j = 0; j < c; j++) {
        variance![j] = acc[j]! / n;
        inv![j] = 1 / Math.sqrt(Math.fround(variance![j]! + eps!));
      }
      for (let r = 0, o = 0; r < n; r++, o += c) {
        for (let j = 0; j < c; j++) {
          const h = Math.fround((x![o + j]! - mean![j]!) * inv![j]!);
          xhat![o + j] = h;
          out![o + j] = h * gamma![j]! + beta![j]!;
        }
      }
    },
  });
  backwardKernel ??= defineJsKernel({
    name: 'InvaeBatchNormBackward',
    inputs: ['dy', 'xhat', 'inv', 'gamma'],
    outputShapes: ([dy]) => [[dy![0]!, dy![1]!], [dy![1]!], [dy![1]!]],
    body: ([dy, xhat, inv, gamma], [dx, dGamma, dBeta], [ds]) => {
      const [n, c] = [ds![0]!, ds![1]!];
      const k = c % 2 === 0 ? simdKernelsFor([dy!, xhat!, inv!, gamma!, dx!, dGamma!, dBeta!]) : null;
      if (k) return k.batchNormBackward(dy!.byteOffset, xhat!.byteOffset, inv!.byteOffset, gamma!.byteOffset, n, c, dx!.byteOffset, dGamma!.byteOffset, dBeta!.byteOffset);
      const sb = new Float64Array(c);
      const sg = new Float64Array(c);
      for (let r = 0, o = 0; r < n; r++, o += c) {
        for (let j = 0; j < c; j++) {
          const d = dy![o + j]!;
          sb[j]! += d;
          sg[j]! += d * xhat![o + j]!;
        }
      }
      const f = new Float64Array(c);
      for (let j = 0; j < c; j++) {
        dBeta![j] = sb[j]!;
        dGamma![j] = sg[j]!;
        f[j] = gamma![j]! * inv![j]!;
      }
      for (let r = 0, o = 0; r < n; r++, o += c) {
        for (let j = 0; j < c; j++) dx![o + j] = f[j]! * (dy![o + j]! - (dBeta![j]! + xhat![o + j]! * dGamma![j]!) / n);
      }
    },
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
