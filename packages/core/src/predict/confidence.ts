import { InvalidOptionError } from '../errors';
import type { Prediction } from './types';

/** The label of cells whose prediction is less confident than the threshold (see {@link withConfidence}). */
export const UNKNOWN_LABEL = 'unknown';

/**
 * `prediction` with every cell's confidence, the probability of its most probable class, and —
 * with a threshold — the label {@link UNKNOWN_LABEL} for cells whose confidence is below it (the
 * class probabilities are kept as they were).
 * @throws InvalidOptionError unless `unknownThreshold` is a number in [0, 1] (or null/undefined: none).
 */
export function withConfidence(prediction: Prediction, unknownThreshold?: number | null): Prediction {
  if (unknownThreshold !== undefined && unknownThreshold !== null && !(typeof unknownThreshold === 'number' && unknownThreshold >= 0 && unknownThreshold <= 1)) {
    throw new InvalidOptionError('unknownThreshold', `unknownThreshold must be a probability in [0, 1], got ${String(unknownThreshold)}.`, {
      hint: `cells whose most probable class has a probability below it are labelled '${UNKNOWN_LABEL}'; e.g. 0.5`,
    });
  }
  const k = prediction.classes.length;
  const n = prediction.labels.length;
  const confidence = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 0; j < k; j++) best = Math.max(best, prediction.probabilities[i * k + j]!);
    confidence[i] = best;
  }
  const labels = unknownThreshold === undefined || unknownThreshold === null ? prediction.labels : prediction.labels.map((l, i) => (confidence[i]! < unknownThreshold ? UNKNOWN_LABEL : l));
  return { ...prediction, labels, confidence };
}
