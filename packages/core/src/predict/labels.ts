import { InvalidOptionError } from '../errors';

/**
 * Maps string labels to class indices; classes are the sorted distinct training labels (as
 * scikit-learn's LabelEncoder), so the encoding does not depend on the order of the cells.
 */
export class LabelEncoder {
  /** Classes in index order. */
  readonly classes: readonly string[];
  private readonly index: Map<string, number>;

  constructor(classes: readonly string[]) {
    this.classes = [...classes];
    this.index = new Map(this.classes.map((c, i) => [c, i]));
    if (this.index.size !== this.classes.length) throw new InvalidOptionError('classes', 'Class labels must be distinct.');
  }

  /** Fits the classes of `labels` (missing labels — null/undefined/empty — are rejected). */
  static fit(labels: ArrayLike<string | null | undefined>, what = 'labels'): LabelEncoder {
    const set = new Set<string>();
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i];
      if (l === null || l === undefined || l === '') {
        throw new InvalidOptionError(what, `Label of cell ${i} is missing.`, { hint: 'drop unlabelled cells before training a predictor' });
      }
      set.add(l);
    }
    if (set.size < 2) throw new InvalidOptionError(what, `A classifier needs at least two classes, got ${set.size}.`);
    return new LabelEncoder([...set].sort());
  }

  /** Class indices of `labels`. @throws InvalidOptionError on a label not seen in training. */
  encode(labels: ArrayLike<string | null | undefined>, what = 'labels'): Int32Array {
    const out = new Int32Array(labels.length);
    for (let i = 0; i < labels.length; i++) {
      const k = this.index.get(labels[i] as string);
      if (k === undefined) throw new InvalidOptionError(what, `Label '${labels[i]}' of cell ${i} was not seen in training (classes: ${this.classes.join(', ')}).`);
      out[i] = k;
    }
    return out;
  }

  /** Labels of class indices. */
  decode(indices: ArrayLike<number>): string[] {
    return Array.from(indices, (k) => this.classes[k]!);
  }
}
