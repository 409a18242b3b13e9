import { InvalidOptionError } from '../errors';
import { Rng, checkSeed } from '../random/rng';
import { permutation } from '../random/permutation';

/** Row indices of a train/validation split, each sorted ascending. */
export interface TrainValidationSplit {
  train: Int32Array;
  validation: Int32Array;
}

/**
 * Splits rows 0..nRows−1 at random into training and validation sets. The validation set has
 * `round(nRows × validationFraction)` rows (0 when the fraction is 0); both outputs are sorted so
 * that reading them from a file stays sequential. Same seed, same split.
 */
export function trainValidationSplit(options: { nRows: number; validationFraction: number; seed?: number }): TrainValidationSplit {
  const { nRows, validationFraction } = options;
  if (!Number.isSafeInteger(nRows) || nRows < 0) throw new InvalidOptionError('nRows', `nRows must be a non-negative integer, got ${nRows}.`);
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new InvalidOptionError('validationFraction', `validationFraction must be in [0, 1), got ${validationFraction}.`, {
      hint: 'Use e.g. 0.1 to hold out 10% of the cells.',
    });
  }
  const nVal = Math.round(nRows * validationFraction);
  if (nVal > 0 && nVal === nRows) throw new InvalidOptionError('validationFraction', 'The validation split would leave no training rows.');
  const perm = permutation(new Rng(checkSeed(options.seed ?? 0)), nRows);
  const validation = perm.slice(0, nVal).sort();
  const train = perm.slice(nVal).sort();
  return { train, validation };
}
