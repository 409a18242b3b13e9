import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { needsShared, sharedFile } from '../../../test-support/index';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const cellbench = sharedFile('data/cellbench-lung-3cl.h5ad');
const dense = sharedFile('anndata-fixtures/dense-all-encodings.h5ad');

function invae(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, INVAE_BACKEND: '' }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// every file and folder these tests make, removed at the end
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-info-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('invae info FILE.h5ad', () => {
  needsShared('data/cellbench-lung-3cl.h5ad').it('prints shape, X kind, obs columns with categories, uns keys and the writer', () => {
    const r = invae(['info', cellbench]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('AnnData 450 obs × 14888 vars');
    expect(r.stdout).toContain('X: csr float32 450 × 14888, nnz 2862997');
    expect(r.stdout).toContain('cell_line: categorical [H1975, H2228, HCC827]');
    expect(r.stdout).toContain('total_counts: numeric float32');
    expect(r.stdout).toContain('uns: source');
    expect(r.stdout).toContain('anndata >= 0.8');
  });

  needsShared('anndata-fixtures/dense-all-encodings.h5ad').it('--json gives the machine-readable summary', () => {
    const r = invae(['info', dense, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as {
      nObs: number;
      nVars: number;
      X: { kind: string; dtype: string };
      layers: Record<string, { kind: string }>;
      obs: { name: string; kind: string; categories?: string[]; ordered?: boolean }[];
      obsm: Record<string, number[]>;
      unsKeys: string[];
    };
    expect([s.nObs, s.nVars]).toEqual([40, 25]);
    expect(s.X).toMatchObject({ kind: 'dense', dtype: 'float32' });
    expect(s.layers.counts.kind).toBe('csr');
    expect(s.obs.find((c) => c.name === 'cat_ordered')).toMatchObject({ kind: 'categorical', categories: ['low', 'mid', 'high'], ordered: true });
    expect(s.obs.find((c) => c.name === 'nullable_int')?.kind).toBe('nullable-int');
    expect(s.obsm).toEqual({ X_pca: [40, 5] });
    expect(s.unsKeys).toEqual(['cat_colors', 'nested']);
  });

  it('a file that is not HDF5 fails with exit 1, the message and a hint, no stack trace', () => {
    const f = path.join(tmp, 'junk.h5ad');
    fs.writeFileSync(f, 'this is not hdf5 at all');
    const r = invae(['info', f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('invae: error: not an HDF5 file');
    expect(r.stderr).toContain(f);
    expect(r.stderr).toContain('hint:');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an HDF5 file that is not AnnData fails with exit 1 and a typed message (not a 0 × 0 summary)', () => {
    const f = path.join(tmp, 'plain.h5');
    const py = spawnSync('/usr/bin/python3', ['-c', 'import sys, h5py, numpy as np\nwith h5py.File(sys.argv[1], "w") as f: f["measurements"] = np.arange(3.0)', f], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const r = invae(['info', f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('invae: error: not an AnnData file');
    expect(r.stderr).toContain('measurements');
    expect(r.stderr).toContain('hint:');
    expect(r.stderr).not.toMatch(/HDF5-DIAG|\n\s+at /);
  });

  it('a directory fails with exit 1 and "is a folder"', () => {
    const d = fs.mkdtempSync(path.join(tmp, 'folder-'));
    const r = invae(['info', d]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is a folder, not an .h5ad file');
    expect(r.stderr).not.toMatch(/EISDIR|\n\s+at /);
  });

  it('a missing file fails with exit 1, naming it, with a hint', () => {
    const f = path.join(os.tmpdir(), 'definitely-missing-invae.h5ad');
    const r = invae(['info', f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`invae: error: ${f}: no such file.`);
    expect(r.stderr).toContain('hint: check the path of the .h5ad file');
  });
});
