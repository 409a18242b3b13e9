import { InvalidOptionError } from '../errors';
import type { AnnDataColumnInfo, AnnDataLike } from '../data/anndata';
import type { LatentPart } from '../module/invae';
import type { LatentMatrix, Prediction } from '../predict/types';

/** Default obsm key of each latent part: `X_inVAE` (invariant), `X_inVAE_spur`, `X_inVAE_full`. */
export function latentObsmKey(part: LatentPart = 'inv'): string {
  return part === 'inv' ? 'X_inVAE' : part === 'spur' ? 'X_inVAE_spur' : 'X_inVAE_full';
}

/** Default obs column of predicted labels (when no label key is given). */
export const DEFAULT_PREDICTION_KEY = 'inVAE_pred';

/** What {@link writeResults} stores in an AnnData. */
export interface InvaeResults {
  /** Latent means (cells × dimensions, from `Invae.latent`), stored in `obsm[latentKey]` as float32. */
  latent?: LatentMatrix;
  /** obsm key of `latent` (default `X_inVAE`; see {@link latentObsmKey} for the other parts). */
  latentKey?: string;
  /** Predicted labels and class probabilities (from `Invae.predict`). */
  prediction?: Prediction;
  /** obs column of the predicted labels, stored as a categorical (default `inVAE_pred`; the CLI uses `<label>_pred`). */
  predictionKey?: string;
  /**
   * obs column of each cell's confidence as float32: the prediction's `confidence` when it has one,
   * else the predicted class's probability (default `<predictionKey>_confidence`; null leaves it out).
   */
  confidenceKey?: string | null;
}

function checkKey(option: string, key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.includes('/')) {
    throw new InvalidOptionError(option, `${option} must be a non-empty name without '/', got ${JSON.stringify(key)}.`);
  }
}

/**
 * Puts workflow results into an in-memory AnnData (e.g. from `readH5ad` of `@invae/io-anndata`), so
 * that `writeH5ad` saves them: the latent means into `obsm[latentKey]` (dense float32, cells ×
 * dimensions), the predicted labels into the categorical obs column `predictionKey` (categories: the
 * labels present, sorted) and their confidence into `confidenceKey`. Entries of the same name are
 * replaced (obs columns keep their position). Everything is checked before anything is written: the
 * AnnData is either fully annotated or left as it was.
 * @returns the same AnnData, annotated (its `obsm` gains the entry; its `obs` gets a new table with
 * the columns added, the old table is not modified).
 * @throws InvalidOptionError when a result's row count differs from the AnnData's cells, or for a bad key.
 */
export function writeResults<A extends AnnDataLike>(adata: A, results: InvaeResults): A {
  const nObs = adata.obs.table.numRows();
  const latentKey = results.latentKey ?? latentObsmKey('inv');
  const predictionKey = results.predictionKey ?? DEFAULT_PREDICTION_KEY;
  const confidenceKey = results.confidenceKey === undefined ? `${predictionKey}_confidence` : results.confidenceKey;
  const { latent, prediction } = results;
  if (latent) {
    checkKey('latentKey', latentKey);
    if (latent.nRows !== nObs || latent.data.length !== latent.nRows * latent.nCols) {
      throw new InvalidOptionError('latent', `the latent matrix has ${latent.nRows} rows (${latent.data.length} values for ${latent.nCols} columns), but the AnnData has ${nObs} cells.`, {
        hint: 'compute the latent space on this AnnData (model.latent(adata))',
      });
    }
  }
  let confidence: Float32Array | null = null;
  if (prediction) {
    checkKey('predictionKey', predictionKey);
    if (confidenceKey !== null) {
      checkKey('confidenceKey', confidenceKey);
      if (confidenceKey === predictionKey) throw new InvalidOptionError('confidenceKey', `confidenceKey and predictionKey are both '${predictionKey}'.`);
    }
    const k = prediction.classes.length;
    if (prediction.labels.length !== nObs || prediction.probabilities.length !== nObs * k) {
      throw new InvalidOptionError('prediction', `the prediction has ${prediction.labels.length} labels and ${prediction.probabilities.length} probabilities for ${k} classes, but the AnnData has ${nObs} cells.`, {
        hint: 'predict on this AnnData (model.predict(adata))',
      });
    }
    if (confidenceKey !== null && prediction.confidence) {
      if (prediction.confidence.length !== nObs) throw new InvalidOptionError('prediction', `the prediction has ${prediction.confidence.length} confidences for ${nObs} cells.`);
      confidence = prediction.confidence;
    } else if (confidenceKey !== null) {
      const classIndex = new Map(prediction.classes.map((c, j) => [c, j]));
      confidence = new Float32Array(nObs);
      for (let i = 0; i < nObs; i++) {
        const j = classIndex.get(prediction.labels[i]!);
        confidence[i] = j === undefined ? Number.NaN : prediction.probabilities[i * k + j]!;
      }
    }
  }
  if (latent) adata.obsm[latentKey] = { kind: 'dense', shape: [latent.nRows, latent.nCols], dtype: 'float32', data: latent.data };
  if (prediction) {
    const columns: Record<string, unknown[] | Float32Array> = { [predictionKey]: prediction.labels };
    const info: Record<string, AnnDataColumnInfo> = { [predictionKey]: { kind: 'categorical', categories: [...new Set(prediction.labels)].sort(), ordered: false } };
    if (confidence && confidenceKey !== null) {
      columns[confidenceKey] = confidence;
      info[confidenceKey] = { kind: 'numeric', dtype: 'float32' };
    }
    adata.obs.table = adata.obs.table.assign(columns);
    adata.obs.columns = { ...adata.obs.columns, ...info };
  }
  return adata;
}
