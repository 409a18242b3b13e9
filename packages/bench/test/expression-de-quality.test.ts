import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { Invae, csrToDense, simulate, type CsrMatrix, type DeResult, type InvaeDataset } from '@invae/core';
import { registerBuiltinPriors } from '@invae/priors';
import { engine } from './helpers';
import { wilcoxonCalls } from './support/wilcoxon';

/**
 * Batch-corrected expression and differential expression on the simulator, against its ground
 * truth: batch-free rates, planted DE genes (disease 1 vs 0; the only genes whose batch-free rates
 * differ between disease states, with diseaseShift 0 and pairJitter 0) and batch-only genes.
 */
const sim = simulate({
  nCells: 1800,
  nGenes: 200,
  nBatches: 3,
  nCellTypes: 3,
  nDiseases: 2,
  latentDimInv: 5,
  latentDimSpur: 1,
  diseaseShift: 0,
  pairJitter: 0,
  nDeGenes: 20,
  deEffect: 1.5,
  nBatchGenes: 30,
  batchGeneEffect: 1,
  returnRates: true,
  seed: 21,
});
const G = sim.nGenes;
const N = sim.nCells;
const counts = csrToDense(sim.counts as CsrMatrix).data as Float32Array;
// groups that differ only in batch composition: A = 80 % of batch_0's cells and 20 % of batch_1's, B the others
const site = sim.obs.batch.map((b, i) => (b === 'batch_2' ? 'C' : (b === 'batch_0') === (i % 5 !== 0) ? 'A' : 'B'));
const data: InvaeDataset = { counts: sim.counts, geneNames: sim.geneNames, obs: { ...sim.obs, site } };
const batchGenes = new Set(sim.batchGenes!.geneIndices);
const deGenes = new Set(sim.de!.geneIndices);
let model: Invae;

beforeAll(async () => {
  await engine();
  registerBuiltinPriors();
  model = Invae.setup(data, { invariant: { categorical: ['cell_type', 'disease'] }, spurious: { categorical: ['batch'] }, options: { seed: 1 } }, { warn: () => {} });
  await model.train(data, { epochs: 60, batchSize: 128, seed: 2 });
}, 600_000);
afterAll(() => model?.dispose());

/** log1p of a cells × genes matrix. */
const log1p = (m: ArrayLike<number>) => Float64Array.from(m as ArrayLike<number>, (v) => Math.log1p(v));

/** Mean over genes of the Pearson correlation across cells of two cells × genes matrices. */
function meanGeneCorrelation(x: Float64Array, y: Float64Array, genes: number[]): number {
  let total = 0;
  for (const g of genes) {
    let mx = 0;
    let my = 0;
    for (let i = 0; i < N; i++) (mx += x[i * G + g]!), (my += y[i * G + g]!);
    mx /= N;
    my /= N;
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (let i = 0; i < N; i++) {
      const a = x[i * G + g]! - mx;
      const b = y[i * G + g]! - my;
      sxy += a * b;
      sxx += a * a;
      syy += b * b;
    }
    total += sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
  }
  return total / genes.length;
}

/** Mean over genes of the fraction of variance across cells explained by batch (between-batch SS / total SS). */
function batchVarianceExplained(x: Float64Array, genes: number[]): number {
  const batch = sim.obs.batch.map((b) => sim.categories.batch.indexOf(b));
  const B = sim.categories.batch.length;
  let total = 0;
  for (const g of genes) {
    const sum = new Float64Array(B);
    const n = new Float64Array(B);
    let mean = 0;
    for (let i = 0; i < N; i++) (sum[batch[i]!] += x[i * G + g]!), n[batch[i]!]++, (mean += x[i * G + g]!);
    mean /= N;
    let ss = 0;
    for (let i = 0; i < N; i++) ss += (x[i * G + g]! - mean) ** 2;
    let between = 0;
    for (let b = 0; b < B; b++) between += n[b]! * (sum[b]! / n[b]! - mean) ** 2;
    total += ss > 0 ? between / ss : 0;
  }
  return total / genes.length;
}

const allGenes = Array.from({ length: G }, (_, g) => g);
const fmt = (v: number) => v.toFixed(3);

describe('batch-corrected expression on the simulator', () => {
  it('correlates better with the batch-free rates than normalised counts, and batch explains less of its variance', () => {
    const truth = log1p(Float32Array.from(sim.batchFreeRates!, (v) => v * 1e4));
    const raw = new Float64Array(N * G);
    for (let i = 0; i < N; i++) {
      let t = 0;
      for (let g = 0; g < G; g++) t += counts[i * G + g]!;
      for (let g = 0; g < G; g++) raw[i * G + g] = Math.log1p((counts[i * G + g]! / t) * 1e4);
    }
    const corrected = log1p(model.expression(data, { transformBatch: 'all' }).data);
    const own = log1p(model.expression(data).data);
    const toBatch0 = log1p(model.expression(data, { transformBatch: 'batch_0' }).data);
    const bg = [...batchGenes];
    const figures = {
      correlation: { raw: meanGeneCorrelation(raw, truth, allGenes), denoised: meanGeneCorrelation(own, truth, allGenes), corrected: meanGeneCorrelation(corrected, truth, allGenes), batch0: meanGeneCorrelation(toBatch0, truth, allGenes) },
      batchR2: { truth: batchVarianceExplained(truth, allGenes), raw: batchVarianceExplained(raw, allGenes), denoised: batchVarianceExplained(own, allGenes), corrected: batchVarianceExplained(corrected, allGenes) },
      batchR2BatchGenes: { truth: batchVarianceExplained(truth, bg), raw: batchVarianceExplained(raw, bg), denoised: batchVarianceExplained(own, bg), corrected: batchVarianceExplained(corrected, bg) },
    };
    console.log(`[expression quality] ${JSON.stringify(figures, (_, v) => (typeof v === 'number' ? Number(fmt(v)) : v))}`);
    expect(figures.correlation.corrected).toBeGreaterThan(figures.correlation.raw);
    expect(figures.batchR2.corrected).toBeLessThan(figures.batchR2.raw / 2);
    expect(figures.batchR2BatchGenes.corrected).toBeLessThan(figures.batchR2BatchGenes.raw / 2);
  });
});

/** Precision and recall of a call set against the true DE genes. */
function precisionRecall(called: Set<number>, truth: Set<number>) {
  const tp = [...called].filter((g) => truth.has(g)).length;
  return { called: called.size, precision: called.size ? tp / called.size : 1, recall: tp / truth.size };
}
/** log2 of the ratio of mean normalised counts (per 1e4) of two groups of cells, per gene. */
function log2MeanRatio(a: number[], b: number[]): Float64Array {
  const mean = (cells: number[]) => {
    const m = new Float64Array(G);
    for (const c of cells) {
      let t = 0;
      for (let g = 0; g < G; g++) t += counts[c * G + g]!;
      for (let g = 0; g < G; g++) m[g] += (counts[c * G + g]! / t) * 1e4;
    }
    return m.map((v) => v / cells.length);
  };
  const ma = mean(a);
  const mb = mean(b);
  return ma.map((v, g) => Math.log2(v + 1e-2) - Math.log2(mb[g]! + 1e-2));
}
const calledIndices = (r: DeResult) => new Set(r.genes.filter((g) => g.isDe).map((g) => sim.geneNames.indexOf(g.gene)));

describe('differential expression on the simulator (FDR 0.05)', () => {
  it('finds the planted DE genes between disease states, with precision and recall compared with a Wilcoxon test', () => {
    const r = model.differentialExpression(data, { groupby: 'disease', group: 'disease_1', reference: 'disease_0' });
    const invae = precisionRecall(calledIndices(r), deGenes);
    const cells = (d: string) => sim.obs.disease.flatMap((v, i) => (v === d ? [i] : []));
    const w = wilcoxonCalls(counts, G, cells('disease_1'), cells('disease_0'));
    const wilcoxon = precisionRecall(new Set(w.called.flatMap((c, g) => (c ? [g] : []))), deGenes);
    // Wilcoxon calls any shift; with the same |log2 fold change| ≥ 0.25 filter on mean normalised counts as well
    const lfc = log2MeanRatio(cells('disease_1'), cells('disease_0'));
    const wilcoxonLfc = precisionRecall(new Set(w.called.flatMap((c, g) => (c && Math.abs(lfc[g]!) >= 0.25 ? [g] : []))), deGenes);
    console.log(`[DE disease_1 vs disease_0] ${JSON.stringify({ invae, wilcoxon, wilcoxonLfc }, (_, v) => (typeof v === 'number' ? Number(fmt(v)) : v))}`);
    // scvi-tools' pairs of single cells: cell-to-cell variation across cell types saturates P(DE) for every gene
    const single = model.differentialExpression(data, { groupby: 'disease', group: 'disease_1', reference: 'disease_0', cellsPerSample: 1, samplesPerGroup: 1000 });
    const medianP = (r: DeResult, de: boolean) => {
      const p = r.genes.filter((g) => deGenes.has(sim.geneNames.indexOf(g.gene)) === de).map((g) => g.probaDe).sort((x, y) => x - y);
      return p[Math.floor(p.length / 2)]!;
    };
    const singleCells = { ...precisionRecall(calledIndices(single), deGenes), medianProbaDe: medianP(single, true), medianProbaOther: medianP(single, false) };
    console.log(`[DE disease_1 vs disease_0, single-cell pairs] ${JSON.stringify(singleCells, (_, v) => (typeof v === 'number' ? Number(fmt(v)) : v))}`);
    expect(invae.recall).toBeGreaterThan(singleCells.recall);
    expect(invae.recall).toBeGreaterThanOrEqual(0.9);
    expect(invae.precision).toBeGreaterThanOrEqual(0.8);
    expect(invae.precision).toBeGreaterThan(wilcoxon.precision);
  });

  it('does not call batch-only genes between groups that differ only in batch composition (where Wilcoxon does)', () => {
    const r = model.differentialExpression(data, { groupby: 'site', group: 'A', reference: 'B' });
    const invaeCalled = calledIndices(r);
    const cells = (s: string) => site.flatMap((v, i) => (v === s ? [i] : []));
    const w = wilcoxonCalls(counts, G, cells('A'), cells('B'));
    const wCalled = new Set(w.called.flatMap((c, g) => (c ? [g] : [])));
    const inBatch = (s: Set<number>) => [...s].filter((g) => batchGenes.has(g)).length;
    const figures = { invae: { called: invaeCalled.size, batchGenes: inBatch(invaeCalled) }, wilcoxon: { called: wCalled.size, batchGenes: inBatch(wCalled) }, nBatchGenes: batchGenes.size };
    console.log(`[DE site A vs B, batch composition only] ${JSON.stringify(figures)}`);
    expect(figures.wilcoxon.batchGenes).toBeGreaterThanOrEqual(batchGenes.size / 2);
    expect(figures.invae.batchGenes).toBeLessThanOrEqual(2);
  });
});
