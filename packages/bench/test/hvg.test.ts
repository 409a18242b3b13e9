import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, negativeBinomial, poisson, rowSource, simulate, type CsrMatrix, type RowSource } from '@invae/core';
import { describe, expect, it } from 'vitest';
import { BenchInputError, highlyVariableGenesSeuratV3, subsetColumns } from '../src/index';
import { needsPython, PYTHON } from './helpers';

const here = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE = path.join(here, 'fixtures', 'hvg_seurat_v3_reference.py');

interface Reference {
  selected: number[];
  ranking: number[];
  means: number[];
  variances: number[];
  variancesNorm: number[];
  rank: (number | null)[];
  nBatches: number[];
}

/** Runs the independent numpy implementation (fixtures/hvg_seurat_v3_reference.py). */
function reference(counts: CsrMatrix, batches: string[] | null, nTop: number, flavor = 'seurat_v3', surface = 'interpolate'): Reference {
  const input = {
    nRows: counts.shape[0],
    nCols: counts.shape[1],
    indptr: Array.from(counts.indptr),
    indices: Array.from(counts.indices),
    data: Array.from(counts.data),
    batches,
    nTop,
    span: 0.3,
    flavor,
    surface,
  };
  return JSON.parse(execFileSync(PYTHON, [REFERENCE], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 28 })) as Reference;
}

function relClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!), `index ${i}: ${a[i]} vs ${b[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]!)));
}

const sim = simulate({ nCells: 600, nGenes: 400, nBatches: 3, nCellTypes: 3, seed: 11 });
const simCounts = sim.counts as CsrMatrix;

describe('highly variable genes (seurat_v3) against an independent numpy implementation', () => {
  needsPython('numpy', 'scipy').it('batch-aware selection, ranks, counts of batches and standardised variances agree', () => {
    const ours = highlyVariableGenesSeuratV3(simCounts, { nTopGenes: 100, batches: sim.obs.batch });
    const ref = reference(simCounts, sim.obs.batch, 100);
    expect(Array.from(ours.selected)).toEqual(ref.selected);
    expect(Array.from(ours.ranking)).toEqual(ref.ranking);
    expect(Array.from(ours.nBatches)).toEqual(ref.nBatches);
    expect(Array.from(ours.rank, (r) => (Number.isNaN(r) ? null : r))).toEqual(ref.rank);
    relClose(ours.variancesNorm, ref.variancesNorm, 1e-9);
    relClose(ours.means, ref.means, 1e-12);
    relClose(ours.variances, ref.variances, 1e-9);
    expect(ours.batchNames).toEqual([...new Set(sim.obs.batch)].sort());
    expect(ours.nonInteger).toBe(false);
    // Several batches: some selected genes are highly variable in fewer than all of them.
    expect(Math.min(...Array.from(ours.selected, (j) => ours.nBatches[j]!))).toBeLessThan(3);
  });

  needsPython('numpy', 'scipy').it('the paper flavor and a single batch with the direct surface agree too', () => {
    const paper = highlyVariableGenesSeuratV3(simCounts, { nTopGenes: 80, batches: sim.obs.batch, flavor: 'seurat_v3_paper' });
    const refPaper = reference(simCounts, sim.obs.batch, 80, 'seurat_v3_paper');
    expect(Array.from(paper.ranking)).toEqual(refPaper.ranking);
    const single = highlyVariableGenesSeuratV3(simCounts, { nTopGenes: 50, surface: 'direct' });
    const refSingle = reference(simCounts, null, 50, 'seurat_v3', 'direct');
    expect(Array.from(single.ranking)).toEqual(refSingle.ranking);
    relClose(single.variancesNorm, refSingle.variancesNorm, 1e-9);
    // With one batch every selected gene has rank < nTop in it and the rank is its position.
    expect(Array.from(single.ranking, (j) => single.rank[j])).toEqual(Array.from({ length: 50 }, (_, r) => r));
  });
});

/** Poisson genes plus a few strongly overdispersed genes of similar means. */
function poissonPlusOverdispersed(seed: number, nCells: number, nPoisson: number, nOver: number) {
  const rng = new Rng(seed);
  const g = nPoisson + nOver;
  const means = Array.from({ length: g }, () => Math.exp(Math.log(0.05) + rng.uniform() * (Math.log(20) - Math.log(0.05))));
  const indptr = [0];
  const indices: number[] = [];
  const data: number[] = [];
  for (let i = 0; i < nCells; i++) {
    for (let j = 0; j < g; j++) {
      const v = j < nPoisson ? poisson(rng, means[j]!) : negativeBinomial(rng, means[j]!, 0.3);
      if (v > 0) {
        indices.push(j);
        data.push(v);
      }
    }
    indptr.push(indices.length);
  }
  return { kind: 'csr', shape: [nCells, g], indptr: Float64Array.from(indptr), indices: Int32Array.from(indices), data: Float32Array.from(data) } satisfies CsrMatrix;
}

describe('highly variable genes: known properties', () => {
  it('picks the overdispersed genes out of Poisson noise; Poisson genes have standardised variance ≈ 1', () => {
    const counts = poissonPlusOverdispersed(5, 800, 300, 12);
    const r = highlyVariableGenesSeuratV3(counts, { nTopGenes: 12 });
    const picked = Array.from(r.selected).filter((j) => j >= 300).length;
    expect(picked).toBeGreaterThanOrEqual(11);
    const poissonNorm = Array.from(r.variancesNorm.subarray(0, 300)).sort((a, b) => a - b);
    const median = poissonNorm[150]!;
    expect(median).toBeGreaterThan(0.85);
    expect(median).toBeLessThan(1.15);
  });

  it('clips each count at mean + σ̂·√N: one huge outlier cannot make a gene the most variable', () => {
    const base = poissonPlusOverdispersed(9, 400, 200, 0);
    // Gene 0 gets one outlier count of 1e6 in cell 0.
    const data = Float32Array.from(base.data);
    const indices = Int32Array.from(base.indices);
    const indptr = Float64Array.from(base.indptr);
    const withOutlier: CsrMatrix = { ...base, data, indices, indptr };
    if (indices[0] === 0) data[0] = 1e6;
    else {
      // insert gene 0 into row 0
      const d2 = new Float32Array(data.length + 1);
      const i2 = new Int32Array(indices.length + 1);
      d2[0] = 1e6;
      d2.set(data, 1);
      i2.set(indices, 1);
      const p2 = Float64Array.from(indptr, (p, r) => (r === 0 ? 0 : p + 1));
      Object.assign(withOutlier, { data: d2, indices: i2, indptr: p2 });
    }
    const r = highlyVariableGenesSeuratV3(withOutlier, { nTopGenes: 10 });
    // Unclipped, the variance of gene 0 would be ~1e12/400; clipped its standardised variance is bounded by ~N.
    expect(r.variances[0]).toBeGreaterThan(1e8);
    expect(r.variancesNorm[0]).toBeLessThanOrEqual(400 + 1);
  });

  it('CSR, dense and a core row source read in blocks give identical results; inputs are not modified', () => {
    const copy = { data: Float32Array.from(simCounts.data), indices: Int32Array.from(simCounts.indices) };
    const csr = highlyVariableGenesSeuratV3(simCounts, { nTopGenes: 60, batches: sim.obs.batch });
    expect(Array.from(simCounts.data)).toEqual(Array.from(copy.data));
    expect(Array.from(simCounts.indices)).toEqual(Array.from(copy.indices));
    const dense = new Float32Array(simCounts.shape[0] * simCounts.shape[1]);
    for (let i = 0; i < simCounts.shape[0]; i++) for (let p = simCounts.indptr[i]!; p < simCounts.indptr[i + 1]!; p++) dense[i * simCounts.shape[1] + simCounts.indices[p]!] = simCounts.data[p]!;
    const fromDense = highlyVariableGenesSeuratV3({ data: dense, nRows: simCounts.shape[0], nCols: simCounts.shape[1] }, { nTopGenes: 60, batches: sim.obs.batch });
    expect(Array.from(fromDense.ranking)).toEqual(Array.from(csr.ranking));
    // A core RowSource (as a backed dataset's rows): read in blocks of its blockSize, two passes.
    const rows = rowSource(sim.counts);
    const reads: number[][] = [];
    const source: RowSource = {
      nRows: rows.nRows,
      nCols: rows.nCols,
      blockSize: 250,
      readRows: (indices) => {
        reads.push([indices[0]!, indices.length]);
        return rows.readRows(indices);
      },
    };
    const streamed = highlyVariableGenesSeuratV3(source, { nTopGenes: 60, batches: sim.obs.batch });
    const pass = [[0, 250], [250, 250], [500, 100]];
    expect(reads).toEqual([...pass, ...pass]);
    expect(Array.from(streamed.ranking)).toEqual(Array.from(csr.ranking));
    expect(Array.from(streamed.variancesNorm)).toEqual(Array.from(csr.variancesNorm));
  });

  it('renaming batches does not change the selection; nTopGenes above the gene count selects all genes', () => {
    const a = highlyVariableGenesSeuratV3(simCounts, { nTopGenes: 70, batches: sim.obs.batch });
    const names = [...new Set(sim.obs.batch)].sort();
    const renamed = sim.obs.batch.map((b) => ['zeta', 'alpha', 'mid'][names.indexOf(b)]!);
    const b = highlyVariableGenesSeuratV3(simCounts, { nTopGenes: 70, batches: renamed });
    expect(Array.from(b.selected)).toEqual(Array.from(a.selected));
    const all = highlyVariableGenesSeuratV3(simCounts, { nTopGenes: 5000 });
    expect(all.selected.length).toBe(simCounts.shape[1]);
  });

  it('flags non-integer counts and rejects bad input clearly', () => {
    const scaled: CsrMatrix = { ...simCounts, data: Float32Array.from(simCounts.data, (v) => v * 0.5) };
    expect(highlyVariableGenesSeuratV3(scaled, { nTopGenes: 10 }).nonInteger).toBe(true);
    const batches = sim.obs.batch.slice();
    batches[0] = 'lonely';
    expect(() => highlyVariableGenesSeuratV3(simCounts, { batches })).toThrow(/'lonely' has 1 cell/);
    expect(() => highlyVariableGenesSeuratV3(simCounts, { batches: batches.slice(1) })).toThrow(BenchInputError);
    const negative: CsrMatrix = { ...simCounts, data: Float32Array.from(simCounts.data, (v, p) => (p === 3 ? -1 : v)) };
    expect(() => highlyVariableGenesSeuratV3(negative)).toThrow(/invalid value -1/);
    expect(() => highlyVariableGenesSeuratV3(simCounts, { flavor: 'cell_ranger' as 'seurat_v3' })).toThrow(/Unknown flavor/);
  });
});

describe('subsetColumns', () => {
  it('keeps the chosen columns in the given order and leaves the input alone', () => {
    const m: CsrMatrix = { kind: 'csr', shape: [2, 4], indptr: Float64Array.of(0, 3, 5), indices: Int32Array.of(0, 2, 3, 1, 3), data: Float32Array.of(1, 2, 3, 4, 5) };
    const s = subsetColumns(m, [3, 1]);
    expect(s.shape).toEqual([2, 2]);
    expect(Array.from(s.indptr)).toEqual([0, 1, 3]);
    expect(Array.from(s.indices)).toEqual([0, 0, 1]);
    expect(Array.from(s.data)).toEqual([3, 5, 4]);
    expect(Array.from(m.data)).toEqual([1, 2, 3, 4, 5]);
    expect(() => subsetColumns(m, [1, 1])).toThrow(/twice/);
    expect(() => subsetColumns(m, [4])).toThrow(/outside/);
  });
});
