import { tf } from '../tf';
import { defineJsKernel } from './js-kernel';
import { simdKernels, simdKernelsFor, type SimdKernels } from '../wasm/kernels';
import { affineBackwardTasks, affineForwardTasks } from '../fused/affine';
import { runWhole } from '../fused/threads';

// A linear layer's x · Wᵀ + b and its gradients as two kernels on the wasm engine's memory, with
// the SIMD products of `kernels.wat`: the tasks `fused/affine` runs on the threads, here run whole
// on one thread. Every output element is one float32 sum over the reduction index in order. In place
// of the engine's transpose + product + add forward and two products, two transposes and a sum backward.

const PANEL = 8;

function panels(n: number): number {
  return Math.ceil(n / PANEL);
}

function simd(views: readonly Float32Array[], name: string): SimdKernels {
  const k = simdKernelsFor(views);
  if (!k) throw new Error(`${name}: runs only where the SIMD kernels run (see affineKernelsApply)`);
  return k;
}

let forwardKernel: ReturnType<typeof defineJsKernel> | null = null;
let gradKernel: ReturnType<typeof defineJsKernel> | null = null;
let weightGradKernel: ReturnType<typeof defineJsKernel> | null = null;

/** dx (when given), dW and db from dy, x and W (`affineBackwardTasks`, one packing buffer), on the calling thread. */
function grads(name: string, dy: Float32Array, x: Float32Array, w: Float32Array | null, dx: Float32Array | null, dw: Float32Array, db: Float32Array, packed: Float32Array, m: number, kd: number, n: number): void {
  const views = [dy, x, dw, db, packed, ...(w ? [w] : []), ...(dx ? [dx] : [])];
  const at = (v: Float32Array | null) => (v ? v.byteOffset : 0);
  runWhole(simd(views, name), affineBackwardTasks({ dy: dy.byteOffset, x: x.byteOffset, w: at(w), dx: at(dx), dw: dw.byteOffset, db: db.byteOffset, packW: packed.byteOffset, packX: packed.byteOffset, m, k: kd, n }));
}

function kernels() {
  forwardKernel ??= defineJsKernel({
    name: 'InvaeAffine',
    inputs: ['x', 'w', 'b'],
    outputShapes: ([x, w]) => [[x![0]!, w![0]!]],
    scratch: ([x, w]) => [panels(w![0]!) * PANEL * x![1]!],
    body: ([x, w, b], [out], [xs, ws], _a, [packed]) => {
      const k = simd([x!, w!, b!, out!, packed!], 'InvaeAffine');
      runWhole(k, affineForwardTasks({ x: x!.byteOffset, w: w!.byteOffset, bias: b!.byteOffset, packed: packed!.byteOffset, out: out!.byteOffset, m: xs![0]!, k: xs![1]!, n: ws![0]! }));
    },
  });
  gradKernel ??= defineJsKernel({
    name: 'InvaeAffineGrad',
    inputs: ['dy', 'x', 'w'],
    outputShapes: ([, x, w]) => [x!.slice(), w!.slice(), [w![0]!]],
    scratch: ([, x, w]) => [panels(x![1]!) * PANEL * Math.max(x![0]!, w![0]!)],
    body: ([dy, x, w], [dx, dw, db], [, xs, ws], _a, [packed]) => grads('InvaeAffineGrad', dy!, x!, w!, dx!, dw!, db!, packed!, xs![0]!, xs![1]!, ws![0]!),
  });
  weightGradKernel ??= defineJsKernel({
    name: 'InvaeAffineWeightGrad',
    inputs: ['dy', 'x'],
    outputShapes: ([dy, x]) => [[dy![1]!, x![1]!], [dy![1]!]],
    scratch: ([, x]) => [panels(x![1]!) * PANEL * x![0]!],
    body: ([dy, x], [dw, db], [dys, xs], _a, [packed]) => grads('InvaeAffineWeightGrad', dy!, x!, null, null, dw!, db!, packed!, xs![0]!, xs![1]!, dys![1]!),
  });
  return { forward: forwardKernel, grad: gradKernel!, weightGrad: weightGradKernel! };
}

/** Whether {@link affineKernel} runs: the wasm engine with its SIMD kernels, float32 x `[m, k]` and W `[n, k]`. */
export function affineKernelsApply(x: tf.Tensor, w: tf.Tensor): boolean {
  return tf.getBackend() === 'wasm' && simdKernels() !== null && x.rank === 2 && w.rank === 2 && x.dtype === 'float32' && w.dtype === 'float32' && x.shape[1] === w.shape[1];
}

/**
 * `x · Wᵀ + b` (weight `[out, in]`, bias `[out]`) as one taped op of the kernels above; with
 * `inputGrad: false` x is data (no gradient, no dy · W). Call only where {@link affineKernelsApply}.
 */
export function affineKernel(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, inputGrad: boolean): tf.Tensor2D {
  const k = kernels();
  const dyOf = (dy: tf.Tensor) => (dy.dtype === 'float32' ? dy : tf.cast(dy, 'float32'));
  if (inputGrad) {
    const f = tf.customGrad(((xv: tf.Tensor2D, wv: tf.Tensor2D, bv: tf.Tensor1D, save: tf.GradSaveFunc) => {
      save([xv, wv]);
      return {
        value: k.forward([xv, wv, bv])[0]!,
        gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => k.grad([dyOf(dy), saved[0]!, saved[1]!]),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;
    return f(x, w, b);
  }
  const f = tf.customGrad(((wv: tf.Tensor2D, bv: tf.Tensor1D, save: tf.GradSaveFunc) => {
    save([x]);
    return {
      value: k.forward([x, wv, bv])[0]!,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => k.weightGrad([dyOf(dy), saved[0]!]),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;
  return f(w, b);
}
