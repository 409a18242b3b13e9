import { InvalidOptionError } from '../errors';

function check(truth: ArrayLike<string>, predicted: ArrayLike<string>): void {
  if (truth.length !== predicted.length) throw new InvalidOptionError('predicted', `${predicted.length} predictions for ${truth.length} labels.`);
  if (truth.length === 0) throw new InvalidOptionError('labels', 'No labels to score.');
}

/** Fraction of cells whose predicted label equals the true label. */
export function accuracy(truth: ArrayLike<string>, predicted: ArrayLike<string>): number {
  check(truth, predicted);
  let ok = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === predicted[i]) ok++;
  return ok / truth.length;
}

/**
 * Macro-averaged F1 over the classes present in the truth or the predictions (scikit-learn's
 * `f1_score(average='macro')`: a class with no true and no predicted cells does not exist here; a
 * class with zero precision and recall scores 0).
 */
export function macroF1(truth: ArrayLike<string>, predicted: ArrayLike<string>): number {
  check(truth, predicted);
  const classes = new Set<string>([...Array.from(truth), ...Array.from(predicted)]);
  let sum = 0;
  for (const c of classes) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i] === c;
      const p = predicted[i] === c;
      if (t && p) tp++;
      else if (p) fp++;
      else if (t) fn++;
    }
    sum += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return sum / classes.size;
}
