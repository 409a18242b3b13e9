import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, Invae, initEngine, posteriorFdrCalls, deResultCsv, registerPrior, simulate, tf, unregisterPrior, type GaussianConditionalPrior, type InvaeDataset, type NamedVariable } from '../src/index';
import { StandardNormalPrior } from './model-helpers';

/** Spurious prior whose mean is u · w (one fixed value per batch for one-hot u), variance 1. */
class BatchMeanPrior implements GaussianConditionalPrior {
  readonly family = 'gaussian' as const;
  constructor(
    readonly latentDim: number,
    readonly covarDim: number,
  ) {}
  params(u: tf.Tensor2D | null) {
    return tf.tidy(() => {
      const w = tf.tensor2d(Array.from({ length: this.covarDim * this.latentDim }, (_, k) => 3 * (Math.floor(k / this.latentDim) - 0.5)), [this.covarDim, this.latentDim]);
      return { mean: tf.matMul(u!, w), variance: tf.ones([1]) };
    });
  }
  namedVariables(): NamedVariable[] {
    return [];
  }
  dispose(): void {}
}

const sim = simulate({ nCells: 240, nGenes: 25, nBatches: 2, nCellTypes: 2, nDiseases: 1, latentDimInv: 3, latentDimSpur: 1, seed: 5 });
const data: InvaeDataset = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
const quiet = { warn: () => {} };
const base = {
  invariant: { categorical: ['cell_type'] },
  spurious: { categorical: ['batch'] },
  invPrior: { name: 'test-normal' },
};
let priorModel: Invae;
let injected: Invae;

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  registerPrior({ name: 'test-normal', family: 'gaussian', create: (ctx) => new StandardNormalPrior(ctx.latentDim) });
  registerPrior({ name: 'test-batch-mean', family: 'gaussian', create: (ctx) => new BatchMeanPrior(ctx.latentDim, ctx.covarDim) });
  priorModel = Invae.setup(data, { ...base, spurPrior: { name: 'test-batch-mean' }, options: { latentDimInv: 3, latentDimSpur: 2, hiddenDim: 16, seed: 3 } }, quiet);
  await priorModel.train(data, { epochs: 2, batchSize: 120 });
  injected = Invae.setup(data, { ...base, spurPrior: null, options: { latentDimInv: 3, latentDimSpur: 0, injectCovarInLatent: true, hiddenDim: 16, seed: 3 } }, quiet);
  await injected.train(data, { epochs: 2, batchSize: 120 });
});
afterAll(() => {
  priorModel?.dispose();
  injected?.dispose();
  unregisterPrior('test-normal');
  unregisterPrior('test-batch-mean');
});

const rowSums = (m: { nRows: number; nCols: number; data: Float32Array }) => Array.from({ length: m.nRows }, (_, i) => m.data.subarray(i * m.nCols, (i + 1) * m.nCols).reduce((a, b) => a + b, 0));

describe('Invae.expression', () => {
  it('decodes per-cell rates that sum to the library size, and --genes selects columns of the same matrix', () => {
    const full = priorModel.expression(data);
    expect([full.nRows, full.nCols]).toEqual([240, 25]);
    expect(full.geneNames).toEqual(sim.geneNames);
    for (const s of rowSums(full)) expect(s).toBeCloseTo(1e4, 0);
    const small = priorModel.expression(data, { librarySize: 100, genes: ['gene_07', 'gene_02'], batchSize: 50 });
    expect(small.geneNames).toEqual(['gene_07', 'gene_02']);
    for (let i = 0; i < 240; i++) {
      expect(small.data[i * 2]).toBeCloseTo(full.data[i * 25 + 7]! / 100, 3);
      expect(small.data[i * 2 + 1]).toBeCloseTo(full.data[i * 25 + 2]! / 100, 3);
    }
  });

  it("transformBatch sets the spurious latents to the batch's prior mean and 'all' averages the batches", () => {
    const b0 = priorModel.expression(data, { transformBatch: 'batch_0' });
    const b1 = priorModel.expression(data, { transformBatch: 'batch_1' });
    const all = priorModel.expression(data, { transformBatch: 'all' });
    const own = priorModel.expression(data);
    for (let k = 0; k < all.data.length; k++) expect(all.data[k]).toBeCloseTo((b0.data[k]! + b1.data[k]!) / 2, 2);
    expect(Array.from(b0.data)).not.toEqual(Array.from(b1.data));
    // by hand for batch_1: invariant posterior mean + the prior mean of batch_1 (u = [0, 1] → mean 1.5 per dimension)
    const z = priorModel.latent(data, { part: 'inv' });
    const manual = tf.tidy(() => {
      const zFull = tf.concat([tf.tensor2d(z.data, [240, 3]), tf.fill([240, 2], 1.5)], 1) as tf.Tensor2D;
      const spur = tf.tensor2d(Array.from({ length: 480 }, (_, k) => (k % 2 === 1 ? 1 : 0)), [240, 2]);
      return priorModel.model.decoder.apply(zFull, spur, tf.fill([240, 1], 1e4) as tf.Tensor2D, false).mean.dataSync();
    });
    for (let k = 0; k < 300; k++) expect(b1.data[k]).toBeCloseTo(manual[k]!, 1);
    // cells of batch_1 decoded as batch_1 keep their observed covariates but not their posterior spurious latents
    expect(Array.from(own.data)).not.toEqual(Array.from(b1.data));
  });

  it('with injected covariates, transformBatch changes the covariates the decoder reads', () => {
    const b0 = injected.expression(data, { transformBatch: 'batch_0' });
    const own = injected.expression(data);
    for (let i = 0; i < 240; i++) {
      const same = sim.obs.batch[i] === 'batch_0';
      const d = Math.max(...Array.from({ length: 25 }, (_, g) => Math.abs(b0.data[i * 25 + g]! - own.data[i * 25 + g]!)));
      if (same) expect(d).toBeLessThan(1e-2);
      else expect(d).toBeGreaterThan(1e-2);
    }
  });

  it('averages posterior samples (seeded: reproducible), and streams the same values block by block', () => {
    const a = priorModel.expression(data, { nSamples: 4, seed: 9, transformBatch: 'all' });
    const b = priorModel.expression(data, { nSamples: 4, seed: 9, transformBatch: 'all' });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const mean = priorModel.expression(data, { transformBatch: 'all' });
    expect(Array.from(a.data)).not.toEqual(Array.from(mean.data));
    for (const s of rowSums(a)) expect(s).toBeCloseTo(1e4, 0);
    const stream = priorModel.expressionStream(data, { batchSize: 64 });
    const blocks = [...stream.blocks()];
    expect(blocks.map((x) => [x.start, x.end])).toEqual([
      [0, 64],
      [64, 128],
      [128, 192],
      [192, 240],
    ]);
    const whole = priorModel.expression(data);
    blocks.forEach((x) => expect(Array.from(x.data)).toEqual(Array.from(whole.data.subarray(x.start * 25, x.end * 25))));
  });

  it('rejects an unknown batch, batch key or gene, bad sample counts and a model without a count decoder', async () => {
    expect(() => priorModel.expression(data, { transformBatch: 'batch_9' })).toThrow(/'batch_9' is not a batch the model was trained on \(batch: batch_0, batch_1\)/);
    expect(() => priorModel.expression(data, { transformBatch: 'all', batchKey: 'cell_type' })).toThrow(InvalidOptionError);
    expect(() => priorModel.expression(data, { genes: ['gene_01', 'nope'] })).toThrow(/1 of the 2 requested genes/);
    expect(() => priorModel.expression(data, { nSamples: 0 })).toThrow(/nSamples must be an integer ≥ 1/);
    expect(() => priorModel.expression(data, { librarySize: -1 })).toThrow(/librarySize/);
    const normal = Invae.setup(data, { ...base, spurPrior: { name: 'test-normal' }, options: { latentDimInv: 3, latentDimSpur: 1, hiddenDim: 8, decoderDist: 'normal' } }, quiet);
    try {
      expect(() => normal.expression(data)).toThrow(/needs a count \(negative binomial\) decoder/);
    } finally {
      normal.dispose();
    }
  });
});

describe('posteriorFdrCalls', () => {
  it('calls the largest top set by P(DE) whose mean 1 − P(DE) is within the target', () => {
    // sorted: 0.99, 0.97, 0.9, 0.5 → running mean of 1 − p: 0.01, 0.02, 0.0467, 0.16
    expect(posteriorFdrCalls([0.5, 0.99, 0.9, 0.97], 0.05)).toEqual([false, true, true, true]);
    expect(posteriorFdrCalls([0.5, 0.99, 0.9, 0.97], 0.025)).toEqual([false, true, false, true]);
    expect(posteriorFdrCalls([0.2, 0.3], 0.05)).toEqual([false, false]);
  });
});

describe('Invae.differentialExpression', () => {
  it('compares a group with a reference or with the rest, reproducibly, with per-group statistics', () => {
    const r = priorModel.differentialExpression(data, { groupby: 'cell_type', group: 'cell_type_0', reference: 'cell_type_1', samplesPerGroup: 200 });
    expect(r.genes).toHaveLength(25);
    expect([r.nCellsGroup, r.nCellsReference]).toEqual([120, 120]);
    expect(r.batchCorrected).toBe(true);
    expect(r.batchKey).toBe('batch');
    expect(r.cellsPerSample).toEqual({ group: 120, reference: 120 });
    // single cells (scvi-tools' pairs) vary more than the means of 120 cells
    const single = priorModel.differentialExpression(data, { groupby: 'cell_type', group: 'cell_type_0', reference: 'cell_type_1', samplesPerGroup: 200, cellsPerSample: 1 });
    const medianStd = (x: typeof r) => x.genes.map((g) => g.lfcStd).sort((p, q) => p - q)[12]!;
    expect(medianStd(single)).toBeGreaterThan(3 * medianStd(r));
    for (let k = 1; k < r.genes.length; k++) expect(r.genes[k - 1]!.bayesFactor).toBeGreaterThanOrEqual(r.genes[k]!.bayesFactor);
    for (const g of r.genes) {
      expect(g.probaDe + g.probaNotDe).toBeCloseTo(1, 10);
      expect(g.detectionGroup).toBeGreaterThanOrEqual(0);
      expect(g.detectionGroup).toBeLessThanOrEqual(1);
    }
    expect(r.nDe).toBe(r.genes.filter((g) => g.isDe).length);
    // raw statistics of the group, by hand for one gene
    const gi = 4;
    const gene = r.genes.find((g) => g.gene === sim.geneNames[gi])!;
    const dense = new Float64Array(2);
    const counts = sim.counts as { indptr: Int32Array; indices: Int32Array; data: Float32Array };
    for (let i = 0; i < 240; i++) {
      if (sim.obs.cell_type[i] !== 'cell_type_0') continue;
      for (let p = counts.indptr[i]!; p < counts.indptr[i + 1]!; p++) if (counts.indices[p] === gi) (dense[0] += counts.data[p]!), (dense[1] += 1);
    }
    expect(gene.rawMeanGroup).toBeCloseTo(dense[0]! / 120, 6);
    expect(gene.detectionGroup).toBeCloseTo(dense[1]! / 120, 6);
    const again = priorModel.differentialExpression(data, { groupby: 'cell_type', group: 'cell_type_0', reference: 'cell_type_1', samplesPerGroup: 200 });
    expect(again).toEqual(r);
    const rest = priorModel.differentialExpression(data, { groupby: 'batch', group: 'batch_0', samplesPerGroup: 100, batchCorrection: false, genes: ['gene_00', 'gene_01'] });
    expect(rest.reference).toBeNull();
    expect(rest.batchCorrected).toBe(false);
    expect(rest.genes.map((g) => g.gene).sort()).toEqual(['gene_00', 'gene_01']);
    const csv = deResultCsv(rest).trim().split('\n');
    expect(csv[0]).toBe('gene,lfc_mean,lfc_median,lfc_std,proba_de,proba_not_de,bayes_factor,is_de_fdr,scale_group,scale_reference,raw_mean_group,raw_mean_reference,detection_group,detection_reference');
    expect(csv).toHaveLength(3);
  });

  it('rejects a missing column, an unknown or empty group and a reference equal to the group', () => {
    expect(() => priorModel.differentialExpression(data, { groupby: 'nope', group: 'a' })).toThrow(/obs has no column 'nope'/);
    expect(() => priorModel.differentialExpression(data, { groupby: 'cell_type', group: 'x' })).toThrow(/no cell has cell_type = 'x' \(values: cell_type_0, cell_type_1\)/);
    expect(() => priorModel.differentialExpression(data, { groupby: 'cell_type', group: 'cell_type_0', reference: 'cell_type_0' })).toThrow(/the reference is the group itself/);
    expect(() => priorModel.differentialExpression(data, { groupby: 'cell_type', group: 'cell_type_0', fdrTarget: 2 })).toThrow(/fdrTarget must be in \(0, 1\)/);
  });
});
