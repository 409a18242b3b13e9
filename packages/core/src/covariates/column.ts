/** One covariate column as plain data: strings, numbers, or either with missing values (null/undefined). */
export type CovariateColumn =
  | readonly string[]
  | readonly number[]
  | readonly (string | number | null | undefined)[]
  | Float32Array
  | Float64Array
  | Int32Array;

/** Receives human-readable warnings (unseen categories, missing keys, ...). */
export type WarnFn = (message: string) => void;

/** Default warning sink: `console.warn` with an `invae: warning:` prefix. */
export const defaultWarn: WarnFn = (message) => {
  console.warn(`invae: warning: ${message}`);
};

/** Formats up to `max` values for a message. */
export function listSome(values: readonly unknown[], max = 5): string {
  const shown = values.slice(0, max).map((v) => JSON.stringify(v)).join(', ');
  return values.length > max ? `${shown}, … (${values.length} in all)` : shown;
}
