import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simulate, type CsrMatrix } from '@invae/core';
import { anndataJudge, invae, python } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-simulate-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const JUDGE = `
a = anndata.read_h5ad(sys.argv[1])
X = a.X
print(json.dumps({
  "shape": list(a.shape),
  "sparse_format": X.getformat() if sp.issparse(X) else None,
  "x_dtype": str(X.dtype),
  "nnz": int(X.nnz),
  "all_integer": bool(np.all(np.mod(X.data, 1) == 0) and np.all(X.data >= 0)),
  "row_sums": [float(v) for v in np.asarray(X.sum(axis=1)).ravel()],
  "obs_columns": list(a.obs.columns),
  "obs_dtypes": {c: str(a.obs[c].dtype) for c in ["batch", "cell_type", "disease"]},
  "batch": [str(v) for v in a.obs["batch"]],
  "cell_type_categories": [str(v) for v in a.obs["cell_type"].cat.categories],
  "obs_names": [str(v) for v in a.obs_names[:3]],
  "var_names": [str(v) for v in a.var_names[:3]],
  "obsm": {k: list(np.asarray(v).shape) for k, v in a.obsm.items()},
  "z_inv_first": [float(v) for v in np.asarray(a.obsm["X_true_inv"])[0]],
  "uns_seed": int(a.uns["simulation"]["options"]["seed"]),
  "uns_likelihood": str(a.uns["simulation"]["options"]["likelihood"]),
}))
`;

describe('invae simulate', () => {
  it('is listed in --help', () => {
    const r = invae(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\bsimulate\b/);
  });

  anndataJudge.it('writes an .h5ad that Python anndata reads back with the simulated values', () => {
    const out = path.join(dir, 'sim.h5ad');
    const r = invae(['simulate', '--out', out, '--cells', '300', '--genes', '80', '--batches', '2', '--cell-types', '3', '--diseases', '2', '--seed', '11', '--likelihood', 'poisson', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { file: string; nCells: number; nGenes: number; nnz: number };
    expect(summary).toMatchObject({ file: out, nCells: 300, nGenes: 80 });
    expect(fs.readdirSync(dir)).toEqual(['sim.h5ad']); // no temp file left behind

    const got = python<Record<string, any>>(JUDGE, [out]);

    const sim = simulate({ nCells: 300, nGenes: 80, nBatches: 2, nCellTypes: 3, nDiseases: 2, seed: 11, likelihood: 'poisson' });
    const c = sim.counts as CsrMatrix;
    const rowSums = Array.from({ length: 300 }, (_, i) => {
      let s = 0;
      for (let k = c.indptr[i]!; k < c.indptr[i + 1]!; k++) s += c.data[k]!;
      return s;
    });
    expect(got.shape).toEqual([300, 80]);
    expect(got.sparse_format).toBe('csr');
    expect(got.x_dtype).toBe('float32');
    expect(got.nnz).toBe(c.data.length);
    expect(got.nnz).toBe(summary.nnz);
    expect(got.all_integer).toBe(true);
    expect(got.row_sums).toEqual(rowSums);
    expect(got.obs_dtypes).toEqual({ batch: 'category', cell_type: 'category', disease: 'category' });
    expect(got.batch).toEqual(sim.obs.batch);
    expect(got.cell_type_categories).toEqual(['cell_type_0', 'cell_type_1', 'cell_type_2']);
    expect(got.obs_names).toEqual(sim.cellNames.slice(0, 3));
    expect(got.var_names).toEqual(sim.geneNames.slice(0, 3));
    expect(got.obsm).toEqual({ X_true_inv: [300, 9], X_true_spur: [300, 1] });
    got.z_inv_first.forEach((v: number, j: number) => expect(v).toBeCloseTo(sim.zInv[j]!, 5));
    expect(got.uns_seed).toBe(11);
    expect(got.uns_likelihood).toBe('poisson');
  });

  it('rejects bad values as usage errors and needs --out', () => {
    const noOut = invae(['simulate', '--cells', '10']);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain('--out');
    const bad = invae(['simulate', '--out', path.join(dir, 'x.h5ad'), '--cells', 'ten']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected an integer');
    const lik = invae(['simulate', '--out', path.join(dir, 'x.h5ad'), '--likelihood', 'zinb']);
    expect(lik.code).toBe(2);
    expect(lik.stderr).toContain('zinb');
    expect(fs.existsSync(path.join(dir, 'x.h5ad'))).toBe(false);
  });
});
