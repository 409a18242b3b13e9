/** A decoded dataframe column (what the column encodings read), shared by the dataframe and column encodings. */
import type { ColumnInfo } from '../anndata';

/** A decoded dataframe column: its values (for the arquero table) and metadata. */
export interface ColumnData {
  readonly __column: true;
  info: ColumnInfo;
  values: ArrayLike<unknown>;
}

/** Builds a {@link ColumnData}. */
export function column(info: ColumnInfo, values: ArrayLike<unknown>): ColumnData {
  return { __column: true, info, values };
}

/** True if a value is a {@link ColumnData}. */
export function isColumnData(v: unknown): v is ColumnData {
  return typeof v === 'object' && v !== null && (v as ColumnData).__column === true;
}
