import { CovariateError } from './errors';
import { type CovariateColumn, type WarnFn, defaultWarn, listSome } from './column';
import { isMissingValue } from './missing';

/** Saved state of an {@link InteractionEncoder}. */
export interface InteractionEncoderState {
  type: 'interaction';
  /** The obs columns crossed, in order. */
  columns: string[];
  /** Level combinations seen in training, in one-hot column order; each lists one value per column. */
  pairs: string[][];
}

/** Separator of combination keys (a unit separator, never part of a sensible category name). */
const SEP = '\u001f';

function compareTuples(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) {
      const nx = Number(x);
      const ny = Number(y);
      if (x.trim() !== '' && y.trim() !== '' && Number.isFinite(nx) && Number.isFinite(ny)) return nx - ny;
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

/** The values of row `i` across the interacting columns, as strings, or null when any is missing. */
function rowTuple(values: readonly CovariateColumn[], i: number): string[] | null {
  const parts: string[] = [];
  for (const v of values) {
    const x = v[i];
    if (isMissingValue(x)) return null;
    parts.push(String(x));
  }
  return parts;
}

/**
 * One-hot encoding of the combination of two (or more) categorical covariates, e.g.
 * `cell_type × disease`: one column per combination SEEN IN TRAINING (sorted), so that a prior can
 * give each combination its own shift on top of the main effects. A combination never seen in
 * training, or a cell with a missing value in any of the columns, gives a row of zeros and a warning.
 */
export class InteractionEncoder {
  /** The obs columns crossed. */
  readonly columns: readonly string[];
  /** Combinations (one value per column), in output column order. */
  readonly pairs: readonly (readonly string[])[];
  private readonly lookup: Map<string, number>;

  private constructor(columns: string[], pairs: string[][]) {
    this.columns = Object.freeze(columns.slice());
    this.pairs = Object.freeze(pairs.map((p) => Object.freeze(p.slice())));
    this.lookup = new Map(pairs.map((p, i) => [p.join(SEP), i]));
  }

  /** Name of the encoder: the columns joined by `×`. */
  get name(): string {
    return this.columns.join('×');
  }

  /**
   * Learns the combinations present in the training columns.
   * @throws CovariateError naming the columns when fewer than two are given, lengths differ, or no row is complete.
   */
  static fit(keys: readonly string[], values: readonly CovariateColumn[], options: { warn?: WarnFn } = {}): InteractionEncoder {
    const warn = options.warn ?? defaultWarn;
    const name = keys.join('×');
    if (keys.length < 2 || new Set(keys).size !== keys.length) {
      throw new CovariateError(name, `An interaction needs at least two different columns, got ${JSON.stringify(keys)}.`, { code: 'COVARIATE_SPEC_INVALID' });
    }
    const n = values[0]!.length;
    values.forEach((v, j) => {
      if (v.length !== n) throw new CovariateError(keys[j]!, `Interaction ${name}: column '${keys[j]}' has ${v.length} rows, expected ${n}.`, { code: 'COVARIATE_LENGTH' });
    });
    const seen = new Map<string, string[]>();
    let incomplete = 0;
    for (let i = 0; i < n; i++) {
      const tuple = rowTuple(values, i);
      if (tuple === null) {
        incomplete++;
        continue;
      }
      const k = tuple.join(SEP);
      if (!seen.has(k)) seen.set(k, tuple);
    }
    if (seen.size === 0) throw new CovariateError(name, `Interaction ${name} has no row with all of its columns present.`);
    if (incomplete > 0) warn(`interaction ${name}: ${incomplete} row(s) with a missing value while fitting; they are encoded as all-zero rows.`);
    return new InteractionEncoder([...keys], [...seen.values()].sort(compareTuples));
  }

  /** Rebuilds an encoder from {@link InteractionEncoder.toJSON} output. */
  static fromJSON(state: InteractionEncoderState): InteractionEncoder {
    const c = state?.columns;
    const p = state?.pairs;
    const ok =
      state?.type === 'interaction' &&
      Array.isArray(c) &&
      c.length >= 2 &&
      c.every((x) => typeof x === 'string') &&
      Array.isArray(p) &&
      p.length > 0 &&
      p.every((t) => Array.isArray(t) && t.length === c.length && t.every((x) => typeof x === 'string')) &&
      new Set(p.map((t) => t.join(SEP))).size === p.length;
    if (!ok) throw new CovariateError(Array.isArray(c) ? c.join('×') : '', 'Invalid saved interaction encoder state.', { code: 'COVARIATE_STATE_INVALID' });
    return new InteractionEncoder(c, p);
  }

  /** Output width: the number of combinations seen in training. */
  get width(): number {
    return this.pairs.length;
  }

  /** Output column names, `a=x×b=y`. */
  columnNames(): string[] {
    return this.pairs.map((t) => t.map((v, j) => `${this.columns[j]}=${v}`).join('×'));
  }

  /** Writes the one-hot codes into `out` (rows of `rowStride` floats, from column `offset`). */
  encodeInto(values: readonly CovariateColumn[], out: Float32Array, rowStride: number, offset: number, options: { warn?: WarnFn } = {}): void {
    const warn = options.warn ?? defaultWarn;
    const n = values[0]?.length ?? 0;
    values.forEach((v, j) => {
      if (v.length !== n) throw new CovariateError(this.columns[j]!, `Interaction ${this.name}: column '${this.columns[j]}' has ${v.length} rows, expected ${n}.`, { code: 'COVARIATE_LENGTH' });
    });
    const unseen = new Set<string>();
    let nUnseen = 0;
    let missing = 0;
    for (let i = 0; i < n; i++) {
      const tuple = rowTuple(values, i);
      if (tuple === null) {
        missing++;
        continue;
      }
      const k = this.lookup.get(tuple.join(SEP));
      if (k === undefined) {
        nUnseen++;
        unseen.add(tuple.join('×'));
        continue;
      }
      out[i * rowStride + offset + k] = 1;
    }
    if (nUnseen > 0) warn(`interaction ${this.name}: ${nUnseen} cell(s) have combinations not seen in training (${listSome([...unseen])}); they are encoded as all-zero rows.`);
    if (missing > 0) warn(`interaction ${this.name}: ${missing} cell(s) have a missing value; they are encoded as all-zero rows.`);
  }

  /** One-hot matrix (rows × width). */
  transform(values: readonly CovariateColumn[], options: { warn?: WarnFn } = {}): Float32Array {
    const n = values[0]?.length ?? 0;
    const out = new Float32Array(n * this.width);
    this.encodeInto(values, out, this.width, 0, options);
    return out;
  }

  /** JSON-serialisable state. */
  toJSON(): InteractionEncoderState {
    return { type: 'interaction', columns: this.columns.slice(), pairs: this.pairs.map((p) => p.slice()) };
  }
}
