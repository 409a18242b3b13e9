import { tf } from '../tf';
import { InvalidOptionError } from '../errors';
import { LabelEncoder } from './labels';
import { argmaxRows, checkLatent } from './softmax-model';
import type { InvariantPredictor, LatentMatrix, Prediction, PredictorState } from './types';

/** Options of {@link KnnClassifier.fit}. */
export interface KnnOptions {
  /** Neighbours that vote (default 5, as scikit-learn's KNeighborsClassifier). */
  k?: number;
}

const QUERY_BLOCK = 1024;

/**
 * k-nearest-neighbour classifier on the invariant latent space (Euclidean, uniform votes, ties to
 * the smallest class index as scikit-learn). Distances are computed in query blocks on the engine.
 */
export class KnnClassifier implements InvariantPredictor {
  readonly kind = 'knn' as const;
  private constructor(
    private readonly labels: LabelEncoder,
    private readonly train: LatentMatrix,
    private readonly targets: Int32Array,
    readonly k: number,
  ) {}

  /** Class labels in index order. */
  get classes(): readonly string[] {
    return this.labels.classes;
  }

  /** Stores the training latents and labels. */
  static fit(latent: LatentMatrix, labels: ArrayLike<string>, options: KnnOptions = {}): KnnClassifier {
    checkLatent(latent, null);
    if (labels.length !== latent.nRows) throw new InvalidOptionError('labels', `${labels.length} labels for ${latent.nRows} cells.`);
    const k = options.k ?? 5;
    if (!Number.isSafeInteger(k) || k < 1) throw new InvalidOptionError('k', `k must be a positive integer, got ${k}.`);
    const enc = LabelEncoder.fit(labels);
    return new KnnClassifier(enc, { nRows: latent.nRows, nCols: latent.nCols, data: Float32Array.from(latent.data) }, enc.encode(labels), Math.min(k, latent.nRows));
  }

  /** Restores a classifier from {@link toJSON} output. */
  static fromJSON(state: PredictorState): KnnClassifier {
    const s = state as PredictorState & { classes: string[]; k: number; dims: number; latent: number[]; targets: number[] };
    if (s.kind !== 'knn' || s.latent.length !== s.targets.length * s.dims) throw new InvalidOptionError('predictor', 'Invalid kNN classifier state.');
    return new KnnClassifier(new LabelEncoder(s.classes), { nRows: s.targets.length, nCols: s.dims, data: Float32Array.from(s.latent) }, Int32Array.from(s.targets), s.k);
  }

  predict(latent: LatentMatrix): Prediction {
    checkLatent(latent, this.train.nCols);
    const nc = this.classes.length;
    const probabilities = new Float32Array(latent.nRows * nc);
    const train = tf.tensor2d(this.train.data, [this.train.nRows, this.train.nCols]);
    const trainSq = tf.tidy(() => tf.sum(tf.square(train), 1));
    try {
      for (let s = 0; s < latent.nRows; s += QUERY_BLOCK) {
        const e = Math.min(latent.nRows, s + QUERY_BLOCK);
        const idx = tf.tidy(() => {
          const q = tf.tensor2d(latent.data.subarray(s * latent.nCols, e * latent.nCols), [e - s, latent.nCols]);
          // −‖q − t‖² = 2 q·t − ‖q‖² − ‖t‖²; the largest are the nearest.
          const neg = tf.sub(tf.sub(tf.mul(2, tf.matMul(q, train, false, true)), tf.sum(tf.square(q), 1, true)), trainSq);
          return tf.topk(neg, this.k).indices;
        });
        const near = idx.dataSync();
        idx.dispose();
        for (let i = 0; i < e - s; i++) {
          for (let j = 0; j < this.k; j++) probabilities[(s + i) * nc + this.targets[near[i * this.k + j]!]!]! += 1 / this.k;
        }
      }
    } finally {
      train.dispose();
      trainSq.dispose();
    }
    return { labels: this.labels.decode(argmaxRows(probabilities, nc)), probabilities, classes: this.classes };
  }

  toJSON(): PredictorState {
    return { kind: 'knn', classes: [...this.classes], k: this.k, dims: this.train.nCols, latent: Array.from(this.train.data), targets: Array.from(this.targets) };
  }

  dispose(): void {}
}
