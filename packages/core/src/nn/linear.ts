import { tf } from '../tf';
import { detach, type NamedVariable, type SeedStream } from './variables';
import { affineProduct, linearProduct } from './linear-product';
import { fastPaths } from './fast-paths';

/**
 * Fully connected layer `y = x Wᵀ + b` with the weight stored as `[out, in]` (PyTorch layout), so
 * that weights import and export under the same shapes as a PyTorch `nn.Linear`.
 * Initialisation: weight Xavier-uniform (as the reference's `weights_init`), bias uniform in
 * ±1/√in (PyTorch's default for `nn.Linear`).
 */
export class Linear {
  /** Weight `[out, in]`. */
  readonly weight: tf.Variable;
  /** Bias `[out]`. */
  readonly bias: tf.Variable;

  constructor(
    readonly inputDim: number,
    readonly outputDim: number,
    seeds: SeedStream,
  ) {
    const bound = Math.sqrt(6 / (inputDim + outputDim));
    this.weight = tf.variable(tf.randomUniform([outputDim, inputDim], -bound, bound, 'float32', seeds.next()), true);
    const b = inputDim > 0 ? 1 / Math.sqrt(inputDim) : 0;
    this.bias = tf.variable(tf.randomUniform([outputDim], -b, b, 'float32', seeds.next()), true);
  }

  /**
   * Applies the layer to `x` `[B, in]`; with `frozen` no gradient reaches the parameters; with
   * `inputGrad: false` none is computed for `x` (data, e.g. a first layer's input).
   */
  apply(x: tf.Tensor2D, frozen = false, opts: { inputGrad?: boolean } = {}): tf.Tensor2D {
    const w = (frozen ? detach(this.weight) : this.weight) as tf.Tensor2D;
    const b = (frozen ? detach(this.bias) : this.bias) as tf.Tensor1D;
    if (!fastPaths.affine) return tf.add(linearProduct(x, w), b) as tf.Tensor2D;
    return affineProduct(x, w, b, opts);
  }

  /** `weight` and `bias`. */
  namedVariables(): NamedVariable[] {
    return [
      { name: 'weight', variable: this.weight, trainable: true },
      { name: 'bias', variable: this.bias, trainable: true },
    ];
  }
}

/** Names and shapes of a {@link Linear} layer's variables (as its `namedVariables`), without building it. */
export function linearWeightShapes(inputDim: number, outputDim: number): [string, number[]][] {
  return [
    ['weight', [outputDim, inputDim]],
    ['bias', [outputDim]],
  ];
}
