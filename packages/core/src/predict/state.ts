import { InvalidOptionError } from '../errors';
import { EnvironmentClassifier } from './environment';
import { KnnClassifier } from './knn';
import { LinearClassifier } from './linear';
import type { InvariantPredictor, PredictorState } from './types';

/** Restores any predictor from its saved state (`predictor.toJSON()`). */
export function predictorFromState(state: PredictorState): InvariantPredictor {
  switch (state?.kind) {
    case 'linear':
      return LinearClassifier.fromJSON(state);
    case 'knn':
      return KnnClassifier.fromJSON(state);
    case 'environment':
      return EnvironmentClassifier.fromJSON(state);
    default:
      throw new InvalidOptionError('predictor', `Unknown predictor kind ${JSON.stringify(state?.kind)}.`, { hint: 'expected linear, knn or environment' });
  }
}
