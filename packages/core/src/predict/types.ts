/** A row-major matrix of latent values (cells × dims). */
export interface LatentMatrix {
  nRows: number;
  nCols: number;
  data: Float32Array;
}

/** Predictions of an invariant predictor. */
export interface Prediction {
  /** Predicted label per cell. */
  labels: string[];
  /** Class probabilities (cells × classes, row-major, classes in `classes` order). */
  probabilities: Float32Array;
  /** Class order of `probabilities`. */
  classes: readonly string[];
  /**
   * Confidence per cell: the probability of its most probable class (set by `Invae.predict`; a
   * label `unknown` marks a cell below the `unknownThreshold` asked for, see `withConfidence`).
   */
  confidence?: Float32Array;
}

/** JSON state of a fitted predictor, saved with the model. */
export interface PredictorState {
  kind: 'linear' | 'knn' | 'environment';
  [key: string]: unknown;
}

/** A classifier on the invariant latent space. */
export interface InvariantPredictor {
  /** Which predictor. */
  readonly kind: PredictorState['kind'];
  /** Class labels in index order. */
  readonly classes: readonly string[];
  /** Predicts labels for latent rows. */
  predict(latent: LatentMatrix): Prediction;
  /** JSON-serialisable state ({@link predictorFromState} restores it). */
  toJSON(): PredictorState;
  /** Frees engine memory. */
  dispose(): void;
}
