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
});
afterAll(() => {
  unregisterPrior('test-normal');
  unregisterPrior('test-cond');
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
  }, 60_000);
});
