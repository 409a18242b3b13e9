/** Compares what readH5ad returns with a sidecar `*.expected.json` written by Python anndata. */
import { expect } from 'vitest';
import type { AnnData, Frame, Matrix } from '../src/index';
import { frameIndex } from '../src/index';

interface ExpectedMatrix {
  kind: 'dense' | 'csr' | 'csc' | 'none';
  shape?: number[];
  sum?: number;
  nnz?: number;
  first_row_head?: number[];
}
interface ExpectedColumn {
  kind: string;
  categories?: (string | number)[];
  ordered?: boolean;
  head: unknown[];
}
/** Sidecar format (see shared/anndata-fixtures/README.md). */
export interface Expected {
  n_obs: number;
  n_vars: number;
  X: ExpectedMatrix;
  obs_names_head: string[];
  var_names_head: string[];
  obs: Record<string, ExpectedColumn>;
  var: Record<string, ExpectedColumn>;
  obsm: Record<string, number[]>;
  layers: Record<string, ExpectedMatrix>;
  uns_keys: string[];
}

function sum(m: Matrix): number {
  let s = 0;
  for (let i = 0; i < m.data.length; i++) s += Number(m.data[i]);
  return s;
}

function firstRow(m: Matrix, k: number): number[] {
  const nCols = m.shape[1];
  const row = new Array(Math.min(k, nCols)).fill(0);
  if (m.shape[0] === 0) return [];
  if (m.kind === 'dense') return Array.from(m.data.subarray(0, row.length), Number);
  if (m.kind === 'csr') {
    for (let p = m.indptr[0]; p < m.indptr[1]; p++) if (m.indices[p] < row.length) row[m.indices[p]] = Number(m.data[p]);
    return row;
  }
  for (let c = 0; c < row.length; c++) {
    for (let p = m.indptr[c]; p < m.indptr[c + 1]; p++) if (m.indices[p] === 0) row[c] = Number(m.data[p]);
  }
  return row;
}

function checkMatrix(label: string, m: Matrix | undefined, e: ExpectedMatrix): void {
  if (e.kind === 'none') {
    expect(m, `${label} should be absent`).toBeUndefined();
    return;
  }
  expect(m, `${label} present`).toBeDefined();
  expect(m!.kind, `${label} kind`).toBe(e.kind);
  expect(m!.shape, `${label} shape`).toEqual(e.shape);
  expect(sum(m!), `${label} sum`).toBeCloseTo(e.sum!, 0);
  expect(Math.abs(sum(m!) - e.sum!) / Math.max(1, Math.abs(e.sum!)), `${label} relative sum error`).toBeLessThan(1e-6);
  if (e.nnz !== undefined) expect(m!.data.length, `${label} nnz`).toBe(e.nnz);
  if (e.first_row_head) {
    const got = firstRow(m!, e.first_row_head.length);
    got.forEach((v, i) => expect(v, `${label}[0, ${i}]`).toBeCloseTo(e.first_row_head![i], 5));
  }
}

function checkFrame(label: string, f: Frame, e: Record<string, ExpectedColumn>): void {
  expect(Object.keys(f.columns).sort(), `${label} columns`).toEqual(Object.keys(e).sort());
  for (const [name, ec] of Object.entries(e)) {
    const info = f.columns[name];
    expect(info.kind, `${label}.${name} kind`).toBe(ec.kind);
    if (ec.categories) expect(info.categories, `${label}.${name} categories`).toEqual(ec.categories);
    if (ec.ordered !== undefined) expect(info.ordered, `${label}.${name} ordered`).toBe(ec.ordered);
    const values = Array.from(f.table.array(name) as ArrayLike<unknown>).slice(0, ec.head.length);
    values.forEach((v, i) => {
      const want = ec.head[i];
      if (typeof want === 'number' && typeof v === 'number') expect(v, `${label}.${name}[${i}]`).toBeCloseTo(want, 10);
      else expect(v, `${label}.${name}[${i}]`).toEqual(want);
    });
  }
}

/** Asserts that `a` matches the sidecar `e`. */
export function compareWithExpected(a: AnnData, e: Expected): void {
  expect(a.nObs, 'n_obs').toBe(e.n_obs);
  expect(a.nVars, 'n_vars').toBe(e.n_vars);
  checkMatrix('X', a.X, e.X);
  expect(frameIndex(a.obs).slice(0, e.obs_names_head.length), 'obs_names').toEqual(e.obs_names_head);
  expect(frameIndex(a.var).slice(0, e.var_names_head.length), 'var_names').toEqual(e.var_names_head);
  checkFrame('obs', a.obs, e.obs);
  checkFrame('var', a.var, e.var);
  const obsm: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(a.obsm)) if ('shape' in v && v.kind === 'dense') obsm[k] = v.shape;
  expect(obsm, 'obsm shapes').toEqual(e.obsm);
  expect(Object.keys(a.layers).sort(), 'layers').toEqual(Object.keys(e.layers).sort());
  for (const [k, em] of Object.entries(e.layers)) checkMatrix(`layers/${k}`, a.layers[k], em);
  expect(Object.keys(a.uns).sort(), 'uns keys').toEqual(e.uns_keys);
}
