import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anndataJudge, invae, python } from './helpers';

// invae expression / invae de end to end through the built binary, judged by Python anndata.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-expr-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sim = path.join(dir, 'sim.h5ad');
const model = path.join(dir, 'model');

beforeAll(() => {
  let r = invae(['simulate', '--out', sim, '--cells', '240', '--genes', '40', '--batches', '2', '--cell-types', '2', '--seed', '3']);
  expect(r.code, r.stderr).toBe(0);
  r = invae(['train', sim, '--inv', 'cell_type,disease', '--spur', 'batch', '--out', model, '--epochs', '3', '--hidden', '16', '--latent-inv', '3', '--latent-spur', '1', '--batch-size', '64', '--quiet']);
  expect(r.code, r.stderr).toBe(0);
}, 300_000);

describe('invae expression', () => {
  anndataJudge.it("writes layers['invae_normalized'] (rows summing to the library size) with the input's cells and the counts of the output genes", () => {
    const out = path.join(dir, 'expr.h5ad');
    let r = invae(['expression', model, sim, '--out', out, '--transform-batch', 'all', '--batch-size', '100', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ layer: 'invae_normalized', cells: 240, genes: 40, transformBatch: 'all', librarySize: 10000 });
    const sub = path.join(dir, 'expr-genes.h5ad');
    r = invae(['expression', model, sim, '--out', sub, '--transform-batch', 'batch_1', '--genes', 'gene_05,gene_01', '--library-size', '100', '--n-samples', '3', '--seed', '2', '--key', 'expr']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote layers\['expr'\] \(240 × 2, as batch batch_1\)/);
    const j = python<{ shape: number[]; sums: number[]; obs: boolean; xEqual: boolean; subVar: string[]; subShape: number[]; subX: boolean; subObsm: string[] }>(
      `
a = anndata.read_h5ad(sys.argv[1]); s = anndata.read_h5ad(sys.argv[2]); src = anndata.read_h5ad(sys.argv[3])
L = np.asarray(a.layers['invae_normalized'])
dense = lambda m: m.toarray() if sp.issparse(m) else np.asarray(m)
print(json.dumps({'shape': list(L.shape), 'sums': [float(L.sum(1).min()), float(L.sum(1).max())],
  'obs': bool((a.obs['batch'].astype(str).values == src.obs['batch'].astype(str).values).all() and list(a.obs_names) == list(src.obs_names)),
  'xEqual': bool(np.array_equal(dense(a.X), dense(src.X))),
  'subVar': list(s.var_names), 'subShape': list(np.asarray(s.layers['expr']).shape),
  'subX': bool(np.array_equal(dense(s.X), dense(src[:, ['gene_05', 'gene_01']].X))), 'subObsm': sorted(s.obsm.keys())}))`,
      [out, sub, sim],
    );
    expect(j.shape).toEqual([240, 40]);
    expect(j.sums[0]).toBeCloseTo(1e4, 0);
    expect(j.sums[1]).toBeCloseTo(1e4, 0);
    expect(j.obs).toBe(true);
    expect(j.xEqual).toBe(true);
    expect(j.subVar).toEqual(['gene_05', 'gene_01']);
    expect(j.subShape).toEqual([240, 2]);
    expect(j.subX).toBe(true);
    expect(j.subObsm).toContain('X_true_inv');
  });

  it('rejects an unknown batch or gene and a non-.h5ad output, writing nothing', () => {
    const out = path.join(dir, 'never.h5ad');
    let r = invae(['expression', model, sim, '--out', out, '--transform-batch', 'batch_7']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/'batch_7' is not a batch the model was trained on \(batch: batch_0, batch_1\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    r = invae(['expression', model, sim, '--out', out, '--genes', 'gene_01,nope']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/1 of the 2 requested genes are not among the model's 40 genes/);
    r = invae(['expression', model, sim, '--out', out, '--genes', `@${path.join(dir, 'missing.txt')}`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cannot read the gene list/);
    r = invae(['expression', model, sim, '--out', path.join(dir, 'x.csv')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--out must be an \.h5ad file/);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('never') || f.startsWith('x.csv'))).toEqual([]);
  });
});

describe('invae de', () => {
  it('writes de.csv, de.json and a volcano plot (SVG, PNG) for a group against a reference', () => {
    const out = path.join(dir, 'de');
    const r = invae(['de', model, sim, '--groupby', 'cell_type', '--group', 'cell_type_0', '--reference', 'cell_type_1', '--out', out, '--samples', '50', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { cells: number[]; genes: number; called: number; batchCorrected: boolean };
    expect(s.cells).toEqual([120, 120]);
    expect(s.genes).toBe(40);
    expect(s.batchCorrected).toBe(true);
    expect(fs.readdirSync(out).sort()).toEqual(['de.csv', 'de.json', 'volcano.png', 'volcano.svg']);
    const csv = fs.readFileSync(path.join(out, 'de.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^gene,lfc_mean,lfc_median,lfc_std,proba_de,proba_not_de,bayes_factor,is_de_fdr,/);
    expect(csv).toHaveLength(41);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'de.json'), 'utf8')) as { group: string; reference: string; nDe: number; genes: unknown[] };
    expect(json).toMatchObject({ group: 'cell_type_0', reference: 'cell_type_1', nDe: s.called });
    expect(fs.readFileSync(path.join(out, 'volcano.svg'), 'utf8')).toMatch(/^<svg /);
    // one-vs-rest without batch correction
    const rest = invae(['de', model, sim, '--groupby', 'cell_type', '--group', 'cell_type_1', '--out', path.join(dir, 'de-rest'), '--samples', '20', '--no-batch-correction']);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stdout).toMatch(/cell_type_1 \(120 cells\) vs rest \(120 cells\): \d+ of 40 genes called at FDR 0.05/);
  });

  it('rejects an unknown group or column before writing anything', () => {
    const out = path.join(dir, 'de-never');
    let r = invae(['de', model, sim, '--groupby', 'cell_type', '--group', 'nope', '--out', out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no cell has cell_type = 'nope' \(values: cell_type_0, cell_type_1\)/);
    r = invae(['de', model, sim, '--groupby', 'missing', '--group', 'a', '--out', out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/obs has no column 'missing'/);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('invae bench --de-groupby', () => {
  it('adds a differential expression section to report.html, with the CSV and volcano plot of every trained model', () => {
    const out = path.join(dir, 'bench');
    const r = invae(['bench', sim, '--batch', 'batch', '--label', 'cell_type', '--methods', 'finvae', '--epochs', '2', '--latent-inv', '3', '--no-umap', '--no-lobo', '--de-groupby', 'cell_type', '--de-group', 'cell_type_1', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(out)).toEqual(expect.arrayContaining(['de_FinVAE.csv', 'volcano_FinVAE.svg', 'volcano_FinVAE.png', 'report.html']));
    expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).toMatch(/<section id="de"><h2>Differential expression<\/h2>[\s\S]*<b>cell_type_1<\/b> \(120 cells\) vs <b>rest<\/b>/);
    const bad = invae(['bench', sim, '--batch', 'batch', '--label', 'cell_type', '--methods', 'finvae', '--de-group', 'cell_type_1', '--out', path.join(dir, 'bench-never')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/needs both --de-groupby and --de-group/);
    expect(fs.existsSync(path.join(dir, 'bench-never'))).toBe(false);
  });
});
