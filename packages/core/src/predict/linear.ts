import { tf } from '../tf';
import { InvalidOptionError } from '../errors';
import { Rng } from '../random/rng';
import { LabelEncoder } from './labels';
import { checkLatent, crossEntropy, fitMinibatches, softmaxRows, argmaxRows, type FitOptions } from './softmax-model';
import { oneHotRows, takeRows } from './rows';
import type { InvariantPredictor, LatentMatrix, Prediction, PredictorState } from './types';

/**
 * Linear (softmax-regression) classifier on the invariant latent space — the reference's `linear`
 * predictor: one linear layer trained with cross-entropy and Adam on minibatches.
 */
export class LinearClassifier implements InvariantPredictor {
  readonly kind = 'linear' as const;
  private constructor(
    private readonly labels: LabelEncoder,
    private readonly weight: tf.Variable, // [dims, classes]
    private readonly bias: tf.Variable, // [classes]
    /** Training loss per epoch. */
    readonly lossCurve: number[] = [],
  ) {}

  /** Class labels in index order. */
  get classes(): readonly string[] {
    return this.labels.classes;
  }

  /** Fits on latent rows and their labels (defaults: 100 epochs, lr 0.01, batch 256, seed 0). */
  static fit(latent: LatentMatrix, labels: ArrayLike<string>, options: FitOptions = {}): LinearClassifier {
    checkLatent(latent, null);
    if (labels.length !== latent.nRows) throw new InvalidOptionError('labels', `${labels.length} labels for ${latent.nRows} cells.`);
    const enc = LabelEncoder.fit(labels);
    const targets = enc.encode(labels);
    const d = latent.nCols;
    const k = enc.classes.length;
    const o = { epochs: options.epochs ?? 100, learningRate: options.learningRate ?? 0.01, batchSize: options.batchSize ?? 256, seed: options.seed ?? 0 };
    // torch.nn.Linear's default initialisation: U(−1/√d, 1/√d) for weight and bias.
    const rng = new Rng(o.seed);
    const bound = 1 / Math.sqrt(d);
    const init = (n: number) => Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) * bound);
    const weight = tf.variable(tf.tensor2d(init(d * k), [d, k]), true);
    const bias = tf.variable(tf.tensor1d(init(k)), true);
    const curve = fitMinibatches([weight, bias], latent.nRows, (rows) => {
      const x = tf.tensor2d(takeRows(latent, rows), [rows.length, d]);
      const y = tf.tensor2d(oneHotRows(targets, rows, k), [rows.length, k]);
      return crossEntropy(tf.add(tf.matMul(x, weight), bias) as tf.Tensor2D, y);
    }, o);
    return new LinearClassifier(enc, weight, bias, curve);
  }

  /** Restores a classifier from {@link toJSON} output. */
  static fromJSON(state: PredictorState): LinearClassifier {
    const s = state as PredictorState & { classes: string[]; dims: number; weight: number[]; bias: number[] };
    const k = s.classes.length;
    if (s.kind !== 'linear' || s.weight.length !== s.dims * k || s.bias.length !== k) throw new InvalidOptionError('predictor', 'Invalid linear classifier state.');
    return new LinearClassifier(new LabelEncoder(s.classes), tf.variable(tf.tensor2d(s.weight, [s.dims, k]), false), tf.variable(tf.tensor1d(s.bias), false));
  }

  predict(latent: LatentMatrix): Prediction {
    checkLatent(latent, this.weight.shape[0]!);
    const logits = tf.tidy(() => tf.add(tf.matMul(tf.tensor2d(latent.data, [latent.nRows, latent.nCols]), this.weight), this.bias) as tf.Tensor2D);
    const p = softmaxRows(logits);
    logits.dispose();
    return { labels: this.labels.decode(argmaxRows(p, this.classes.length)), probabilities: p, classes: this.classes };
  }

  toJSON(): PredictorState {
    return {
      kind: 'linear',
      classes: [...this.classes],
      dims: this.weight.shape[0]!,
      weight: Array.from(this.weight.dataSync()),
      bias: Array.from(this.bias.dataSync()),
    };
  }

  dispose(): void {
    this.weight.dispose();
    this.bias.dispose();
  }
}
