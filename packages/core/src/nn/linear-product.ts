import { tf } from '../tf';
import { fastPaths } from './fast-paths';
import { sparseAffine, sparseAffineApplies } from './sparse-affine';
import { threadedAffine, threadedAffineApplies } from '../fused/affine';
import { affineKernel, affineKernelsApply, productKernel, productKernelsApply } from './affine-kernels';

/**
 * `x · Wᵀ` for a weight stored `[out, in]`, with a hand-written gradient. On the wasm engine a
 * matMul with a transposed operand (`transposeA`/`transposeB`, which tfjs's own matMul gradient
 * uses) is 5–7× slower than an explicit transpose followed by a plain product, so the forward pass
 * and both gradients are written as plain products: dx = dy · W, dW = dyᵀ · x.
 */
export const linearProduct = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x, tf.transpose(w)),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy, ws), tf.matMul(tf.transpose(dy), xs)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/**
 * The plain product `a · b` with a hand-written gradient made of plain products, da = dy · bᵀ and
 * db = aᵀ · dy with explicit transposes (tfjs's own matMul gradient multiplies by transposed operands,
 * 5–7× slower on wasm).
 */
const engineProduct = tf.customGrad(((a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [as, bs] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy, tf.transpose(bs)), tf.matMul(tf.transpose(as), dy)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/**
 * The plain product `a · b` with a gradient of plain products: on the wasm engine with the SIMD
 * kernels, invae's products (`productKernel`, unless `fastPaths.productKernel` is off); else the
 * engine's products with explicit transposes.
 */
export function plainProduct(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return fastPaths.productKernel && productKernelsApply(a, b) ? productKernel(a, b) : engineProduct(a, b);
}

/**
 * Gradients of `x · Wᵀ + b` with respect to W and b from dy `[B, out]` and x `[B, in]`, as plain
 * products chosen for the wasm engine, whose matMul re-packs its right operand on every call:
 * dW = dyᵀ · x packs x, so for a wide input (in > out) dW = (xᵀ · dy)ᵀ is cheaper; db as the row sums
 * of dyᵀ (contiguous; a column sum of dy, or 1ᵀ · dy, costs several times more).
 */
function weightAndBiasGrads(dy: tf.Tensor2D, x: tf.Tensor2D): [tf.Tensor2D, tf.Tensor1D] {
  const dyT = tf.transpose(dy);
  const dW = x.shape[1] > dy.shape[1] ? tf.transpose(tf.matMul(tf.transpose(x), dy)) : tf.matMul(dyT, x);
  const db = tf.sum(dyT, 1);
  return [dW as tf.Tensor2D, db as tf.Tensor1D];
}

const affineWithInputGrad = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, tf.transpose(w)), b),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy, ws), ...weightAndBiasGrads(dy, xs)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/**
 * The affine map `x · Wᵀ + b` (weight `[out, in]`, bias `[out]`) as one taped operation with the
 * gradients of {@link linearProduct} plus db. With `inputGrad: false` the input is treated as data:
 * no gradient is computed for it (saving the product dy · W, the largest one of a first layer), and
 * differentiating with respect to it is an error; where such an input is sparse enough (see
 * `sparse-affine`) the forward product and dW are computed on its non-zeros only.
 */
export function affineProduct(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, opts: { inputGrad?: boolean } = {}): tf.Tensor2D {
  const threaded = fastPaths.threadedProducts && threadedAffineApplies(x, w);
  const kernel = fastPaths.affineKernel && affineKernelsApply(x, w);
  if (opts.inputGrad !== false) return threaded ? threadedAffine(x, w, b) : kernel ? affineKernel(x, w, b, true) : affineWithInputGrad(x, w, b);
  // data with many zeros (log-counts, one-hot covariates): products over the non-zeros only
  if (fastPaths.sparseInput && sparseAffineApplies(x)) return sparseAffine(x, w, b);
  if (threaded) return threadedAffine(x, w, b, { inputGrad: false });
  if (kernel) return affineKernel(x, w, b, false);
  const f = tf.customGrad(((wv: tf.Tensor2D, bv: tf.Tensor1D, save: tf.GradSaveFunc) => {
    save([x]);
    return {
      value: tf.add(tf.matMul(x, tf.transpose(wv)), bv),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => weightAndBiasGrads(dy, saved[0] as tf.Tensor2D),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;
  return f(w, b);
}
