import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Invae,
  InvalidOptionError,
  MLP,
  SeedStream,
  accuracy,
  csrMatrix,
  initEngine,
  registerPrior,
  simulate,
  tf,
  unregisterPrior,
  type GaussianConditionalPrior,
  type InvaeDataset,
  type NamedVariable,
} from '../src/index';
import { StandardNormalPrior } from './model-helpers';

/** A batch-conditioned test prior N(0, exp(MLP(u)) + 1e-4) with the query-mapping hook (the real priors live in @invae/priors). */
class ConditionalTestPrior implements GaussianConditionalPrior {
  readonly family = 'gaussian' as const;
  private readonly net: MLP;
  constructor(
    readonly latentDim: number,
    readonly covarDim: number,
  ) {
    this.net = new MLP({ inputDim: covarDim, outputDim: latentDim, hiddenDim: 8, nLayers: 2, activation: 'relu' }, new SeedStream(3));
  }
  addQueryCovariates(k: number): void {
    this.net.addQueryInputs(k);
  }
  params(u: tf.Tensor2D | null, opts: { training: boolean }) {
    return tf.tidy(() => ({ mean: tf.zeros([1]), variance: tf.add(tf.exp(this.net.forward(u!, opts)), 1e-4) }));
  }
  namedVariables(): NamedVariable[] {
    return this.net.namedVariables().map((v) => ({ ...v, name: `test_cond.${v.name}` }));
  }
  dispose(): void {
    for (const v of this.namedVariables()) v.variable.dispose();
  }
}

/** A label-conditioned test prior N(Linear(u), I): each cell type's latents are pulled to a mean of their own (all-zero u: unlabelled). */
class MeanTestPrior implements GaussianConditionalPrior {
  readonly family = 'gaussian' as const;
  private readonly net: MLP;
  constructor(
    readonly latentDim: number,
    readonly covarDim: number,
  ) {
    this.net = new MLP({ inputDim: covarDim, outputDim: latentDim, hiddenDim: 8, nLayers: 1, activation: 'relu' }, new SeedStream(3));
  }
  params(u: tf.Tensor2D | null, opts: { training: boolean }) {
    return tf.tidy(() => ({ mean: this.net.forward(u!, opts), variance: tf.ones([1]) }));
  }
  namedVariables(): NamedVariable[] {
    return this.net.namedVariables().map((v) => ({ ...v, name: `test_mean.${v.name}` }));
  }
  dispose(): void {
    for (const v of this.namedVariables()) v.variable.dispose();
  }
}

/** The rows `rows` of a simulated dataset (CSR counts, obs columns), with the obs columns `drop` left out. */
function subset(sim: ReturnType<typeof simulate>, rows: number[], drop: string[] = []): InvaeDataset {
  const c = sim.counts;
  if (c.kind !== 'csr') throw new Error('expected CSR counts');
  const indptr = [0];
  const indices: number[] = [];
  const data: number[] = [];
  for (const r of rows) {
    for (let p = c.indptr[r]!; p < c.indptr[r + 1]!; p++) {
      indices.push(c.indices[p]!);
      data.push(c.data[p]!);
    }
    indptr.push(indices.length);
  }
  const obs: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(sim.obs)) if (!drop.includes(k)) obs[k] = rows.map((r) => v[r]!);
  return { counts: csrMatrix(rows.length, sim.nGenes, Int32Array.from(indptr), Int32Array.from(indices), Float32Array.from(data)), geneNames: sim.geneNames, obs };
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const quiet = { warn: () => {} };

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  registerPrior({ name: 'test-normal', family: 'gaussian', create: (ctx) => new StandardNormalPrior(ctx.latentDim) });
  registerPrior({ name: 'test-cond', family: 'gaussian', create: (ctx) => new ConditionalTestPrior(ctx.latentDim, ctx.covarDim) });
  registerPrior({ name: 'test-mean', family: 'gaussian', create: (ctx) => new MeanTestPrior(ctx.latentDim, ctx.covarDim) });
});
afterAll(() => {
  unregisterPrior('test-normal');
  unregisterPrior('test-cond');
  unregisterPrior('test-mean');
});

describe('Invae.map (query mapping onto a trained reference)', () => {
  const sim = simulate({ nCells: 400, nGenes: 30, nBatches: 3, nCellTypes: 3, nDiseases: 1, latentDimInv: 3, latentDimSpur: 1, seed: 5 });
  const heldOut = sim.categories.batch.at(-1)!;
  const all = sim.obs.batch.map((_, i) => i);
  const refRows = all.filter((i) => sim.obs.batch[i] !== heldOut);
  const queryRows = all.filter((i) => sim.obs.batch[i] === heldOut);
  const reference = subset(sim, refRows);
  const query = subset(sim, queryRows, ['cell_type']);
  const setup = {
    invariant: { categorical: ['cell_type'] },
    spurious: { categorical: ['batch'] },
    options: { latentDimInv: 3, latentDimSpur: 1, hiddenDim: 16, seed: 4 },
    invPrior: { name: 'test-normal' },
    spurPrior: { name: 'test-cond' },
  };

  it('adds query columns to the encoder, the decoder and the spurious prior, trains only them, and keeps reference latents bit-identical (also after save → load)', async () => {
    const ref = Invae.setup(reference, setup, quiet);
    await ref.train(reference, { epochs: 2, batchSize: 64 });
    ref.trainPredictor(reference, 'cell_type', { kind: 'linear', epochs: 20 });
    const before = ref.latent(reference, { part: 'full' });
    const refWeights = ref.model.getWeights();
    const mapped = await Invae.map(ref, query, { epochs: 3, batchSize: 64, warn: () => {} });
    try {
      expect(mapped.mappedCategories).toEqual({ batch: [heldOut] });
      expect(mapped.model.config.spurQueryDim).toBe(1);
      const queryVars = mapped.model.namedVariables().filter((v) => v.query).map((v) => v.name);
      expect(queryVars.sort()).toEqual(['decoder_raw_mean.fc.0.query_weight', 'shared_encoder.fc.0.query_weight', 'test_cond.fc.0.query_weight']);
      // the new weights trained away from their zero start; every reference weight is unchanged
      const mw = mapped.model.getWeights();
      for (const name of queryVars) expect(Math.max(...Array.from(mw.get(name)!.dataSync(), Math.abs))).toBeGreaterThan(0);
      for (const [name, t] of refWeights) expect(bits(mw.get(name)!.dataSync() as Float32Array), name).toEqual(bits(t.dataSync() as Float32Array));
      tf.dispose([...mw.values()]);
      expect(mapped.history?.epochs).toHaveLength(3);
      expect(bits(mapped.latent(reference, { part: 'full' }).data)).toEqual(bits(before.data));
      // the reference model itself is untouched
      expect(bits(ref.latent(reference, { part: 'full' }).data)).toEqual(bits(before.data));
      expect(mapped.predictor?.labelKey).toBe('cell_type');
      const queryLatent = mapped.latent(query, { part: 'full' });
      const dir = path.join(mkdtempSync(path.join(tmpdir(), 'invae-map-')), 'mapped');
      try {
        await mapped.save(dir);
        const back = await Invae.load(dir, quiet);
        expect(back.mappedCategories).toEqual({ batch: [heldOut] });
        expect(bits(back.latent(reference, { part: 'full' }).data)).toEqual(bits(before.data));
        expect(bits(back.latent(query, { part: 'full' }).data)).toEqual(bits(queryLatent.data));
        expect(back.predict(query).labels).toEqual(mapped.predict(query).labels);
        back.dispose();
      } finally {
        rmSync(path.dirname(dir), { recursive: true, force: true });
      }
    } finally {
      tf.dispose([...refWeights.values()]);
      mapped.dispose();
      ref.dispose();
    }
  }, 120_000);

  it('refuses a query without new batches, and a model that is already a mapping, with typed errors', async () => {
    const ref = Invae.setup(reference, setup, quiet);
    await ref.train(reference, { epochs: 1, batchSize: 64 });
    await expect(Invae.map(ref, reference, { epochs: 1 })).rejects.toThrow(InvalidOptionError);
    await expect(Invae.map(ref, reference, { epochs: 1 })).rejects.toThrow(/nothing to map/);
    await expect(Invae.map(ref, subset(sim, queryRows, ['batch']), { epochs: 1, warn: () => {} })).rejects.toThrow(/no column 'batch'/);
    const mapped = await Invae.map(ref, query, { epochs: 1, batchSize: 64, warn: () => {} });
    await expect(Invae.map(mapped, query, { epochs: 1 })).rejects.toThrow(/already a query mapping/);
    mapped.dispose();
    ref.dispose();
    // a model where no network reads the batch through weights: nothing to extend
    const blind = Invae.setup(reference, { ...setup, spurPrior: { name: 'test-normal' }, options: { ...setup.options, encoderCovariates: 'none', injectCovarInLatent: false } }, quiet);
    await expect(Invae.map(blind, query, { epochs: 1 })).rejects.toThrow(/No network of this model reads the spurious covariates/);
    blind.dispose();
  }, 60_000);

  it('label transfer on a held-out batch: mapped within 0.02 of training on everything, better than the batch unseen, in ≥ 5× fewer steps', async () => {
    const big = simulate({ nCells: 1200, nGenes: 60, nBatches: 4, nCellTypes: 4, nDiseases: 1, latentDimInv: 4, latentDimSpur: 2, cellTypeSpread: 3, batchShift: 3, seed: 11 });
    const out = big.categories.batch.at(-1)!;
    const rows = big.obs.batch.map((_, i) => i);
    const refData = subset(big, rows.filter((i) => big.obs.batch[i] !== out));
    const qRows = rows.filter((i) => big.obs.batch[i] === out);
    // the query's labels are the truth to score against; the models never see them
    const truth = qRows.map((i) => big.obs.cell_type[i]!);
    const qData = subset(big, qRows, ['cell_type']);
    // everything = reference + query, the query unlabelled
    const allData = subset(big, rows, ['cell_type']);
    const labelled = rows.map((i) => (big.obs.batch[i] !== out ? big.obs.cell_type[i]! : null));
    (allData.obs as Record<string, unknown>).cell_type = labelled;
    const opts = {
      invariant: { categorical: ['cell_type'] },
      spurious: { categorical: ['batch'] },
      options: { latentDimInv: 4, latentDimSpur: 0, hiddenDim: 32, encoderCovariates: 'spurious' as const, injectCovarInLatent: true, dropoutRate: 0, seed: 1 },
      invPrior: { name: 'test-mean' },
      spurPrior: null,
    };
    const train = { epochs: 60, batchSize: 128, learningRate: 3e-3 };
    // mapping trains 1 column per layer on a quarter of the cells: a higher rate, fewer epochs
    const mapTrain = { epochs: 20, batchSize: 64, learningRate: 1e-2 };
    const steps = (n: number, o: { epochs: number; batchSize: number }) => o.epochs * Math.ceil(n / o.batchSize);

    const ref = Invae.setup(refData, opts, quiet);
    await ref.train(refData, train);
    ref.trainPredictor(refData, 'cell_type', { kind: 'linear', epochs: 200 });
    const unseen = accuracy(truth, ref.predict(qData).labels);

    let t = performance.now();
    const mapped = await Invae.map(ref, qData, { ...mapTrain, warn: () => {} });
    const mapSeconds = (performance.now() - t) / 1000;
    const mappedAcc = accuracy(truth, mapped.predict(qData).labels);

    t = performance.now();
    const full = Invae.setup(allData, opts, quiet);
    await full.train(allData, train);
    const fullSeconds = (performance.now() - t) / 1000;
    const fullLatent = full.latent(refData, { part: 'inv' });
    full.trainPredictor(refData, 'cell_type', { kind: 'linear', epochs: 200 }, { latent: fullLatent });
    const fullAcc = accuracy(truth, full.predict(qData).labels);

    const mapSteps = steps(qRows.length, mapTrain);
    const fullSteps = steps(rows.length, train);
    console.log(
      `label transfer on held-out batch '${out}' (${qRows.length} cells): unseen ${unseen.toFixed(3)}, mapped ${mappedAcc.toFixed(3)}, trained on everything ${fullAcc.toFixed(3)}; ` +
        `mapping ${mapSteps} steps in ${mapSeconds.toFixed(1)} s vs retraining ${fullSteps} steps in ${fullSeconds.toFixed(1)} s (${(fullSeconds / mapSeconds).toFixed(1)}× faster)`,
    );
    expect(mappedAcc).toBeGreaterThanOrEqual(fullAcc - 0.02);
    expect(mappedAcc).toBeGreaterThan(unseen);
    // timings are printed, not asserted (shared CI machines); the work is: the mapping's steps
    expect(mapped.history!.epochs).toHaveLength(mapTrain.epochs);
    expect(full.history!.epochs).toHaveLength(train.epochs);
    expect(fullSteps / mapSteps).toBeGreaterThanOrEqual(5);
    mapped.dispose();
    full.dispose();
    ref.dispose();
  }, 600_000);

  it('predictions carry a confidence; cells below unknownThreshold are labelled unknown; a bad threshold is a typed error', async () => {
    const ref = Invae.setup(reference, setup, quiet);
    await ref.train(reference, { epochs: 2, batchSize: 64 });
    ref.trainPredictor(reference, 'cell_type', { kind: 'linear', epochs: 20 });
    try {
      const plain = ref.predict(query);
      const k = plain.classes.length;
      const conf = plain.confidence!;
      expect(conf).toHaveLength(queryRows.length);
      for (let i = 0; i < conf.length; i++) expect(conf[i]).toBe(Math.max(...plain.probabilities.subarray(i * k, (i + 1) * k)));
      const cut = [...conf].sort((a, b) => a - b)[Math.floor(conf.length / 2)]!;
      const marked = ref.predict(query, { unknownThreshold: cut });
      const below = Array.from(conf, (c) => c < cut);
      expect(below.some(Boolean)).toBe(true);
      expect(marked.labels).toEqual(plain.labels.map((l, i) => (below[i] ? 'unknown' : l)));
      expect(Array.from(marked.probabilities)).toEqual(Array.from(plain.probabilities));
      expect(ref.predict(query, { unknownThreshold: 0 }).labels).toEqual(plain.labels);
      expect(() => ref.predict(query, { unknownThreshold: 1.5 })).toThrow(InvalidOptionError);
      expect(() => ref.predict(query, { unknownThreshold: Number.NaN })).toThrow(/unknownThreshold must be a probability in \[0, 1\]/);
    } finally {
      ref.dispose();
    }
  }, 60_000);
});
