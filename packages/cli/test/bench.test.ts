import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invae } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-bench-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sim = path.join(dir, 'sim.h5ad');

beforeAll(() => {
  const r = invae(['simulate', '--out', sim, '--cells', '200', '--genes', '40', '--batches', '2', '--cell-types', '3', '--seed', '4']);
  expect(r.code, r.stderr).toBe(0);
});

const METRICS = ['Isolated labels', 'KMeans NMI', 'KMeans ARI', 'Silhouette label', 'cLISI', 'BRAS', 'iLISI', 'KBET', 'Graph connectivity', 'PCR comparison'];

describe('invae bench', () => {
  it('scores PCA, the scVI-equivalent, FinVAE and an obsm embedding side by side', () => {
    const out = path.join(dir, 'out');
    const r = invae(['bench', sim, '--batch', 'batch', '--label', 'cell_type', '--methods', 'pca,scvi,finvae', '--embeddings', 'X_true_inv', '--epochs', '2', '--latent-inv', '3', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { nCells: number; methods: { embedding: string; metrics: Record<string, number | null>; aggregates: Record<string, number> }[] };
    expect(res.nCells).toBe(200);
    expect(res.methods.map((m) => m.embedding).sort()).toEqual(['FinVAE', 'PCA', 'X_true_inv', 'scVI-equivalent']);
    for (const m of res.methods) {
      expect(Object.keys(m.metrics).sort()).toEqual([...METRICS].sort());
      const { Total, 'Batch correction': batch, 'Bio conservation': bio } = m.aggregates as Record<string, number>;
      expect(Total).toBeCloseTo(0.4 * batch! + 0.6 * bio!, 10);
    }
    // PCR comparison of the unintegrated PCA against itself is 0 by definition.
    expect(res.methods.find((m) => m.embedding === 'PCA')!.metrics['PCR comparison']).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['results.csv', 'results.json', 'results.md', 'results.svg']);
    expect(fs.readFileSync(path.join(out, 'results.svg'), 'utf8')).toMatch(/^<svg [^>]*>/);
    const csv = fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(5);
    expect(csv[0]).toBe(`method,${METRICS.join(',')},Batch correction,Bio conservation,Total`);
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toMatch(/^\| Method \| Isolated labels/);
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as { trainingSeconds: Record<string, number> };
    expect(Object.keys(saved.trainingSeconds).sort()).toEqual(['FinVAE', 'scVI-equivalent']);
  });

  it('rejects unknown methods, keys and embeddings clearly', () => {
    const out = path.join(dir, 'bad');
    const m = invae(['bench', sim, '--batch', 'batch', '--label', 'cell_type', '--methods', 'harmony', '--out', out]);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/Unknown method\(s\) harmony/);
    const k = invae(['bench', sim, '--batch', 'site', '--label', 'cell_type', '--methods', 'pca', '--out', out]);
    expect(k.code).toBe(1);
    expect(k.stderr).toMatch(/obs has no column 'site'/);
    const e = invae(['bench', sim, '--batch', 'batch', '--label', 'cell_type', '--methods', 'pca', '--embeddings', 'X_scVI', '--out', out]);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/no dense 2-D embedding 'X_scVI'/);
    expect(fs.existsSync(path.join(out, 'results.json'))).toBe(false);
  });
});
