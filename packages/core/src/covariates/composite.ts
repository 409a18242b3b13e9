import { InvalidOptionError } from '../errors';
import { CategoricalEncoder, type CategoricalEncoderState } from './categorical';
import { ContinuousEncoder, type ContinuousEncoderState } from './continuous';
import { type CovariateColumn, type WarnFn, defaultWarn } from './column';
import { CovariateError } from './errors';
import { OrdinalEncoder, type OrdinalEncoderState, type OrdinalSpec } from './ordinal';
import { InteractionEncoder, type InteractionEncoderState } from './interaction';
import { DoseEncoder, type DoseEncoderState, type DoseSpec } from './dose';

/**
 * Which covariates to encode and how. Output columns come in this order: categorical, continuous,
 * ordinal, interactions, dose (each group in the order given). Priors that read a group by position
 * rely on it (the `treatment` prior reads the dose columns at the end).
 */
export interface CovariateSpec {
  /** Obs column names one-hot encoded (in this order). */
  categorical?: readonly string[];
  /** Obs column names encoded as one continuous column each (after the categorical ones). */
  continuous?: readonly string[];
  /** Standardise continuous covariates (default true; the reference passes them through raw). */
  standardize?: boolean;
  /**
   * Ordered covariates, thermometer-coded ({@link OrdinalEncoder}); a bare key is a numeric
   * ordinal whose levels are its sorted training values.
   */
  ordinal?: readonly (OrdinalSpec | string)[];
  /** Crossed categorical covariates, e.g. `[['cell_type', 'disease']]`: one-hot of the combinations seen in training ({@link InteractionEncoder}). */
  interactions?: readonly (readonly string[])[];
  /** Doses as log1p, optionally one column per treatment ({@link DoseEncoder}); placed last. */
  dose?: readonly DoseSpec[];
}

/** Columns by name, e.g. from an AnnData obs table (`table.array(name)`). */
export type CovariateColumns = Readonly<Record<string, CovariateColumn | undefined>>;

/** Saved state of a {@link CovariateEncoder}: store it next to the model weights. */
export interface CovariateEncoderState {
  format: 'invae-covariates';
  version: 1;
  encoders: (CategoricalEncoderState | ContinuousEncoderState | OrdinalEncoderState | InteractionEncoderState | DoseEncoderState)[];
}

/** An encoded covariate matrix: `nRows × nCols`, row-major float32. */
export interface CovariateMatrix {
  nRows: number;
  nCols: number;
  data: Float32Array;
  /** Name of every column (`key=category` or the continuous key). */
  columnNames: string[];
}

type AnyEncoder = CategoricalEncoder | ContinuousEncoder | OrdinalEncoder | InteractionEncoder | DoseEncoder;

/** Name of an encoder (its column, or `a×b` for an interaction). */
function nameOf(e: AnyEncoder): string {
  return e instanceof InteractionEncoder ? e.name : e.column;
}

/** Obs columns an encoder reads. */
function inputsOf(e: AnyEncoder): string[] {
  if (e instanceof InteractionEncoder) return [...e.columns];
  if (e instanceof DoseEncoder) return e.inputs;
  return [e.column];
}

function encoderFromJSON(e: CovariateEncoderState['encoders'][number]): AnyEncoder {
  switch (e?.type) {
    case 'continuous':
      return ContinuousEncoder.fromJSON(e);
    case 'ordinal':
      return OrdinalEncoder.fromJSON(e);
    case 'interaction':
      return InteractionEncoder.fromJSON(e);
    case 'dose':
      return DoseEncoder.fromJSON(e);
    default:
      return CategoricalEncoder.fromJSON(e as CategoricalEncoderState);
  }
}

/**
 * Encodes several obs columns into one covariate matrix (cells × dims): the categorical keys first
 * (one-hot, sorted categories), then the continuous keys, then ordinal, interaction and dose
 * encodings (see {@link CovariateSpec}), each in the order given.
 *
 * At transform time a key absent from the columns becomes all-zero columns with a warning, as the
 * reference inVAE does; unseen categories become all-zero rows with a warning.
 */
export class CovariateEncoder {
  private readonly encoders: readonly AnyEncoder[];

  private constructor(encoders: AnyEncoder[]) {
    this.encoders = Object.freeze(encoders.slice());
  }

  /**
   * Fits one encoder per key on training columns.
   * @throws InvalidOptionError for a duplicate key; CovariateError for a missing or unusable column.
   */
  static fit(spec: CovariateSpec, columns: CovariateColumns, options: { warn?: WarnFn } = {}): CovariateEncoder {
    const cat = spec.categorical ?? [];
    const cont = spec.continuous ?? [];
    const ord = (spec.ordinal ?? []).map((o): OrdinalSpec => (typeof o === 'string' ? { key: o } : o));
    const inter = spec.interactions ?? [];
    const dose = spec.dose ?? [];
    for (const o of ord) if (typeof o?.key !== 'string') throw new InvalidOptionError('covariates.ordinal', `Every ordinal covariate needs a 'key', got ${JSON.stringify(o)}.`);
    for (const d of dose) if (typeof d?.key !== 'string') throw new InvalidOptionError('covariates.dose', `Every dose covariate needs a 'key', got ${JSON.stringify(d)}.`);
    for (const t of inter) if (!Array.isArray(t) || t.some((k) => typeof k !== 'string')) throw new InvalidOptionError('covariates.interactions', `Every interaction is an array of column names, got ${JSON.stringify(t)}.`);
    const all = [...cat, ...cont, ...ord.map((o) => o.key), ...dose.map((d) => d.key)];
    const dup = all.find((k, i) => all.indexOf(k) !== i);
    if (dup !== undefined) throw new InvalidOptionError('covariates', `Covariate '${dup}' is listed twice.`);
    const interNames = inter.map((t) => t.join('×'));
    const dupInter = interNames.find((k, i) => interNames.indexOf(k) !== i);
    if (dupInter !== undefined) throw new InvalidOptionError('covariates.interactions', `Interaction '${dupInter}' is listed twice.`);
    const lengths = new Set<number>();
    const get = (key: string): CovariateColumn => {
      const col = columns[key];
      if (col === undefined) {
        throw new CovariateError(key, `Covariate '${key}' is not among the training columns (${Object.keys(columns).join(', ') || 'none'}).`, {
          code: 'COVARIATE_MISSING',
          hint: 'Check the obs column names; fitting needs every covariate.',
        });
      }
      lengths.add(col.length);
      return col;
    };
    const encoders: AnyEncoder[] = [
      ...cat.map((k) => CategoricalEncoder.fit(k, get(k), options)),
      ...cont.map((k) => ContinuousEncoder.fit(k, get(k), { standardize: spec.standardize })),
      ...ord.map((o) => OrdinalEncoder.fit(o, get(o.key), options)),
      ...inter.map((t) => InteractionEncoder.fit(t, t.map(get), options)),
      ...dose.map((d) => DoseEncoder.fit(d, get(d.key), d.treatment === undefined ? undefined : get(d.treatment), options)),
    ];
    if (lengths.size > 1) {
      throw new CovariateError(all.join(','), `Covariate columns have different lengths (${[...lengths].join(', ')}).`);
    }
    return new CovariateEncoder(encoders);
  }

  /** Rebuilds an encoder from {@link CovariateEncoder.toJSON} output (e.g. parsed from a model file). */
  static fromJSON(state: CovariateEncoderState): CovariateEncoder {
    if (state?.format !== 'invae-covariates' || state.version !== 1 || !Array.isArray(state.encoders)) {
      throw new CovariateError('', 'Not a saved invae covariate encoder (format invae-covariates, version 1).', {
        code: 'COVARIATE_STATE_INVALID',
      });
    }
    return new CovariateEncoder(state.encoders.map(encoderFromJSON));
  }

  /** Keys encoded, in output order (an interaction is named `a×b`, a dose by its dose column). */
  get keys(): string[] {
    return this.encoders.map(nameOf);
  }

  /** Every obs column the encoders read (deduplicated, in output order). */
  get inputColumns(): string[] {
    return [...new Set(this.encoders.flatMap(inputsOf))];
  }

  /** Output column range `[start, end)` of the encoder named `key` (see {@link keys}); undefined if absent. */
  columnRange(key: string): [number, number] | undefined {
    let offset = 0;
    for (const e of this.encoders) {
      if (nameOf(e) === key) return [offset, offset + e.width];
      offset += e.width;
    }
    return undefined;
  }

  /** Total output width (covariate dimension). */
  get width(): number {
    return this.encoders.reduce((s, e) => s + e.width, 0);
  }

  /** Names of the output columns. */
  columnNames(): string[] {
    return this.encoders.flatMap((e) => e.columnNames());
  }

  /** Categories of a categorical key (undefined for continuous or unknown keys). */
  categoriesOf(key: string): readonly string[] | undefined {
    const e = this.encoders.find((x) => x instanceof CategoricalEncoder && x.column === key);
    return e instanceof CategoricalEncoder ? e.categories : undefined;
  }

  /**
   * Encodes `columns` into a matrix. The row count comes from the columns present, or `nRows`
   * when none of the keys is present (or to check the lengths). `options.mapped`: per categorical
   * key, categories encoded by another encoder (query mapping, see `Invae.map`), which give all-zero
   * rows here without the unseen-category warning.
   * @throws CovariateError when lengths disagree or the row count cannot be known.
   */
  transform(columns: CovariateColumns, options: { warn?: WarnFn; nRows?: number; mapped?: Readonly<Record<string, ReadonlySet<string>>> } = {}): CovariateMatrix {
    const warn = options.warn ?? defaultWarn;
    let nRows = options.nRows;
    for (const e of this.encoders) {
      for (const key of inputsOf(e)) {
        const col = columns[key];
        if (col === undefined) continue;
        if (nRows === undefined) nRows = col.length;
        else if (col.length !== nRows) {
          throw new CovariateError(key, `Covariate '${key}' has ${col.length} rows, expected ${nRows}.`, { code: 'COVARIATE_LENGTH' });
        }
      }
    }
    if (nRows === undefined) {
      if (this.encoders.length === 0) nRows = 0;
      else {
        throw new CovariateError(this.keys.join(','), 'None of the covariates is present, so the number of cells is unknown.', {
          code: 'COVARIATE_MISSING',
          hint: 'Pass nRows to encode all-zero covariates, or provide the obs columns.',
        });
      }
    }
    if (!Number.isSafeInteger(nRows) || nRows < 0) throw new InvalidOptionError('nRows', `nRows must be a non-negative integer, got ${nRows}.`);
    const nCols = this.width;
    const data = new Float32Array(nRows * nCols);
    let offset = 0;
    for (const e of this.encoders) {
      if (e instanceof InteractionEncoder) {
        const cols = e.columns.map((k) => columns[k]);
        const absent = e.columns.filter((_, j) => cols[j] === undefined);
        if (absent.length) warn(`interaction ${e.name}: column(s) ${absent.map((k) => `'${k}'`).join(', ')} missing from the data; its ${e.width} column(s) are set to zero.`);
        else e.encodeInto(cols as CovariateColumn[], data, nCols, offset, { warn });
      } else {
        const col = columns[e.column];
        if (col === undefined) {
          warn(`covariate '${e.column}' is missing from the data; its ${e.width} column(s) are set to zero.`);
        } else if (e instanceof CategoricalEncoder) {
          e.encodeInto(col, data, nCols, offset, { warn, mapped: options.mapped?.[e.column] });
        } else if (e instanceof OrdinalEncoder) {
          e.encodeInto(col, data, nCols, offset, { warn });
        } else if (e instanceof DoseEncoder) {
          e.encodeInto(col, e.treatment === null ? undefined : columns[e.treatment], data, nCols, offset, { warn });
        } else {
          e.encodeInto(col, data, nCols, offset);
        }
      }
      offset += e.width;
    }
    return { nRows, nCols, data, columnNames: this.columnNames() };
  }

  /** JSON-serialisable state (categories, means, scales). */
  toJSON(): CovariateEncoderState {
    return { format: 'invae-covariates', version: 1, encoders: this.encoders.map((e) => e.toJSON()) };
  }
}
