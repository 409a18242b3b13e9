/**
 * The categorical `ordered` flag is written as h5py writes numpy booleans (an HDF5 enum FALSE=0/TRUE=1), so
 * Python anndata 0.8 (which refuses an int8 flag) opens every file the writer makes.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as aq from 'arquero';
import { readH5ad, updateH5ad, writeH5ad, type AnnData, type Frame } from '../src/index';
import { anndataJudge, PYTHON, tmpDir } from './helpers';
import { spawnSync } from 'node:child_process';

const JUDGE = `
import json, sys, h5py, anndata
f = h5py.File(sys.argv[1], "r")
attrs = {}
def visit(name, obj):
    if isinstance(obj, h5py.Group) and obj.attrs.get("encoding-type") == "categorical":
        a = obj.attrs
        attrs[name] = {"dtype": str(a.get_id("ordered").dtype), "keys": sorted(a.keys())}
f.visititems(visit)
f.close()
a = anndata.read_h5ad(sys.argv[1])
cols = {c: {"ordered": bool(a.obs[c].cat.ordered), "categories": list(a.obs[c].cat.categories),
            "values": [None if v != v else v for v in a.obs[c].astype(object)]} for c in a.obs.columns}
json.dump({"version": anndata.__version__, "attrs": attrs, "obs": cols, "obsm": sorted(a.obsm.keys())}, sys.stdout)
`;

function judge(file: string): {
  version: string;
  attrs: Record<string, { dtype: string; keys: string[] }>;
  obs: Record<string, { ordered: boolean; categories: string[]; values: (string | null)[] }>;
  obsm: string[];
} {
  const r = spawnSync(PYTHON, ['-c', JUDGE, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

function adataWithCategoricals(): AnnData {
  const n = 6;
  const obs: Frame = {
    table: aq.table({ _index: ['a', 'b', 'c', 'd', 'e', 'f'], stage: ['low', 'mid', 'high', 'low', null, 'mid'], ct: ['B', 'T', 'B', 'T', 'B', 'T'] }),
    indexName: '_index',
    columns: {
      stage: { kind: 'categorical', dtype: 'int8', categories: ['low', 'mid', 'high'], ordered: true },
      ct: { kind: 'categorical', dtype: 'int8', categories: ['B', 'T'], ordered: false },
    },
  };
  const vr: Frame = { table: aq.table({ _index: ['g1', 'g2'] }), indexName: '_index', columns: {} };
  return { nObs: n, nVars: 2, X: { kind: 'dense', shape: [n, 2], dtype: 'float32', data: new Float32Array(12) }, obs, var: vr, layers: {}, obsm: {}, varm: {}, obsp: {}, varp: {}, uns: {} };
}

anndataJudge.describe('categorical ordered flag', () => {
  it('is an HDF5 bool that Python anndata 0.8 reads (anndata.read_h5ad, no coercion), also after updateH5ad', async () => {
    const f = path.join(tmpDir('ordered'), 'cats.h5ad');
    await writeH5ad(f, adataWithCategoricals());
    let py = judge(f);
    expect(py.version).toMatch(/^0\.\d+/);
    expect(py.attrs).toEqual({
      'obs/ct': { dtype: 'bool', keys: ['encoding-type', 'encoding-version', 'ordered'] },
      'obs/stage': { dtype: 'bool', keys: ['encoding-type', 'encoding-version', 'ordered'] },
    });
    expect(py.obs.stage).toEqual({ ordered: true, categories: ['low', 'mid', 'high'], values: ['low', 'mid', 'high', 'low', null, 'mid'] });
    expect(py.obs.ct).toEqual({ ordered: false, categories: ['B', 'T'], values: ['B', 'T', 'B', 'T', 'B', 'T'] });
    const back = await readH5ad(f);
    expect(back.obs.columns.stage).toMatchObject({ kind: 'categorical', ordered: true });
    expect(back.obs.columns.ct).toMatchObject({ kind: 'categorical', ordered: false });
    // in-place update (a byte copy plus new elements) and a rebuild both keep the flags readable
    await updateH5ad(f, { obsm: { X_new: { kind: 'dense', shape: [6, 2], dtype: 'float32', data: new Float32Array(12) } } });
    py = judge(f);
    expect(py.obsm).toEqual(['X_new']);
    expect(py.obs.stage.ordered).toBe(true);
    await updateH5ad(f, { obsm: { X_new: { kind: 'dense', shape: [6, 3], dtype: 'float32', data: new Float32Array(18) } } });
    py = judge(f);
    expect(py.obs.stage.ordered).toBe(true);
    expect(py.attrs['obs/stage'].dtype).toBe('bool');
  }, 120_000);
});
