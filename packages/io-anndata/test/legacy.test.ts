/** anndata 0.7 and pre-0.7 layouts, compression filters, and the encoding registry (files built with h5py). */
import { expect, it } from 'vitest';
import { readH5ad, registerReader, unregisterReader, getReader, frameIndex, UnsupportedFilterError, openH5ad, type ReadWarning } from '../src/index';
import { h5pyJudge, runPython, tmpDir } from './helpers';

interface Manifest {
  n_obs: number;
  n_vars: number;
  dense: number[];
  codes: number[];
  categories: string[];
  score: number[];
  pca: number[];
  obs_names: string[];
  var_names: string[];
}

let dir: string;
let m: Manifest;

function densify(x: { kind: string; shape: number[]; data: ArrayLike<number>; indices?: Int32Array; indptr?: Float64Array }): number[] {
  if (x.kind === 'dense') return Array.from(x.data);
  const [nr, nc] = x.shape;
  const out = new Array(nr * nc).fill(0);
  for (let r = 0; r < nr; r++) for (let p = x.indptr![r]; p < x.indptr![r + 1]; p++) out[r * nc + x.indices![p]] = x.data[p];
  return out;
}

h5pyJudge.beforeAll(() => {
  dir = tmpDir('legacy');
  m = JSON.parse(runPython('make_fixtures.py', [dir])) as Manifest;
});

h5pyJudge.describe('anndata 0.7 files', () => {
  it('reads X, the reference-linked categoricals, numeric columns, obsm and uns', async () => {
    const a = await readH5ad(`${dir}/v07.h5ad`);
    expect([a.nObs, a.nVars]).toEqual([m.n_obs, m.n_vars]);
    expect(a.X!.kind).toBe('csr');
    expect(densify(a.X as never)).toEqual(m.dense);
    expect(frameIndex(a.obs)).toEqual(m.obs_names);
    expect(a.obs.indexName).toBe('index');
    expect(a.obs.columns.cell_type).toMatchObject({ kind: 'categorical', categories: m.categories, ordered: true });
    const ct = a.obs.table.array('cell_type') as unknown[];
    expect(ct).toEqual(m.codes.map((c) => (c < 0 ? null : m.categories[c])));
    expect(Array.from(a.obs.table.array('score') as ArrayLike<number>)).toEqual(m.score);
    expect(Object.keys(a.var.columns)).toEqual([]);
    expect(a.obsm.X_pca).toMatchObject({ kind: 'dense', shape: [m.n_obs, 3] });
    expect(Array.from((a.obsm.X_pca as { data: Float64Array }).data)).toEqual(m.pca);
    expect(a.uns).toEqual({ title: 'v07', params: { k: 5 } });
  });
});

h5pyJudge.describe('pre-0.7 files', () => {
  it('reads compound obs/var, h5sparse X, uns categories, compound obsm and layers', async () => {
    const a = await readH5ad(`${dir}/v06.h5ad`);
    expect([a.nObs, a.nVars]).toEqual([m.n_obs, m.n_vars]);
    expect(a.X!.kind).toBe('csr');
    expect(densify(a.X as never)).toEqual(m.dense);
    expect(frameIndex(a.obs)).toEqual(m.obs_names);
    expect(frameIndex(a.var)).toEqual(m.var_names);
    expect(a.obs.columns.cell_type).toMatchObject({ kind: 'categorical', categories: m.categories });
    expect(a.obs.table.array('cell_type')).toEqual(m.codes.map((c) => m.categories[Math.max(0, c)]));
    expect(Array.from(a.obs.table.array('score') as ArrayLike<number>)).toEqual(m.score);
    // numpy bools in a compound dataset (an HDF5 enum FALSE/TRUE) are booleans, as anndata reads them; other
    // fields keep their dtype
    expect(a.obs.columns.is_doublet).toEqual({ kind: 'bool', dtype: 'bool' });
    expect(a.obs.table.array('is_doublet')).toEqual(m.obs_names.map((_, i) => i % 3 === 0));
    expect(a.obs.columns.n_genes).toEqual({ kind: 'numeric', dtype: 'int64' });
    expect(Array.from(a.obs.table.array('n_genes') as ArrayLike<number>)).toEqual(m.obs_names.map((_, i) => i * 7));
    expect(a.var.columns.mean).toEqual({ kind: 'numeric', dtype: 'float32' });
    expect(Array.from((a.obsm.X_pca as { data: Float64Array }).data)).toEqual(m.pca);
    expect(densify(a.layers.counts as never)).toEqual(m.dense);
    // category labels are moved from uns into the column
    expect(a.uns).toEqual({ note: 'legacy' });
  });

  it('opens backed and streams the h5sparse X in row blocks', async () => {
    const b = await openH5ad(`${dir}/v06.h5ad`);
    try {
      const rows: number[] = [];
      for (const blk of b.rowBlocks('X', 5)) rows.push(...densify(blk.matrix as never));
      expect(rows).toEqual(m.dense);
    } finally {
      b.close();
    }
  });
});

h5pyJudge.describe('compression filters', () => {
  it('refuses a dataset whose filter is not available with UnsupportedFilterError naming the element', async () => {
    const err = await readH5ad(`${dir}/unknown-filter.h5ad`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedFilterError);
    expect((err as Error).message).toContain('40000');
    expect((err as Error).message).toContain('/X');
    expect((err as Error).message).toContain('unknown-filter.h5ad');
  });

  it('LZF: X reads; the LZF string index h5py >= 3 writes is refused with a typed error naming it (never a wasm abort)', async () => {
    const err = await readH5ad(`${dir}/lzf.h5ad`, { onWarning: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedFilterError);
    expect((err as UnsupportedFilterError).element).toBe('/obs/_index');
    expect((err as Error).message).toMatch(/LZF/);
    const b = await openH5ad(`${dir}/lzf.h5ad`).catch((e: unknown) => e);
    expect(b).toBeInstanceOf(UnsupportedFilterError);
    // the wasm instance is still healthy
    expect((await readH5ad(`${dir}/v06.h5ad`)).nObs).toBe(m.n_obs);
  });
});

h5pyJudge.describe('encoding registry', () => {
  it('skips awkward-array and unknown encodings with a warning naming the element', async () => {
    // a file whose X is readable: take the unknown-encoding uns from lzf.h5ad only via the registry warnings
    const warnings: ReadWarning[] = [];
    const { openHdf5 } = await import('../src/h5');
    const { makeContext } = await import('../src/read/read-h5ad');
    const { readDict } = await import('../src/encodings/dict');
    const h5 = await openHdf5(`${dir}/lzf.h5ad`);
    try {
      const ctx = makeContext('lzf.h5ad', h5, (w) => warnings.push(w));
      const uns = readDict(h5.get('uns') as never, ctx);
      expect(Object.keys(uns)).toEqual(['kept']);
    } finally {
      h5.close();
    }
    expect(warnings.map((w) => w.element).sort()).toEqual(['/uns/future', '/uns/weird']);
    expect(warnings.find((w) => w.element === '/uns/future')!.message).toContain('some-future-encoding');
    expect(warnings.find((w) => w.element === '/uns/weird')!.message).toContain('awkward-array');
  });

  it('adding an encoding is one registerReader call', async () => {
    expect(getReader('some-future-encoding', '9.9.9')).toBeUndefined();
    registerReader('some-future-encoding', '9.9.9', () => 'decoded by plugin');
    try {
      const { openHdf5 } = await import('../src/h5');
      const { makeContext } = await import('../src/read/read-h5ad');
      const { readDict } = await import('../src/encodings/dict');
      const h5 = await openHdf5(`${dir}/lzf.h5ad`);
      try {
        const uns = readDict(h5.get('uns') as never, makeContext('lzf.h5ad', h5, () => {}));
        expect(uns.future).toBe('decoded by plugin');
      } finally {
        h5.close();
      }
    } finally {
      expect(unregisterReader('some-future-encoding', '9.9.9')).toBe(true);
    }
  });
});
