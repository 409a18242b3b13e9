import { KnnClassifier, LinearClassifier, accuracy, macroF1, type InvariantPredictor, type LatentMatrix } from '@invae/core';
import { encodeCategorical, type Categorical } from '../internal/categories';
import { BenchInputError } from '../errors';
import { checkMatrix, type Embedding } from '../internal/matrix';

/** One leave-one-batch-out fold: a predictor is fitted on `train` and scored on `test` (the held-out batch). */
export interface LoboFold {
  /** The held-out batch. */
  readonly heldOut: string;
  readonly train: { readonly latent: Embedding; readonly labels: readonly string[] };
  readonly test: { readonly latent: Embedding; readonly labels: readonly string[] };
}

/** Options of {@link leaveOneBatchOut}. */
export interface LoboOptions {
  /** Predictor: `linear` (softmax regression, inVAE's default predictor) or `knn` (default `linear`). */
  readonly classifier?: 'linear' | 'knn';
  /** Neighbours of the kNN predictor (default 5). */
  readonly k?: number;
  /**
   * Epochs of the linear predictor (default: 100, fewer for large folds so that a fold takes at most
   * about 5 000 minibatch steps of 256 cells, at least 5 epochs).
   */
  readonly epochs?: number;
  /** Adam learning rate of the linear predictor (default 0.01). */
  readonly learningRate?: number;
  /** Seed of the linear predictor (default 0). */
  readonly seed?: number;
}

/** Scores of one held-out batch. */
export interface LoboBatchScore {
  readonly batch: string;
  readonly nTrain: number;
  readonly nTest: number;
  /** Fraction of held-out cells predicted correctly (null when the fold was skipped). */
  readonly accuracy: number | null;
  /** Macro-F1 over the classes present in the held-out truth or predictions (scikit-learn's). */
  readonly macroF1: number | null;
  /** Labels of the held-out batch that no training cell has (they cannot be predicted). */
  readonly unseenLabels: readonly string[];
  /** Why the fold was skipped, if it was. */
  readonly skipped?: string;
}

/** Result of {@link leaveOneBatchOut}. */
export interface LoboResult {
  readonly classifier: 'linear' | 'knn';
  readonly perBatch: readonly LoboBatchScore[];
  /** Unweighted means over the folds that were scored (null when none was). */
  readonly mean: { readonly accuracy: number | null; readonly macroF1: number | null };
}

function latentOf(m: Embedding): LatentMatrix {
  return { nRows: m.nRows, nCols: m.nCols, data: m.data instanceof Float32Array ? m.data : Float32Array.from(m.data) };
}

function takeRowsF32(m: Embedding, rows: readonly number[]): Embedding {
  const d = m.nCols;
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) out[i * d + j] = m.data[r * d + j]!;
  });
  return { data: out, nRows: rows.length, nCols: d };
}

/**
 * The leave-one-batch-out folds of one embedding: for every batch, train on the cells of all other
 * batches (rows of `fitLatent`) and test on that batch's cells (rows of `predictLatent`, default
 * `fitLatent`). Two latents let a model encode held-out cells differently, e.g. without their labels.
 */
export function leaveOneBatchOutFolds(fitLatent: Embedding, labels: Categorical, batches: Categorical, predictLatent: Embedding = fitLatent): LoboFold[] {
  checkMatrix(fitLatent, 'fitLatent');
  checkMatrix(predictLatent, 'predictLatent', fitLatent.nRows);
  if (predictLatent.nCols !== fitLatent.nCols) {
    throw new BenchInputError('predictLatent', `predictLatent has ${predictLatent.nCols} dimensions, fitLatent ${fitLatent.nCols}.`);
  }
  const lab = encodeCategorical(labels, 'labels', fitLatent.nRows);
  const bat = encodeCategorical(batches, 'batches', fitLatent.nRows);
  const labelOf = Array.from(lab.codes, (c) => String(lab.categories[c]!));
  return bat.categories.map((b, code) => {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < bat.codes.length; i++) (bat.codes[i] === code ? test : train).push(i);
    return {
      heldOut: String(b),
      train: { latent: takeRowsF32(fitLatent, train), labels: train.map((i) => labelOf[i]!) },
      test: { latent: takeRowsF32(predictLatent, test), labels: test.map((i) => labelOf[i]!) },
    };
  });
}

/**
 * Leave-one-batch-out invariant prediction: for every fold, a predictor of the labels is fitted on
 * the training cells' latent and predicts the held-out batch; accuracy and macro-F1 per held-out
 * batch and their unweighted means. A fold without training cells, or with fewer than two training
 * labels, is skipped with the reason. Call `initEngine` first (the predictors run on the engine).
 */
export function leaveOneBatchOut(folds: readonly LoboFold[], options: LoboOptions = {}): LoboResult {
  const kind = options.classifier ?? 'linear';
  if (kind !== 'linear' && kind !== 'knn') throw new BenchInputError('classifier', `Unknown classifier '${String(kind)}'.`, { hint: "Use 'linear' or 'knn'." });
  if (options.epochs !== undefined && !(Number.isInteger(options.epochs) && options.epochs >= 1)) {
    throw new BenchInputError('epochs', `epochs must be a positive integer, got ${options.epochs}.`);
  }
  const perBatch: LoboBatchScore[] = [];
  for (const f of folds) {
    checkMatrix(f.train.latent, `folds[${f.heldOut}].train.latent`, f.train.labels.length);
    checkMatrix(f.test.latent, `folds[${f.heldOut}].test.latent`, f.test.labels.length);
    const trainClasses = new Set(f.train.labels);
    const unseenLabels = [...new Set(f.test.labels)].filter((l) => !trainClasses.has(l)).sort();
    const base = { batch: f.heldOut, nTrain: f.train.labels.length, nTest: f.test.labels.length, unseenLabels };
    const skip =
      f.test.labels.length === 0
        ? 'the held-out batch has no cells'
        : f.train.labels.length === 0
          ? 'no training cells (a single batch)'
          : trainClasses.size < 2
            ? `the other batches hold a single label ('${[...trainClasses][0]}'): nothing to learn`
            : null;
    if (skip) {
      perBatch.push({ ...base, accuracy: null, macroF1: null, skipped: skip });
      continue;
    }
    let predictor: InvariantPredictor | null = null;
    try {
      if (kind === 'knn') predictor = KnnClassifier.fit(latentOf(f.train.latent), f.train.labels, { k: options.k });
      else {
        const stepsPerEpoch = Math.ceil(f.train.labels.length / 256);
        const epochs = options.epochs ?? Math.max(5, Math.min(100, Math.floor(5000 / stepsPerEpoch)));
        predictor = LinearClassifier.fit(latentOf(f.train.latent), f.train.labels, { epochs, learningRate: options.learningRate, seed: options.seed ?? 0 });
      }
      const predicted = predictor.predict(latentOf(f.test.latent)).labels;
      perBatch.push({ ...base, accuracy: accuracy(f.test.labels, predicted), macroF1: macroF1(f.test.labels, predicted) });
    } finally {
      predictor?.dispose();
    }
  }
  const scored = perBatch.filter((p) => p.accuracy !== null);
  const mean = (key: 'accuracy' | 'macroF1') => (scored.length ? scored.reduce((s, p) => s + p[key]!, 0) / scored.length : null);
  return { classifier: kind, perBatch, mean: { accuracy: mean('accuracy'), macroF1: mean('macroF1') } };
}
