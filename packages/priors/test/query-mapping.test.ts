import { beforeAll, describe, expect, it } from 'vitest';
import { Invae, initEngine, simulate, tf, type GaussianConditionalPrior } from '@invae/core';
import { GaussianPrior, LinearGaussianPrior, registerBuiltinPriors } from '../src/index';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  registerBuiltinPriors();
});

const bits = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));
const ref = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

/** Mean and variance of `p` at `u` (broadcast to [rows, latent]), as bits. */
function params(p: GaussianConditionalPrior, u: number[][]): number[][] {
  return tf.tidy(() => {
    const r = p.params(tf.tensor2d(u), { training: false });
    const shape = [u.length, p.latentDim];
    return [bits(tf.broadcastTo(r.mean, shape)), bits(tf.broadcastTo(r.variance, shape))];
  });
}

const priors: [string, () => GaussianConditionalPrior][] = [
  ['gaussian fixed-mean', () => new GaussianPrior({ role: 'spur', latentDim: 2, covarDim: 3, hiddenDim: 5, seed: 1 })],
  ['gaussian fixed-var', () => new GaussianPrior({ role: 'spur', latentDim: 2, covarDim: 3, hiddenDim: 5, seed: 1, variant: 'fixed-var' })],
  ['gaussian learned', () => new GaussianPrior({ role: 'spur', latentDim: 2, covarDim: 3, hiddenDim: 5, seed: 1, variant: 'learned' })],
  ['linear-gaussian', () => new LinearGaussianPrior({ role: 'spur', latentDim: 2, covarDim: 3, hiddenDim: 5, seed: 1 })],
];

describe('addQueryCovariates (query mapping hook of the built-in Gaussian priors)', () => {
  for (const [name, make] of priors) {
    it(`${name}: query columns get weights of their own; rows without them keep their exact parameters`, () => {
      const p = make();
      const before = params(p, ref);
      p.addQueryCovariates!(2);
      const query = p.namedVariables().filter((v) => v.query);
      expect(query.length).toBeGreaterThan(0);
      for (const v of query) expect(v.variable.shape.at(-1)).toBe(2);
      const padded = ref.map((r) => [...r, 0, 0]);
      expect(params(p, padded)).toEqual(before);
      // trained (non-zero) query weights still leave reference rows exactly as they were, and move query rows
      for (const v of query) v.variable.assign(tf.randomNormal(v.variable.shape, 0, 1, 'float32', 7));
      expect(params(p, padded)).toEqual(before);
      expect(params(p, [[0, 0, 0, 1, 0]])).not.toEqual(params(p, [[0, 0, 0, 0, 0]]));
      p.dispose();
    });
  }

  it('Invae.map with the reference preset extends the built-in spurious prior (logl_spur) and the encoder', async () => {
    const sim = simulate({ nCells: 240, nGenes: 20, nBatches: 3, nCellTypes: 2, nDiseases: 1, latentDimInv: 2, latentDimSpur: 1, seed: 3 });
    const rows = (keep: (b: string) => boolean) => sim.obs.batch.map((b, i) => (keep(b) ? i : -1)).filter((i) => i >= 0);
    const c = sim.counts;
    if (c.kind !== 'csr') throw new Error('expected CSR');
    const dense = (idx: number[]) => {
      const out = new Float32Array(idx.length * sim.nGenes);
      idx.forEach((r, i) => {
        for (let q = c.indptr[r]!; q < c.indptr[r + 1]!; q++) out[i * sim.nGenes + c.indices[q]!] = c.data[q]!;
      });
      return { kind: 'dense' as const, shape: [idx.length, sim.nGenes] as [number, number], data: out };
    };
    const last = sim.categories.batch.at(-1)!;
    const subset = (idx: number[]) => ({ counts: dense(idx), geneNames: sim.geneNames, obs: { batch: idx.map((i) => sim.obs.batch[i]!), cell_type: idx.map((i) => sim.obs.cell_type[i]!) } });
    const reference = subset(rows((b) => b !== last));
    const query = subset(rows((b) => b === last));
    const quiet = { warn: () => {} };
    const model = Invae.setup(reference, { preset: 'reference', invariant: { categorical: ['cell_type'] }, spurious: { categorical: ['batch'] }, options: { hiddenDim: 8, seed: 2 } }, quiet);
    await model.train(reference, { epochs: 1, batchSize: 64 });
    const before = model.latent(reference, { part: 'full' });
    const mapped = await Invae.map(model, query, { epochs: 2, batchSize: 64, warn: () => {} });
    const names = mapped.model.namedVariables().filter((v) => v.query).map((v) => v.name).sort();
    expect(names).toEqual(['logl_spur.fc.0.query_weight', 'shared_encoder.fc.0.query_weight']);
    expect(bits(tf.tensor(mapped.latent(reference, { part: 'full' }).data))).toEqual(bits(tf.tensor(before.data)));
    mapped.dispose();
    model.dispose();
  }, 60_000);
});
