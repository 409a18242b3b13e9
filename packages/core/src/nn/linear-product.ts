import { tf } from '../tf';

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
