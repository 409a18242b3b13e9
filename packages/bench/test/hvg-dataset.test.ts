import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { csrToDense, rowSource, simulate, type CsrMatrix, type InvaeDataset, type RowDataset } from '@invae/core';
import { describe, expect, it } from 'vitest';
import { BenchInputError, DEFAULT_N_TOP_GENES, highlyVariableGenesSeuratV3, selectHighlyVariableGenes } from '../src/index';

const here = path.dirname(fileURLToPath(import.meta.url));
const SEURAT_REFERENCE = path.join(here, 'fixtures', 'hvg_seurat_reference.R');

const sim = simulate({ nCells: 600, nGenes: 400, nBatches: 3, nCellTypes: 3, seed: 11 });
const counts = sim.counts as CsrMatrix;
const dataset: InvaeDataset = { counts, geneNames: sim.geneNames, obs: sim.obs };

/** Row `i` of a CSR matrix, dense. */
function denseRow(m: CsrMatrix, i: number): number[] {
  const out = new Array<number>(m.shape[1]).fill(0);
  for (let p = m.indptr[i]!; p < m.indptr[i + 1]!; p++) out[m.indices[p]!] = m.data[p]!;
  return out;
}

describe('selectHighlyVariableGenes: the HVG subset of a dataset (train and bench use it)', () => {
  it('keeps the seurat_v3 genes by batch, counts and names restricted to them, input untouched', () => {
    const before = Float32Array.from(counts.data);
    const r = selectHighlyVariableGenes(dataset, { nTopGenes: 50, batchKey: 'batch' });
    const direct = highlyVariableGenesSeuratV3(counts, { nTopGenes: 50, batches: sim.obs.batch });
    expect(Array.from(r.selected)).toEqual(Array.from(direct.selected));
    expect(r.genes).toEqual(Array.from(direct.selected, (j) => sim.geneNames[j]!));
    expect(r.data.geneNames).toEqual(r.genes);
    expect(r.settings).toEqual({ nTopGenes: 50, batchKey: 'batch', flavor: 'seurat_v3', genesIn: 400 });
    const sub = r.data.counts as CsrMatrix;
    expect([sub.shape[0], sub.shape[1]]).toEqual([600, 50]);
    for (const i of [0, 123, 599]) {
      const full = denseRow(counts, i);
      expect(denseRow(sub, i)).toEqual(Array.from(r.selected, (j) => full[j]!));
    }
    expect(r.data.obs).toBe(dataset.obs);
    expect(counts.data).toEqual(before);
    // The batches matter: without them another set is chosen.
    const single = selectHighlyVariableGenes(dataset, { nTopGenes: 50 });
    expect(single.settings.batchKey).toBeNull();
    expect(Array.from(single.selected)).not.toEqual(Array.from(r.selected));
  });

  it('dense counts and a row-streamed dataset give the same genes and the same rows', () => {
    const dense: InvaeDataset = { ...dataset, counts: csrToDense(counts) };
    const src = rowSource(counts);
    const rows: RowDataset = { rows: { nRows: src.nRows, nCols: src.nCols, blockSize: 64, readRows: (i) => src.readRows(i) }, geneNames: sim.geneNames, obs: sim.obs };
    const a = selectHighlyVariableGenes(dataset, { nTopGenes: 40, batchKey: 'batch' });
    const b = selectHighlyVariableGenes(dense, { nTopGenes: 40, batchKey: 'batch' });
    const c = selectHighlyVariableGenes(rows, { nTopGenes: 40, batchKey: 'batch', blockRows: 97 });
    expect(Array.from(b.selected)).toEqual(Array.from(a.selected));
    expect(Array.from(c.selected)).toEqual(Array.from(a.selected));
    expect(c.data.geneNames).toEqual(a.genes);
    expect([c.data.rows.nRows, c.data.rows.nCols]).toEqual([600, 40]);
    const got = c.data.rows.readRows([5, 599]);
    expect(Array.from(got.subarray(0, 40))).toEqual(denseRow(a.data.counts as CsrMatrix, 5));
    expect(Array.from(got.subarray(40))).toEqual(denseRow(a.data.counts as CsrMatrix, 599));
  });

  it('0, or at least the gene count, keeps every gene and returns the dataset itself; the default is 2000', () => {
    expect(DEFAULT_N_TOP_GENES).toBe(2000);
    for (const n of [0, 400, 1000, undefined]) {
      const r = selectHighlyVariableGenes(dataset, { nTopGenes: n, batchKey: 'batch' });
      expect(r.data).toBe(dataset);
      expect(r.hvg).toBeNull();
      expect(r.genes).toEqual(sim.geneNames);
    }
  });

  it('rejects a bad gene count, an unknown or incomplete batch column with typed errors', () => {
    expect(() => selectHighlyVariableGenes(dataset, { nTopGenes: -1 })).toThrow(BenchInputError);
    expect(() => selectHighlyVariableGenes(dataset, { nTopGenes: 1.5 })).toThrow(/non-negative integer/);
    expect(() => selectHighlyVariableGenes(dataset, { nTopGenes: 50, batchKey: 'plate' })).toThrow(/no column 'plate'/);
    const holes = { ...dataset, obs: { ...dataset.obs, batch: sim.obs.batch.map((b, i) => (i === 7 ? null : b)) } } as InvaeDataset;
    expect(() => selectHighlyVariableGenes(holes, { nTopGenes: 50, batchKey: 'batch' })).toThrow(/missing value at cell 7/);
    // A batch of one cell: seurat_v3 needs two per batch.
    const lonely = { ...dataset, obs: { ...dataset.obs, batch: sim.obs.batch.map((b, i) => (i === 0 ? 'alone' : b)) } } as InvaeDataset;
    expect(() => selectHighlyVariableGenes(lonely, { nTopGenes: 50, batchKey: 'batch' })).toThrow(/at least 2 cells per batch/);
  });
});

/** Runs Seurat's FindVariableFeatures/SelectIntegrationFeatures on the counts; null when R or Seurat is missing. */
function seuratReference(m: CsrMatrix, batches: readonly string[], nTop: number): Record<string, number[]> | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-hvg-seurat-'));
  try {
    const lines: string[] = [];
    for (let i = 0; i < m.shape[0]; i++) for (let p = m.indptr[i]!; p < m.indptr[i + 1]!; p++) lines.push(`${m.indices[p]! + 1} ${i + 1} ${m.data[p]}`);
    fs.writeFileSync(path.join(dir, 'c.mtx'), `%%MatrixMarket matrix coordinate real general\n${m.shape[1]} ${m.shape[0]} ${lines.length}\n${lines.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 'b.txt'), `${batches.join('\n')}\n`);
    const r = spawnSync('Rscript', [SEURAT_REFERENCE, path.join(dir, 'c.mtx'), path.join(dir, 'b.txt'), String(nTop)], { encoding: 'utf8', timeout: 300_000 });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (r.status !== 0 && /there is no package called/.test(r.stderr)) return null;
    if (r.status !== 0) throw new Error(`Rscript failed (${r.status}): ${r.stderr}`);
    return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('\t')).map(([k, v]) => [k!, v!.split(',').map(Number)]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("highly variable genes against Seurat's own vst (Rscript + Seurat, skipped with a note where not installed)", () => {
  it('one batch: the ranking and standardised variances equal FindVariableFeatures(vst); by batch the paper flavour selects SelectIntegrationFeatures\' genes', (ctx) => {
    const ref = seuratReference(counts, sim.obs.batch, 100);
    if (!ref) {
      console.warn('Seurat comparison skipped: Rscript or the Seurat package is not installed (apt-get install r-cran-seurat).');
      ctx.skip();
      return;
    }
    const single = highlyVariableGenesSeuratV3(counts, { nTopGenes: 100 });
    expect(Array.from(single.ranking)).toEqual(ref.single);
    for (let j = 0; j < 400; j++) expect(Math.abs(single.variancesNorm[j]! - ref.stdvar![j]!)).toBeLessThanOrEqual(1e-10 * Math.max(1, ref.stdvar![j]!));
    // Seurat v3's integration features: the genes highly variable in most batches, ties by median rank.
    const paper = highlyVariableGenesSeuratV3(counts, { nTopGenes: 100, batches: sim.obs.batch, flavor: 'seurat_v3_paper' });
    expect(Array.from(paper.selected)).toEqual([...ref.paper!].sort((a, b) => a - b));
  }, 300_000);
});
