/**
 * Interop: files written by writeH5ad/updateH5ad are read by Python anndata (Debian's /usr/bin/python3, the
 * independent judge, anndata 0.8) with no accommodation and compared value by value.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeH5ad, updateH5ad, readH5ad, AnnDataWriteError, type AnnData, type SparseMatrix, type DenseMatrix } from '../src/index';
import { anndataJudge, needsShared, runPython, sharedDir, tmpDir } from './helpers';
import { syntheticAnnData } from './synthetic';

interface PyMatrix {
  kind: string;
  shape: number[];
  dtype: string;
  values?: (number | null)[];
  data?: (number | null)[];
  indices?: number[];
  indptr?: number[];
}
interface PyFrame {
  index: string[];
  columns: string[];
  cols: Record<string, { kind: string; dtype?: string; ordered?: boolean; categories?: unknown[]; values: unknown[] }>;
}
interface PyDump {
  anndata_version: string;
  shape: number[];
  X: PyMatrix | null;
  obs: PyFrame;
  var: PyFrame;
  layers: Record<string, PyMatrix>;
  obsm: Record<string, { array?: PyMatrix }>;
  uns: Record<string, unknown>;
}

function dump(file: string): PyDump {
  return JSON.parse(runPython('dump_h5ad.py', [file])) as PyDump;
}

function expectMatrix(py: PyMatrix, m: SparseMatrix | DenseMatrix, label: string): void {
  expect(py.kind, `${label} kind`).toBe(m.kind);
  expect(py.shape, `${label} shape`).toEqual(m.shape);
  expect(py.dtype, `${label} dtype`).toBe(m.dtype);
  if (m.kind === 'dense') expect(py.values, `${label} values`).toEqual(Array.from(m.data));
  else {
    expect(py.data, `${label} data`).toEqual(Array.from(m.data));
    expect(py.indices, `${label} indices`).toEqual(Array.from(m.indices));
    expect(py.indptr, `${label} indptr`).toEqual(Array.from(m.indptr));
  }
}

function expectAll(py: PyDump, a: AnnData): void {
  expect(py.anndata_version).toMatch(/^0\.\d+/);
  expect(py.shape).toEqual([a.nObs, a.nVars]);
  expectMatrix(py.X!, a.X as SparseMatrix, 'X');
  expect(Object.keys(py.layers).sort()).toEqual(Object.keys(a.layers).sort());
  for (const [k, m] of Object.entries(a.layers)) expectMatrix(py.layers[k], m, `layers/${k}`);
  // obs
  expect(py.obs.index).toEqual(a.obs.table.array('_index'));
  expect(py.obs.columns).toEqual(Object.keys(a.obs.columns));
  const col = (n: string) => Array.from(a.obs.table.array(n) as ArrayLike<unknown>);
  expect(py.obs.cols.cell_type).toMatchObject({ kind: 'categorical', ordered: false, categories: ['B', 'T', 'NK'], values: col('cell_type') });
  expect(py.obs.cols.stage).toMatchObject({ kind: 'categorical', ordered: true, categories: ['low', 'mid', 'high'], values: col('stage') });
  expect(py.obs.cols.batch_num).toMatchObject({ kind: 'categorical', categories: [10, 20], values: col('batch_num') });
  expect(py.obs.cols.donor).toMatchObject({ kind: 'other', dtype: 'object', values: col('donor') });
  expect(py.obs.cols.score).toMatchObject({ kind: 'numeric', dtype: 'float64', values: col('score') });
  expect(py.obs.cols.n_genes).toMatchObject({ kind: 'numeric', dtype: 'int32', values: col('n_genes') });
  expect(py.obs.cols.total).toMatchObject({ kind: 'numeric', dtype: 'int64', values: col('total') });
  // documented dtype loss: bool columns are written as uint8 0/1
  expect(py.obs.cols.is_doublet).toMatchObject({ kind: 'numeric', dtype: 'uint8', values: col('is_doublet').map((v) => (v ? 1 : 0)) });
  // var with a named index
  expect(py.var.index).toEqual(a.var.table.array('gene_id'));
  expect(py.var.cols.symbol.values).toEqual(Array.from(a.var.table.array('symbol') as ArrayLike<unknown>));
  expect(py.var.cols.mean).toMatchObject({ dtype: 'float32', values: Array.from(a.var.table.array('mean') as Float32Array) });
  // obsm
  for (const [k, m] of Object.entries(a.obsm)) expectMatrix(py.obsm[k].array!, m as DenseMatrix, `obsm/${k}`);
  // uns, nested
  expect(py.uns.cell_type_colors).toEqual({ array: { kind: 'dense', dtype: 'object', shape: [3], values: ['#ff0000', '#00ff00', '#0000ff'] } });
  const inv = (py.uns.invae as { dict: Record<string, unknown> }).dict;
  expect(inv.params).toEqual({
    dict: {
      lr: { num: 0.001, type: 'float64' },
      epochs: { num: 10, type: 'int64' },
      name: { str: 'invae' },
      beta: { num: 1.5, type: 'float64' },
    },
  });
  expect(inv.history).toEqual({ array: { kind: 'dense', dtype: 'float64', shape: [3], values: [3.5, 2.25, 1.125] } });
  expect(inv.flags).toEqual({ array: { kind: 'dense', dtype: 'uint8', shape: [3], values: [1, 0, 1] } });
  expect(inv.tags).toEqual({ array: { kind: 'dense', dtype: 'object', shape: [2], values: ['a', 'b'] } });
}

let dir: string;
beforeAll(() => {
  dir = tmpDir('interop');
});

describe('Python anndata reads what we write', () => {
  anndataJudge.it('writeH5ad: CSR X, layers, obs/var of every kind, obsm, varm, nested uns', async () => {
    const a = syntheticAnnData();
    const f = path.join(dir, 'written.h5ad');
    await writeH5ad(f, a);
    expectAll(dump(f), a);
    // and we read it back identically (bool → uint8 is the documented loss)
    const b = await readH5ad(f);
    expect(Array.from(b.X!.data)).toEqual(Array.from(a.X!.data));
    expect(b.obs.table.array('cell_type')).toEqual(a.obs.table.array('cell_type'));
    expect(b.obs.columns.stage).toMatchObject({ kind: 'categorical', ordered: true });
    expect(b.var.indexName).toBe('gene_id');
  });

  anndataJudge.it('writeH5ad: dense X and an empty obs (empty column-order)', async () => {
    const a = syntheticAnnData();
    const dense: DenseMatrix = a.layers.counts as DenseMatrix;
    const f = path.join(dir, 'dense.h5ad');
    await writeH5ad(f, { ...a, X: dense, layers: {}, obs: { ...a.obs, table: a.obs.table.select('_index'), columns: {} } });
    const py = dump(f);
    expectMatrix(py.X!, dense, 'X');
    expect(py.obs.columns).toEqual([]);
  });

  anndataJudge.it('updateH5ad adds obsm/uns entries in place (X untouched) and replaces existing ones by rebuilding', async () => {
    const a = syntheticAnnData();
    const f = path.join(dir, 'update.h5ad');
    await writeH5ad(f, a);
    const newLatent: DenseMatrix = { kind: 'dense', shape: [a.nObs, 2], dtype: 'float32', data: Float32Array.from({ length: a.nObs * 2 }, (_, i) => i / 7) };
    const r1 = await updateH5ad(f, { obsm: { X_new: newLatent }, uns: { run: { seed: 3, model: 'inVAE' } } });
    expect(r1.mode).toBe('in-place');
    let py = dump(f);
    expectAll(py, a);
    expectMatrix(py.obsm.X_new.array!, newLatent, 'obsm/X_new');
    expect(py.uns.run).toEqual({ dict: { seed: { num: 3, type: 'int64' }, model: { str: 'inVAE' } } });

    // same shape and dtype: overwritten inside the copy, no rebuild
    const sameShape: DenseMatrix = { ...newLatent, data: newLatent.data.map((v) => v * 2) };
    const r15 = await updateH5ad(f, { obsm: { X_new: sameShape } });
    expect(r15).toEqual({ mode: 'in-place', overwritten: ['X_new'], dtypeChanges: [] });
    py = dump(f);
    expectAll(py, a);
    expectMatrix(py.obsm.X_new.array!, sameShape, 'obsm/X_new overwritten');
    Object.assign(newLatent, sameShape);

    const replaced: DenseMatrix = { kind: 'dense', shape: [a.nObs, 3], dtype: 'float64', data: Float64Array.from({ length: a.nObs * 3 }, (_, i) => -i) };
    const r2 = await updateH5ad(f, { obsm: { X_invae: replaced }, uns: { run: 'replaced' } });
    expect(r2.mode).toBe('rebuilt');
    py = dump(f);
    expectAll(py, { ...a, obsm: { X_invae: replaced } });
    expectMatrix(py.obsm.X_new.array!, newLatent, 'obsm/X_new kept');
    expect(py.uns.run).toEqual({ str: 'replaced' });
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  anndataJudge.and(needsShared('anndata-fixtures/dense-all-encodings.h5ad')).it('updateH5ad rebuilds an anndata-written file, carrying everything over and listing forced dtype changes', async () => {
    const f = path.join(dir, 'fixture-copy.h5ad');
    fs.copyFileSync(path.join(sharedDir, 'anndata-fixtures/dense-all-encodings.h5ad'), f);
    fs.chmodSync(f, 0o644);
    const before = dump(f);
    const latent: DenseMatrix = { kind: 'dense', shape: [40, 2], dtype: 'float32', data: Float32Array.from({ length: 80 }, (_, i) => i) };
    const r = await updateH5ad(f, { obsm: { X_pca: latent } });
    expect(r.mode).toBe('rebuilt');
    expect(r.dtypeChanges).toEqual([
      'uns/nested/inner/flag: bool → uint8',
      'obs/bool: bool → uint8',
      'var/bool: bool → uint8',
    ]);
    const after = dump(f);
    expect(after.X).toEqual(before.X);
    expect(after.layers).toEqual(before.layers);
    expect(after.obs.index).toEqual(before.obs.index);
    for (const c of ['cat', 'cat_ordered', 'str', 'int64', 'float64', 'uint8', 'nullable_int', 'nullable_bool']) expect(after.obs.cols[c], c).toEqual(before.obs.cols[c]);
    expect(after.obs.cols.bool.values).toEqual(before.obs.cols.bool.values.map((v) => (v === 'True' || v === true || v === 1 ? 1 : 0)));
    expectMatrix(after.obsm.X_pca.array!, latent, 'obsm/X_pca');
    // uns carried over value by value; the one boolean becomes uint8 (listed above)
    const nested = (u: Record<string, unknown>) => (u.nested as { dict: { inner: { dict: { flag: unknown } } } }).dict.inner.dict;
    expect(nested(before.uns).flag).toEqual({ bool: true });
    expect(nested(after.uns).flag).toEqual({ num: 1, type: 'uint8' });
    nested(after.uns).flag = { bool: true };
    expect(after.uns).toEqual(before.uns);
  });

  anndataJudge.it('updateH5ad refuses a rebuild that would drop elements it cannot read, and leaves the file as it was', async () => {
    const fx = tmpDir('skippable');
    runPython('make_fixtures.py', [fx]);
    const f = path.join(fx, 'skippable.h5ad');
    const before = fs.readFileSync(f);
    const latent: DenseMatrix = { kind: 'dense', shape: [12, 2], dtype: 'float32', data: new Float32Array(24) };
    await expect(updateH5ad(f, { obsm: { X_old: latent } })).rejects.toThrow(/\/uns\/ragged/);
    expect(fs.readFileSync(f).equals(before)).toBe(true);
    // adding under a new key needs no rewrite and keeps the unreadable element
    const r = await updateH5ad(f, { obsm: { X_new: latent } });
    expect(r.mode).toBe('in-place');
    const h5py = JSON.parse(runPython('list_h5.py', [f])) as string[];
    expect(h5py).toContain('uns/ragged');
    expect(h5py).toContain('obsm/X_new');
  });

  it('a failed write leaves the original untouched and no partial file', async () => {
    const a = syntheticAnnData();
    const f = path.join(dir, 'atomic.h5ad');
    await writeH5ad(f, a);
    const before = fs.readFileSync(f);
    const bad = { ...a, uns: { ok: 1, broken: null as never } };
    await expect(writeH5ad(f, bad)).rejects.toBeInstanceOf(AnnDataWriteError);
    await expect(updateH5ad(f, { obsm: { bad: { kind: 'dense', shape: [5, 2], dtype: 'float32', data: new Float32Array(10) } } })).rejects.toThrow(/5 rows/);
    await expect(updateH5ad(f, { uns: { broken: null as never } })).rejects.toBeInstanceOf(AnnDataWriteError);
    expect(fs.readFileSync(f).equals(before)).toBe(true);
    const fresh = path.join(dir, 'never-written.h5ad');
    await expect(writeH5ad(fresh, bad)).rejects.toBeInstanceOf(AnnDataWriteError);
    expect(fs.existsSync(fresh)).toBe(false);
    expect(fs.readdirSync(dir).filter((n) => n.includes('.tmp'))).toEqual([]);
  });
});
