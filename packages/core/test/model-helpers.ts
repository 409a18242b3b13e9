import { tf, type EnergyConditionalPrior, type GaussianConditionalPrior, type NamedVariable } from '../src/index';

/** N(0, I) prior for core tests (the real priors live in @invae/priors). */
export class StandardNormalPrior implements GaussianConditionalPrior {
  readonly family = 'gaussian' as const;
  readonly covarDim = 0;
  constructor(readonly latentDim: number) {}
  params() {
    return { mean: tf.zeros([1]), variance: tf.ones([1]) };
  }
  namedVariables(): NamedVariable[] {
    return [];
  }
  dispose(): void {}
}

/**
 * Tiny energy prior for core tests: log p̃(z | u) = −½ a Σ z², with one trainable scalar `a`
 * (named `toy_energy.a`); its score-matching loss is mean Σⱼ (−a + ½ a² zⱼ²).
 */
export class QuadraticEnergyPrior implements EnergyConditionalPrior {
  readonly family = 'energy' as const;
  readonly a = tf.variable(tf.scalar(0.7), true);
  constructor(
    readonly latentDim: number,
    readonly covarDim: number,
  ) {}
  logDensity(z: tf.Tensor2D, _u: tf.Tensor2D | null, opts: { frozen?: boolean }) {
    return tf.tidy(() => {
      const a = opts.frozen ? tf.scalar(this.a.dataSync()[0]!) : this.a;
      return tf.mul(-0.5, tf.mul(a, tf.sum(tf.square(z), 1))) as tf.Tensor1D;
    });
  }
  scoreMatchingLoss(z: tf.Tensor2D) {
    return tf.tidy(() => tf.mean(tf.sum(tf.add(tf.neg(tf.onesLike(z).mul(this.a)), tf.mul(0.5, tf.mul(tf.square(this.a), tf.square(z)))), 1)) as tf.Scalar);
  }
  namedVariables(): NamedVariable[] {
    return [{ name: 'toy_energy.a', variable: this.a, trainable: true }];
  }
  dispose(): void {
    this.a.dispose();
  }
}
