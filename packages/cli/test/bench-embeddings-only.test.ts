import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as aq from 'arquero';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readH5ad, writeH5ad, type AnnData, type AlignedMapping } from '@invae/io-anndata';
import { invae, python } from './helpers';

// `invae bench` on a file that holds only embeddings (obsm, as scanpy/Harmony leave them): no counts needed.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-bench-emb-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sim = path.join(dir, 'sim.h5ad');
const noX = path.join(dir, 'no-x.h5ad');
const zeroGenes = path.join(dir, 'zero-genes.h5ad');

interface Saved {
  methods: { embedding: string; metrics: Record<string, number | null>; aggregates: Record<string, number | null> }[];
  metricTypes: Record<string, string>;
  dataset: { nCells: number; nGenes: number };
  invariantPrediction: { methods: Record<string, unknown> } | null;
}

beforeAll(async () => {
  expect(invae(['simulate', '--out', sim, '--cells', '150', '--genes', '20', '--batches', '2', '--cell-types', '3', '--seed', '5']).code).toBe(0);
  const a = await readH5ad(sim);
  const n = a.nObs;
  const truth = a.obsm.X_true_inv!;
  const noise = new Float32Array(n * 4);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.sin(i * 12.9898) * 0.5;
  const obsm: AlignedMapping = {
    X_true_inv: truth,
    X_noise: { kind: 'dense' as const, shape: [n, 4], dtype: 'float32' as const, data: noise },
  };
  const base: AnnData = { ...a, X: undefined, nVars: 0, var: { table: aq.table({ _index: [] as string[] }), indexName: '_index', columns: {} }, layers: {}, obsm, varm: {}, varp: {} };
  await writeH5ad(noX, base);
  await writeH5ad(zeroGenes, { ...base, X: { kind: 'dense', shape: [n, 0], dtype: 'float32', data: new Float32Array(0) } });
  // The judge: anndata reads both as obsm-only files.
  const shapes = python<{ noX: [boolean, number[]]; zero: [boolean, number[]] }>(
    `
a = anndata.read_h5ad(sys.argv[1]); b = anndata.read_h5ad(sys.argv[2])
print(json.dumps({"noX": [a.X is None, list(a.shape)], "zero": [b.X is None, list(b.shape)]}))
`,
    [noX, zeroGenes],
  );
  expect(shapes.noX).toEqual([true, [150, 0]]);
  expect(shapes.zero[1]).toEqual([150, 0]);
});

describe('bench on an embeddings-only file', () => {
  it('--methods none --embeddings scores only those embeddings from a file without X', () => {
    const out = path.join(dir, 'bench-none');
    const r = invae(['bench', noX, '--batch', 'batch', '--label', 'cell_type', '--methods', 'none', '--embeddings', 'X_true_inv,X_noise', '--no-umap', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const saved = JSON.parse(r.stdout) as Saved;
    expect(saved.methods.map((m) => m.embedding)).toEqual(['X_true_inv', 'X_noise']);
    expect(saved.dataset).toMatchObject({ nCells: 150, nGenes: 0 });
    // Without counts and without --unintegrated, PCR comparison (which needs the unintegrated PCA) is left out.
    expect(saved.metricTypes['PCR comparison']).toBeUndefined();
    for (const m of saved.methods) {
      expect(Number.isFinite(m.metrics['KMeans NMI'])).toBe(true);
      expect(Number.isFinite(m.aggregates.Total)).toBe(true);
    }
    // The true latents separate the cell types better than noise.
    const nmi = Object.fromEntries(saved.methods.map((m) => [m.embedding, m.metrics['KMeans NMI']!]));
    expect(nmi.X_true_inv).toBeGreaterThan(nmi.X_noise!);
    expect(Object.keys(saved.invariantPrediction!.methods).sort()).toEqual(['X_noise', 'X_true_inv']);
    expect(fs.readdirSync(out).sort()).toEqual(['report.html', 'results.csv', 'results.json', 'results.md', 'results.svg']);
  }, 180_000);

  it("--methods '' on a file with 0 genes, with --unintegrated for PCR comparison, replaces the results in an existing folder with --overwrite", () => {
    const out = path.join(dir, 'bench-empty');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'old.txt'), 'old');
    fs.writeFileSync(path.join(out, 'results.json'), '{}');
    const r = invae(['bench', zeroGenes, '--batch', 'batch', '--label', 'cell_type', '--methods', '', '--embeddings', 'X_true_inv', '--unintegrated', 'X_noise', '--no-umap', '--no-lobo', '--out', out, '--overwrite', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const saved = JSON.parse(r.stdout) as Saved;
    expect(saved.methods.map((m) => m.embedding)).toEqual(['X_true_inv']);
    expect(Number.isFinite(saved.methods[0]!.metrics['PCR comparison'])).toBe(true);
    // The results are replaced; the user's other files in the folder stay.
    expect(fs.readdirSync(out).sort()).toEqual(['old.txt', 'report.html', 'results.csv', 'results.json', 'results.md', 'results.svg']);
    expect(fs.readdirSync(dir).filter((n) => n.includes('.tmp'))).toEqual([]);
  }, 180_000);

  it('methods that need counts fail clearly on a file without X; nothing to benchmark is an error', () => {
    const r = invae(['bench', noX, '--batch', 'batch', '--label', 'cell_type', '--methods', 'pca', '--out', path.join(dir, 'b-pca')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invae: error: .*X/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const none = invae(['bench', noX, '--batch', 'batch', '--label', 'cell_type', '--methods', 'none', '--out', path.join(dir, 'b-none')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('Nothing to benchmark: no --methods and no --embeddings.');
    expect(fs.existsSync(path.join(dir, 'b-pca'))).toBe(false);
  });
});
