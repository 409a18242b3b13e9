/** True for null, undefined and NaN: the values every covariate encoder treats as missing. */
export function isMissingValue(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));
}
