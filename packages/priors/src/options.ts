import { PriorOptionError } from '@invae/core';

/** Raw plugin options as the user gives them. */
export type RawOptions = Readonly<Record<string, unknown>>;

/** Reads a boolean option (default `def`). @throws PriorOptionError */
export function readBool(plugin: string, o: RawOptions, key: string, def: boolean): boolean {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'boolean') throw new PriorOptionError(plugin, key, `expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** Reads an integer option ≥ `min` (default `def`). @throws PriorOptionError */
export function readInt(plugin: string, o: RawOptions, key: string, def: number, min = 1): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new PriorOptionError(plugin, key, `expected an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

/** Reads a finite number option ≥ 0 (default `def`). @throws PriorOptionError */
export function readNumber(plugin: string, o: RawOptions, key: string, def: number): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new PriorOptionError(plugin, key, `expected a finite number ≥ 0, got ${JSON.stringify(v)}`);
  return v;
}

/** Reads a non-empty string option (default `def`; `undefined` default = optional). @throws PriorOptionError */
export function readString<D extends string | undefined>(plugin: string, o: RawOptions, key: string, def: D): string | D {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'string' || v.length === 0) throw new PriorOptionError(plugin, key, `expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

/** Reads one of `choices` (default `def`). @throws PriorOptionError */
export function readChoice<T extends string>(plugin: string, o: RawOptions, key: string, choices: readonly T[], def: T): T {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    throw new PriorOptionError(plugin, key, `expected one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** Reads an array of distinct strings (numbers are turned into strings); `undefined` when absent and optional. @throws PriorOptionError */
export function readStringList(plugin: string, o: RawOptions, key: string, options: { required?: boolean; nonEmpty?: boolean } = {}): string[] | undefined {
  const v = o[key];
  if (v === undefined) {
    if (options.required) throw new PriorOptionError(plugin, key, 'is required');
    return undefined;
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' && typeof x !== 'number')) {
    throw new PriorOptionError(plugin, key, `expected an array of names, got ${JSON.stringify(v)}`);
  }
  const out = v.map(String);
  if (options.nonEmpty && out.length === 0) throw new PriorOptionError(plugin, key, 'must not be empty');
  const dup = out.find((x, i) => out.indexOf(x) !== i);
  if (dup !== undefined) throw new PriorOptionError(plugin, key, `${JSON.stringify(dup)} is listed twice`);
  return out;
}

/** Rejects options not in `known`, naming the first unknown one. @throws PriorOptionError */
export function rejectUnknown(plugin: string, o: RawOptions, known: readonly string[]): void {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new PriorOptionError(plugin, '(options)', `expected an object of options, got ${JSON.stringify(o)}`);
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw new PriorOptionError(plugin, k, 'unknown option', { hint: `known options: ${known.join(', ')}` });
  }
}
