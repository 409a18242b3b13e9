import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readH5ad, writeH5ad } from '@invae/io-anndata';
import { afterAll, describe, expect, it } from 'vitest';
import { BenchInputError, DatasetError, fileDatasetEntry, getDataset, prepareDataset, preparedToAnnData } from '../src/index';
import { needsPython, needsShared, PYTHON, sharedFile } from './helpers';

const here = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE = path.join(here, 'fixtures', 'hvg_seurat_v3_reference.py');
const cellbench = sharedFile('data/cellbench-lung-3cl.h5ad');
const paul15 = sharedFile('data/paul15-hematopoiesis.h5ad');
/** The Python anndata that writes the layout fixtures (beforeAll) and reads what prepare writes. */
const anndataJudge = needsPython('numpy', 'scipy', 'pandas', 'h5py', 'anndata');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-prepare-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** anndata 0.8 wants the categorical `ordered` attribute as a bool; h5wasm writes int8 (anndata ≥ 0.9 reads both). */
const PRELUDE = `
import json, sys
import numpy as np, scipy.sparse as sp, anndata
from anndata._io.specs import methods as _m
_orig = _m._read_attr
def _read_attr(attrs, name, *a, **k):
    v = _orig(attrs, name, *a, **k)
    return bool(v) if name == "ordered" else v
_m._read_attr = _read_attr
`;

function py<T>(script: string, args: string[] = []): T {
  return JSON.parse(execFileSync(PYTHON, ['-c', PRELUDE + script, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 })) as T;
}

function referenceFromFile(file: string, batchKey: string | null, nTop: number, layer: string | null = null) {
  const input = { h5ad: file, layer, batchKey, nTop, span: 0.3, flavor: 'seurat_v3', surface: 'interpolate' };
  return JSON.parse(execFileSync(PYTHON, [REFERENCE], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 28 })) as { selected: number[]; ranking: number[] };
}

const multiome = path.join(tmp, 'multiome.h5ad');
const multiomeGex = path.join(tmp, 'multiome-gex-counts.h5ad');
const atlasRaw = path.join(tmp, 'atlas-raw.h5ad');
const normalisedOnly = path.join(tmp, 'normalised-only.h5ad');

anndataJudge.beforeAll(() => {
  // Small files with the layouts of the registry's remote datasets, written by Python's anndata.
  py(
    `
rng = np.random.default_rng(0)
n, g, a = 300, 60, 40
batch = np.array(["s1d1", "s1d2", "s2d1"])[rng.integers(0, 3, n)]
ct = np.array(["B", "T", "Mono"])[rng.integers(0, 3, n)]
mu = 10 ** rng.uniform(-1.5, 1.2, g + a)
theta = 10 ** rng.uniform(-0.5, 1, g + a)
counts = rng.negative_binomial(theta, theta / (theta + mu), size=(n, g + a)).astype(np.float32)
lib = counts.sum(1, keepdims=True); lib[lib == 0] = 1
norm = np.log1p(counts / lib * 1e4).astype(np.float32)
obs = {"batch": batch, "cell_type": ct, "Site": [b[:2] for b in batch], "DonorID": [b[2:] for b in batch]}
import pandas as pd
obs = pd.DataFrame(obs, index=[f"c{i}" for i in range(n)]).astype("category")
var = pd.DataFrame({"feature_types": ["GEX"] * g + ["ATAC"] * a}, index=[f"gene{j}" for j in range(g)] + [f"peak{j}" for j in range(a)])
var["feature_types"] = var["feature_types"].astype("category")
ad = anndata.AnnData(X=sp.csr_matrix(norm), obs=obs, var=var, layers={"counts": sp.csr_matrix(counts)})
ad.write_h5ad(sys.argv[1])
gex = anndata.AnnData(X=sp.csr_matrix(counts[:, :g]), obs=obs, var=var.iloc[:g].copy())
gex.write_h5ad(sys.argv[2])
# An atlas whose counts are only in raw.X (X normalised), with dataset/cell_type_major keys.
obs2 = pd.DataFrame({"dataset": batch, "cell_type_major": ct}, index=obs.index).astype("category")
raw = anndata.AnnData(X=sp.csr_matrix(counts[:, :g]), obs=obs2, var=pd.DataFrame(index=var.index[:g]))
at = anndata.AnnData(X=sp.csr_matrix(norm[:, :g]), obs=obs2, var=pd.DataFrame(index=var.index[:g]))
at.raw = raw
at.write_h5ad(sys.argv[3])
anndata.AnnData(X=sp.csr_matrix(norm[:, :g]), obs=obs2, var=pd.DataFrame(index=var.index[:g])).write_h5ad(sys.argv[4])
out = True
print(json.dumps(out))
`,
    [multiome, multiomeGex, atlasRaw, normalisedOnly],
  );
});

describe('prepareDataset', () => {
  anndataJudge.and(needsShared('data/cellbench-lung-3cl.h5ad')).it('CellBench: 2000 seurat_v3 genes by batch, equal to the numpy reference; raw counts kept; writes a valid .h5ad', async () => {
    const p = await prepareDataset('cellbench-lung-3cl', { dir: tmp });
    expect(p.countsLocation).toBe('X');
    expect(p.counts.shape[0]).toBe(450);
    expect(p.counts.shape[1]).toBe(2000);
    expect(p.nFeatures).toBe(14888);
    const ref = referenceFromFile(cellbench, 'batch', 2000);
    expect(Array.from(p.hvg!.selected)).toEqual(ref.selected);
    expect(Array.from(p.hvg!.ranking)).toEqual(ref.ranking);
    // The counts are the original columns.
    const full = await readH5ad(cellbench);
    const X = full.X!;
    if (X.kind !== 'csr') throw new Error('expected CSR');
    const cell = 7;
    const dense = new Float64Array(X.shape[1]);
    for (let q = X.indptr[cell]!; q < X.indptr[cell + 1]!; q++) dense[X.indices[q]!] = X.data[q]!;
    const mine = new Float64Array(2000);
    for (let q = p.counts.indptr[cell]!; q < p.counts.indptr[cell + 1]!; q++) mine[p.counts.indices[q]!] = p.counts.data[q]!;
    expect(Array.from(mine)).toEqual(ref.selected.map((j) => dense[j]!));
    expect(p.obs.cell_line).toHaveLength(450);
    const out = path.join(tmp, 'cellbench-hvg.h5ad');
    await writeH5ad(out, preparedToAnnData(p));
    const judged = py<{ shape: number[]; sum: number; vars: string[]; obs: string[]; varCols: string[]; uns: Record<string, unknown> }>(
      `
a = anndata.read_h5ad(sys.argv[1])
src = anndata.read_h5ad(sys.argv[2])
sel = [int(s) for s in sys.argv[3].split(",")]
print(json.dumps({"shape": list(a.shape), "sum": float(a.X.sum() - src.X[:, sel].sum()), "vars": list(a.var_names[:3]) + [str(v) for v in src.var_names[sel[:3]]],
  "obs": sorted(a.obs.columns), "varCols": sorted(a.var.columns), "uns": {k: (v.item() if hasattr(v, "item") else v if isinstance(v, (str, int, float)) else str(v)) for k, v in a.uns["invae_dataset"].items()}}))
`,
      [out, cellbench, ref.selected.join(',')],
    );
    expect(judged.shape).toEqual([450, 2000]);
    expect(judged.sum).toBe(0);
    expect(judged.vars.slice(0, 3)).toEqual(judged.vars.slice(3));
    expect(judged.obs).toEqual(['batch', 'cell_line', 'demuxlet_cls', 'protocol', 'total_counts']);
    expect(judged.varCols).toEqual(['highly_variable_nbatches', 'highly_variable_rank', 'means', 'variances', 'variances_norm']);
    expect(judged.uns).toMatchObject({ name: 'cellbench-lung-3cl', counts: 'X', n_features: 14888 });
  });

  anndataJudge.it("multiome layout: counts from layers['counts'], GEX features only, HVGs as the reference on the GEX counts", async () => {
    const p = await prepareDataset(getDataset('hematopoiesis'), { file: multiome, nTopGenes: 20 });
    expect(p.countsLocation).toBe('layers/counts');
    expect(p.nFeatures).toBe(60);
    expect(p.counts.shape[1]).toBe(20);
    expect(p.geneNames.every((g) => g.startsWith('gene'))).toBe(true);
    const ref = referenceFromFile(multiomeGex, 'batch', 20);
    expect(p.geneNames).toEqual(ref.selected.map((j) => `gene${j}`));
    expect(Array.from(p.counts.data).every((v) => Number.isInteger(v))).toBe(true);
    expect(Object.keys(p.obs).sort()).toEqual(['DonorID', 'Site', 'batch', 'cell_type']);
  });

  anndataJudge.it('atlas layout: counts from raw.X when X is normalised; every gene kept with nTopGenes null', async () => {
    const p = await prepareDataset(getDataset('lung-cancer'), { file: atlasRaw, nTopGenes: null });
    expect(p.countsLocation).toBe('raw.X');
    expect(p.hvg).toBeNull();
    expect(p.counts.shape[1]).toBe(60);
    expect(Array.from(p.counts.data).every((v) => Number.isInteger(v))).toBe(true);
    const q = await prepareDataset(getDataset('lung-cancer'), { file: atlasRaw, nTopGenes: 15 });
    expect(p.counts.shape[0]).toBe(300);
    expect(q.counts.shape[1]).toBe(15);
  });

  anndataJudge.it('rejects files without raw counts or without the registry keys, and datasets not fetched yet', async () => {
    await expect(prepareDataset(getDataset('lung-cancer'), { file: normalisedOnly })).rejects.toThrow(/no raw counts where lung-cancer keeps them: layers\/counts \(absent\), raw\.X \(absent\), X \(not integer counts\)/);
    const err = await prepareDataset(getDataset('hematopoiesis'), { file: atlasRaw }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BenchInputError);
    await expect(prepareDataset(getDataset('cellbench-lung-3cl'), { file: multiomeGex })).rejects.toThrow(/no obs column 'cell_line'/);
    const missing = await prepareDataset('hematopoiesis', { dir: path.join(tmp, 'empty') }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(DatasetError);
    expect((missing as DatasetError).hint).toMatch(/invae datasets fetch hematopoiesis/);
  });

  anndataJudge.and(needsShared('data/paul15-hematopoiesis.h5ad')).it('Paul et al. 2015 (local): 2000 seurat_v3 genes of 3451 by plate, equal to the numpy reference; checksum verified', async () => {
    const entry = getDataset('paul15-hematopoiesis');
    expect([entry.kind, entry.batchKey, entry.labelKey, entry.cells, entry.genes]).toEqual(['local', 'batch', 'cell_type', 2730, 3451]);
    const p = await prepareDataset(entry, { dir: tmp });
    expect(p.countsLocation).toBe('X');
    expect([p.counts.shape[0], p.counts.shape[1], p.nFeatures]).toEqual([2730, 2000, 3451]);
    const ref = referenceFromFile(paul15, 'batch', 2000);
    expect(Array.from(p.hvg!.ranking)).toEqual(ref.ranking);
    expect(new Set(p.obs.batch).size).toBe(8);
    expect(new Set(p.obs.cell_type).size).toBe(19);
    expect(new Set(p.obs.lineage).size).toBe(10);
  });

  anndataJudge.it('any .h5ad by file (fileDatasetEntry): counts found by layout, HVGs by the given batch key or by none', async () => {
    const entry = fileDatasetEntry(multiome, { batchKey: 'batch', labelKey: 'cell_type' });
    expect([entry.name, entry.kind, entry.preprocessing.nTopGenes]).toEqual(['multiome', 'local', 2000]);
    const p = await prepareDataset(entry, { file: multiome, nTopGenes: 20 });
    // layers['counts'] is preferred over the normalised X; every feature (no filter) is a candidate.
    expect(p.countsLocation).toBe('layers/counts');
    expect(p.nFeatures).toBe(100);
    const ref = referenceFromFile(multiome, 'batch', 20, 'counts');
    expect(Array.from(p.hvg!.selected)).toEqual(ref.selected);
    // No batch key: one batch, as scanpy without batch_key.
    const q = await prepareDataset(fileDatasetEntry(multiomeGex), { file: multiomeGex, nTopGenes: 15 });
    expect(q.countsLocation).toBe('X');
    expect(Array.from(q.hvg!.selected)).toEqual(referenceFromFile(multiomeGex, null, 15).selected);
    expect(preparedToAnnData(q).uns.invae_dataset).toMatchObject({ name: 'multiome-gex-counts', hvg: { batch_key: 'none' } });
    // Counts only in raw.X (X normalised) are found there.
    expect((await prepareDataset(fileDatasetEntry(atlasRaw), { file: atlasRaw, nTopGenes: null })).countsLocation).toBe('raw.X');
    await expect(prepareDataset(fileDatasetEntry(atlasRaw, { batchKey: 'plate' }), { file: atlasRaw })).rejects.toThrow(/no obs column 'plate'/);
    expect(() => fileDatasetEntry(atlasRaw, { nTopGenes: 0 })).toThrow(BenchInputError);
  });

  it('simulated data are generated with the true latents', async () => {
    const p = await prepareDataset('simulated', { simulate: { nCells: 120, nGenes: 40, seed: 3 } });
    expect(p.counts.shape[0]).toBe(120);
    expect(p.counts.shape[1]).toBe(40);
    expect(p.obs.batch).toHaveLength(120);
    expect(p.obsm.X_true_inv!.shape[0]).toBe(120);
    expect(() => preparedToAnnData(p)).toThrow(/invae simulate/);
  });
});
