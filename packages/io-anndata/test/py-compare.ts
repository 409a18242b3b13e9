/** Compares what readH5ad returns with test/python/dump_h5ad.py's dump of the same file (Python anndata). */
import { expect } from 'vitest';
import type { AnnData, Frame, Matrix } from '../src/index';
import { runPython } from './helpers';

type Json = unknown;

const num = (x: unknown): number | null => {
  if (x === null || x === undefined) return null;
  const v = typeof x === 'boolean' ? (x ? 1 : 0) : Number(x);
  return Number.isNaN(v) ? null : v;
};

function isMatrix(v: unknown): v is Matrix {
  return typeof v === 'object' && v !== null && 'kind' in v && 'shape' in v && 'data' in v;
}
function isFrame(v: unknown): v is Frame {
  return typeof v === 'object' && v !== null && 'table' in v && 'columns' in v;
}

/** Our matrix in the dump's shape (values as numbers, NaN → null). */
export function matrixJson(m: Matrix, withDtype = true): Json {
  const base = withDtype ? { shape: m.shape, dtype: m.dtype } : { shape: m.shape };
  if (m.kind === 'dense') return { kind: 'dense', ...base, values: Array.from(m.data as ArrayLike<number>, num) };
  return { kind: m.kind, ...base, data: Array.from(m.data as ArrayLike<number>, num), indices: Array.from(m.indices), indptr: Array.from(m.indptr, Number) };
}

/** Our frame in the dump's shape. */
export function frameJson(f: Frame): Json {
  const cols: Record<string, Json> = {};
  for (const [name, info] of Object.entries(f.columns)) {
    const vals = Array.from(f.table.array(name) as ArrayLike<unknown>);
    if (info.kind === 'categorical') {
      cols[name] = {
        kind: 'categorical',
        ordered: info.ordered ?? false,
        categories: (info.categories ?? []).map((c) => (typeof c === 'string' ? c : num(c))),
        values: vals.map((v) => (v === null || v === undefined ? null : typeof v === 'string' ? v : num(v))),
      };
    } else if (info.kind === 'string' || info.kind === 'nullable-string') {
      cols[name] = { kind: 'other', values: vals.map((v) => (v === null || v === undefined ? null : String(v))) };
    } else if (info.kind === 'nullable-int' || info.kind === 'nullable-bool') {
      // pandas' nullable extension dtypes: Int64, UInt8…, boolean
      const dtype = info.kind === 'nullable-bool' ? 'boolean' : (info.dtype ?? '').replace(/^u?int/, (m) => (m === 'uint' ? 'UInt' : 'Int'));
      cols[name] = { kind: 'numeric', dtype, values: vals.map(num) };
    } else {
      cols[name] = { kind: 'numeric', dtype: info.kind === 'bool' ? 'bool' : info.dtype, values: vals.map(num) };
    }
  }
  return { index: Array.from(f.table.array(f.indexName) as ArrayLike<unknown>, String), columns: Object.keys(f.columns), cols };
}

/** A uns/obsm value in the dump's shape. */
export function valueJson(v: unknown): Json {
  if (typeof v === 'string') return { str: v };
  if (typeof v === 'boolean') return { bool: v };
  if (typeof v === 'number' || typeof v === 'bigint') return { num: num(v) };
  if (isFrame(v)) return { frame: frameJson(v) };
  if (isMatrix(v)) return { array: matrixJson(v, false) };
  if (Array.isArray(v)) {
    const isBool = v.length > 0 && v.every((x) => typeof x === 'boolean');
    const isNum = v.length > 0 && v.every((x) => typeof x === 'number');
    return { array: { kind: 'dense', shape: [v.length], values: isBool || isNum ? v.map(num) : v.map((x) => (x === null ? null : String(x))) } };
  }
  if (ArrayBuffer.isView(v)) {
    const a = Array.from(v as unknown as ArrayLike<number | bigint>, num);
    return { array: { kind: 'dense', shape: [a.length], values: a } };
  }
  if (typeof v === 'object' && v !== null) return { dict: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, valueJson(x)])) };
  return { other: String(v) };
}

/** Drops dtype from uns/obsm array dumps (our 1-D uns arrays keep values, not numpy dtype names) and maps object → strings. */
function pyValue(v: Json): Json {
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, Json>;
  if ('num' in o) return { num: o.num };
  if ('array' in o) {
    const { dtype: _d, ...rest } = o.array as Record<string, Json>;
    return { array: rest };
  }
  if ('recarray' in o) {
    // a numpy record array; readH5ad gives it as field → values
    const fields = o.recarray as Record<string, Json[]>;
    return { dict: Object.fromEntries(Object.entries(fields).map(([k, vals]) => [k, { array: { kind: 'dense', shape: [vals.length], values: vals } }])) };
  }
  if ('dict' in o) return { dict: Object.fromEntries(Object.entries(o.dict as Record<string, Json>).map(([k, x]) => [k, pyValue(x)])) };
  if ('frame' in o) return { frame: pyFrame(o.frame) };
  return o;
}
function pyFrame(f: Json): Json {
  const fr = f as { index: string[]; columns: string[]; cols: Record<string, Record<string, Json>> };
  const cols: Record<string, Json> = {};
  for (const [k, c] of Object.entries(fr.cols)) {
    if (c.kind === 'other') cols[k] = { kind: 'other', values: c.values };
    else cols[k] = c;
  }
  return { index: fr.index, columns: fr.columns, cols };
}

/** Runs the Python judge on `file` and checks every element of `a` against it, value by value. */
export function expectSameAsPython(file: string, a: AnnData, label = file): void {
  const py = JSON.parse(runPython('dump_h5ad.py', [file])) as Record<string, Json> & {
    shape: number[];
    X: Json;
    layers: Record<string, Json>;
    obsm: Record<string, Json>;
    varm: Record<string, Json>;
    obsp: Record<string, Json>;
    uns: Record<string, Json>;
    raw: { X: Json; var: Json } | null;
  };
  expect([a.nObs, a.nVars], `${label} shape`).toEqual(py.shape);
  expect(a.X ? matrixJson(a.X) : null, `${label} X`).toEqual(py.X);
  expect(frameJson(a.obs), `${label} obs`).toEqual(pyFrame(py.obs));
  expect(frameJson(a.var), `${label} var`).toEqual(pyFrame(py.var));
  expect(Object.keys(a.layers).sort(), `${label} layer keys`).toEqual(Object.keys(py.layers).sort());
  for (const [k, m] of Object.entries(a.layers)) expect(matrixJson(m), `${label} layers/${k}`).toEqual(py.layers[k]);
  for (const [name, ours, theirs] of [
    ['obsm', a.obsm, py.obsm],
    ['varm', a.varm, py.varm],
    ['obsp', a.obsp, py.obsp],
    ['uns', a.uns, py.uns],
  ] as const) {
    expect(Object.keys(ours).sort(), `${label} ${name} keys`).toEqual(Object.keys(theirs).sort());
    for (const [k, v] of Object.entries(ours)) expect(valueJson(v), `${label} ${name}/${k}`).toEqual(pyValue(theirs[k]));
  }
  if (py.raw === null) expect(a.raw, `${label} raw`).toBeUndefined();
  else {
    expect(a.raw, `${label} raw`).toBeDefined();
    expect(a.raw!.X ? matrixJson(a.raw!.X) : null, `${label} raw.X`).toEqual(py.raw.X);
    expect(frameJson(a.raw!.var), `${label} raw.var`).toEqual(pyFrame(py.raw.var));
  }
}
