import { tf } from '../tf';
import { defineJsKernel } from './js-kernel';
import { simdKernels, simdKernelsFor, type SimdKernels } from '../wasm/kernels';
import { affineBackwardTasks, affineForwardTasks, productTasks } from '../fused/affine';
import { runWhole } from '../fused/threads';

// A linear layer's x · Wᵀ + b and its gradients as two kernels on the wasm engine's memory, with
// the SIMD products of `kernels.wat`: the tasks `fused/affine` runs on the threads, here run whole
// on one thread. Every output element is one float32 sum over the reduction index in order. In place
// of the engine's transpose + product + add forward and two products, two transposes and a sum backward.
// The plain product a · b (the score-matching prior's input derivatives) likewise.

const PANEL = 8;

function panels(n: number): number {
  return Math.ceil(n / PANEL);
}

function simd(views: readonly Float32Array[], name: string): SimdKernels {
  const k = simdKernelsFor(views);
  if (!k) throw new Error(`${name}: runs only where the SIMD kernels run (see affineKernelsApply)`);
  return k;
}

let productForwardKernel: ReturnType<typeof defineJsKernel> | null = null;
let productGradKernel: ReturnType<typeof defineJsKernel> | null = null;
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

function productKernels() {
  productForwardKernel ??= defineJsKernel({
    name: 'InvaeProduct',
    inputs: ['a', 'b'],
    outputShapes: ([a, b]) => [[a![0]!, b![1]!]],
    scratch: ([a, b]) => [panels(b![1]!) * PANEL * a![1]!],
    body: ([a, b], [c], [as, bs], _a, [packed]) => {
      const [m, kd, n] = [as![0]!, as![1]!, bs![1]!];
      const k = simd([a!, b!, c!, packed!], 'InvaeProduct');
      runWhole(k, productTasks({ a: a!.byteOffset, si: kd, sp: 1, b: b!.byteOffset, bp: n, bj: 1, packed: packed!.byteOffset, c: c!.byteOffset, bias: 0, m, n, k: kd }));
    },
  });
  productGradKernel ??= defineJsKernel({
    name: 'InvaeProductGrad',
    inputs: ['dy', 'a', 'b'],
    outputShapes: ([, a, b]) => [a!.slice(), b!.slice()],
    scratch: ([, a, b]) => [PANEL * Math.max(panels(a![1]!) * b![1]!, panels(b![1]!) * a![0]!)],
    body: ([dy, a, b], [da, db], [, as, bs], _a, [packed]) => {
      const [m, kd, n] = [as![0]!, as![1]!, bs![1]!];
      const k = simd([dy!, a!, b!, da!, db!, packed!], 'InvaeProductGrad');
      const packedAt = packed!.byteOffset;
      runWhole(k, [
        // dA [m, k] = dy · Bᵀ: B'(p, j) = B[j, p], reduction over n
        ...productTasks({ a: dy!.byteOffset, si: n, sp: 1, b: b!.byteOffset, bp: 1, bj: n, packed: packedAt, c: da!.byteOffset, bias: 0, m, n: kd, k: n }),
        // dB [k, n] = Aᵀ · dy: A'(i, p) = A[p, i], reduction over the m rows
        ...productTasks({ a: a!.byteOffset, si: 1, sp: kd, b: dy!.byteOffset, bp: n, bj: 1, packed: packedAt, c: db!.byteOffset, bias: 0, m: kd, n, k: m }),
      ]);
    },
  });
  return { forward: productForwardKernel, grad: productGradKernel! };
}

/**
 * The plain product `a · b` (`[m, k] · [k, n]`) as one taped op of SIMD kernels (every output element
 * one float32 sum over k in order), gradients da = dy · bᵀ and db = aᵀ · dy likewise. Call only where
 * {@link productKernelsApply}.
 */
export function productKernel(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const k = productKernels();
  const f = tf.customGrad(((av: tf.Tensor2D, bv: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([av, bv]);
    return {
      value: k.forward([av, bv])[0]!,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => k.grad([dy.dtype === 'float32' ? dy : tf.cast(dy, 'float32'), saved[0]!, saved[1]!]),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;
  return f(a, b);
}

/** Whether {@link productKernel} runs: the wasm engine with its SIMD kernels, float32 a `[m, k]` and b `[k, n]`. */
export function productKernelsApply(a: tf.Tensor, b: tf.Tensor): boolean {
  return tf.getBackend() === 'wasm' && simdKernels() !== null && a.rank === 2 && b.rank === 2 && a.dtype === 'float32' && b.dtype === 'float32' && a.shape[1] === b.shape[0];
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
