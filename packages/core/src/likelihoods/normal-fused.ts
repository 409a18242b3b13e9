import { tf } from '../tf';
import { defineJsKernel, jsKernelsAvailable } from '../nn/js-kernel';
import { fastPaths } from '../nn/fast-paths';

// The per-row diagonal Gaussian log-density Σ_j −½(ln 2π + ln v + (x − μ)²/v) of same-shaped
// [rows, d] matrices as one taped op of two JavaScript kernels (wasm and cpu engines), in place of
// the ~8 engine ops of its value and ~20 of its gradient. Each element in double precision, each
// row summed in double precision; the result and gradients are float32.

const LOG_2PI = Math.log(2 * Math.PI);

let forwardKernel: ReturnType<typeof defineJsKernel> | null = null;
let backwardKernel: ReturnType<typeof defineJsKernel> | null = null;

function kernels() {
  forwardKernel ??= defineJsKernel({
    name: 'InvaeNormalLogPdfRows',
    inputs: ['x', 'mu', 'v'],
    outputShapes: ([x]) => [[x![0]!]],
    body: ([x, mu, v], [out], [xs]) => {
      const [n, d] = [xs![0]!, xs![1]!];
      for (let r = 0, o = 0; r < n; r++, o += d) {
        let s = 0;
        for (let j = o; j < o + d; j++) {
          const vj = v![j]!;
          const e = x![j]! - mu![j]!;
          s += LOG_2PI + Math.log(vj) + (e * e) / vj;
        }
        out![r] = -0.5 * s;
      }
    },
  });
  backwardKernel ??= defineJsKernel({
    name: 'InvaeNormalLogPdfRowsGrad',
    inputs: ['dy', 'x', 'mu', 'v'],
    outputShapes: ([, x]) => [x!.slice(), x!.slice(), x!.slice()],
    body: ([dy, x, mu, v], [dx, dmu, dv], [, xs]) => {
      const [n, d] = [xs![0]!, xs![1]!];
      for (let r = 0, o = 0; r < n; r++, o += d) {
        const g = dy![r]!;
        for (let j = o; j < o + d; j++) {
          const vj = v![j]!;
          const z = (x![j]! - mu![j]!) / vj;
          dx![j] = -g * z;
          dmu![j] = g * z;
          dv![j] = 0.5 * g * (z * z - 1 / vj);
        }
      }
    },
  });
  return { forward: forwardKernel, backward: backwardKernel! };
}

/**
 * Whether {@link normalLogPdfRows} runs for these arguments: the fused kernels' engines, float32
 * matrices of one shape `[rows, d]` (no broadcasting), and the switch on.
 */
export function normalLogPdfRowsApplies(x: tf.Tensor, mu: tf.Tensor | number, v: tf.Tensor | number): boolean {
  return (
    fastPaths.normalKernel &&
    jsKernelsAvailable() &&
    typeof mu !== 'number' &&
    typeof v !== 'number' &&
    x.rank === 2 &&
    x.dtype === 'float32' &&
    mu.dtype === 'float32' &&
    v.dtype === 'float32' &&
    tf.util.arraysEqual(x.shape, mu.shape) &&
    tf.util.arraysEqual(x.shape, v.shape)
  );
}

/** Σ over the last axis of the Gaussian log-density of x `[rows, d]` with mean μ and variance v (both `[rows, d]`), `[rows]`, with gradients for all three. */
export function normalLogPdfRows(x: tf.Tensor2D, mu: tf.Tensor2D, v: tf.Tensor2D): tf.Tensor1D {
  const k = kernels();
  const f = tf.customGrad(((xv: tf.Tensor2D, mv: tf.Tensor2D, vv: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([xv, mv, vv]);
    return {
      value: k.forward([xv, mv, vv])[0]!,
      gradFunc: (dy: tf.Tensor1D, saved: tf.Tensor[]) => k.backward([dy.dtype === 'float32' ? dy : tf.cast(dy, 'float32'), ...saved]),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, m: tf.Tensor2D, v: tf.Tensor2D) => tf.Tensor1D;
  return f(x, mu, v);
}
