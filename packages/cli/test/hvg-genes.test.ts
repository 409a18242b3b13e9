import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectHighlyVariableGenes } from '@invae/bench';
import { csrMatrix } from '@invae/core';
import { frameIndex, readH5ad } from '@invae/io-anndata';
import { invae, python } from './helpers';

// --n-top-genes of train and bench: seurat_v3 highly variable genes by batch, the model keeps its
// genes, and embed/predict take the full file (genes matched by name).
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-hvg-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sim = path.join(dir, 'sim.h5ad');
const small = ['--epochs', '2', '--hidden', '16', '--latent-inv', '3', '--latent-spur', '1', '--batch-size', '64', '--quiet'];

beforeAll(() => {
  const r = invae(['simulate', '--out', sim, '--cells', '240', '--genes', '120', '--batches', '2', '--cell-types', '3', '--seed', '4']);
  expect(r.code, r.stderr).toBe(0);
});

/** The seurat_v3 genes by batch of the file, by @invae/bench's public function (its own tests judge it against numpy and Seurat). */
async function referenceGenes(nTop: number): Promise<string[]> {
  const a = await readH5ad(sim);
  const X = a.X!;
  if (X.kind !== 'csr') throw new Error('expected CSR counts');
  const data = { counts: csrMatrix(X.shape[0], X.shape[1], X.indptr, X.indices, X.data), geneNames: frameIndex(a.var), obs: { batch: a.obs.table.array('batch') as string[] } };
  return selectHighlyVariableGenes(data, { nTopGenes: nTop, batchKey: 'batch' }).genes;
}

describe('train/bench --n-top-genes', () => {
  it('train --n-top-genes 50 saves a 50-gene model (the seurat_v3 genes by --spur batch); embed and predict work on the full file', async () => {
    const model = path.join(dir, 'm50');
    const r = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--n-top-genes', '50', '--predict', 'cell_type', '--out', model, '--json', ...small]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { genes: number; geneSelection: unknown };
    expect(s.genes).toBe(50);
    expect(s.geneSelection).toEqual({ flavor: 'seurat_v3', nTopGenes: 50, batchKey: 'batch', genesIn: 120 });
    const manifest = JSON.parse(fs.readFileSync(path.join(model, 'model.json'), 'utf8')) as { geneNames: string[] };
    expect(manifest.geneNames).toEqual(await referenceGenes(50));
    expect(new Set(manifest.geneNames).size).toBe(50);
    const out = path.join(dir, 'emb.h5ad');
    const e = invae(['embed', model, sim, '--out', out]);
    expect(e.code, e.stderr).toBe(0);
    const j = python<{ shape: number[]; nVars: number }>(`a = anndata.read_h5ad(sys.argv[1]); print(json.dumps({"shape": list(a.obsm["X_inVAE"].shape), "nVars": a.n_vars}))`, [out]);
    expect(j).toEqual({ shape: [240, 3], nVars: 120 });
    const p = invae(['predict', model, sim, '--out', path.join(dir, 'pred.h5ad')]);
    expect(p.code, p.stderr).toBe(0);
    // Streamed from disk (--backed), the same genes are chosen.
    const backed = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--n-top-genes', '50', '--backed', '--backed-block', '64', '--out', path.join(dir, 'm50b'), ...small]);
    expect(backed.code, backed.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'm50b', 'model.json'), 'utf8')).geneNames).toEqual(manifest.geneNames);
  }, 300_000);

  it('--n-top-genes 0 keeps every gene; the default keeps all when the data has at most 2000; bad values and --gene-sets are rejected', () => {
    const all = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--n-top-genes', '0', '--out', path.join(dir, 'm0'), '--json', ...small]);
    expect(all.code, all.stderr).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ genes: 120, geneSelection: { flavor: 'none', genesIn: 120 } });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'm0', 'model.json'), 'utf8')).geneNames).toHaveLength(120);
    const dflt = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--out', path.join(dir, 'mdefault'), '--json', ...small]);
    expect(dflt.code, dflt.stderr).toBe(0);
    expect(JSON.parse(dflt.stdout).genes).toBe(120);
    const bad = invae(['train', sim, '--inv', 'cell_type', '--n-top-genes', '-3', '--out', path.join(dir, 'mbad'), ...small]);
    expect(bad.code).not.toBe(0);
    expect(fs.existsSync(path.join(dir, 'mbad'))).toBe(false);
    const gmt = path.join(dir, 'sets.json');
    fs.writeFileSync(gmt, JSON.stringify({ p1: ['gene_000', 'gene_001', 'gene_002'] }));
    const gs = invae(['train', sim, '--inv', 'cell_type', '--gene-sets', gmt, '--n-top-genes', '50', '--out', path.join(dir, 'mgs'), ...small]);
    expect(gs.code).toBe(1);
    expect(gs.stderr).toMatch(/--gene-sets scores gene programs on all genes/);
    const nokey = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--batch-key', 'plate', '--n-top-genes', '50', '--out', path.join(dir, 'mnokey'), ...small]);
    expect(nokey.code).toBe(1);
    expect(nokey.stderr).toMatch(/no column 'plate'/);
    expect(nokey.stderr).not.toMatch(/\n\s+at /);
  }, 300_000);

  it('bench --n-top-genes 50 benchmarks the 50 seurat_v3 genes by --batch and records the selection', () => {
    const out = path.join(dir, 'bench');
    const r = invae(['bench', sim, '--batch', 'batch', '--label', 'cell_type', '--methods', 'pca', '--n-top-genes', '50', '--no-umap', '--no-lobo', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as { dataset: { nGenes: number; genesIn: number; geneSelection: string } };
    expect(res.dataset).toMatchObject({ nGenes: 50, genesIn: 120, geneSelection: "seurat_v3, 50 highly variable genes by 'batch'" });
  }, 300_000);
});
