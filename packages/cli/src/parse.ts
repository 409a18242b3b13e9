import { InvalidArgumentError } from 'commander';

/** commander parser of an integer ≥ `min`. */
export function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, got '${value}'.`);
    }
    return n;
  };
}

/** commander parser of a finite number ≥ `min`. */
export function number(min = -Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min) throw new InvalidArgumentError(`expected a number ≥ ${min}, got '${value}'.`);
    return n;
  };
}

/** commander parser of a comma-separated list of integers ≥ `min` (e.g. seeds `0,1,2`). */
export function integerList(min: number) {
  const one = integer(min);
  return (value: string): number[] => {
    const items = list(value);
    if (!items.length) throw new InvalidArgumentError(`expected a comma-separated list of integers ≥ ${min}, got '${value}'.`);
    return items.map(one);
  };
}

/** commander parser of `--epochs`: a positive integer or `auto`. */
export function epochs(value: string): number | 'auto' {
  return value === 'auto' ? 'auto' : integer(1)(value);
}

/** commander parser of a comma-separated list (empty entries dropped). */
export function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** commander parser of a JSON object (prior options). */
export function jsonObject(value: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch (e) {
    throw new InvalidArgumentError(`expected a JSON object, got '${value}' (${(e as Error).message}).`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError(`expected a JSON object like '{"key": 1}', got '${value}'.`);
  return v as Record<string, unknown>;
}
