import { pathToFileURL, fileURLToPath } from 'node:url';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Adam,
  InvalidOptionError,
  MinibatchSampler,
  WorkerError,
  deriveSeed,
  gatherBatch,
  disposeBatch,
  initEngine,
  rowSource,
  simulate,
  tf,
  trainModel,
  type InvaeModel,
  type InvaeModelConfig,
  type ReplicaRecipe,
  type TrainingData,
} from '../src/index';
import { gradientStep } from '../src/parallel/gradient-step';
import { replicaSeed, splitSizes } from '../src/parallel/data-parallel';
import { readInto, splitLike } from '../src/parallel/flat';
import { tinyModel } from './support/replica-factory';

// Worker threads cannot load TypeScript by themselves: this preload registers a loader for the sources.
const support = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support');
process.env.INVAE_WORKER_IMPORTS = pathToFileURL(path.join(support, 'register-ts.mjs')).href;
const factoryUrl = pathToFileURL(path.join(support, 'replica-factory.ts')).href;

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

const sim = simulate({ nCells: 200, nGenes: 30, nBatches: 2, nCellTypes: 3, nDiseases: 1, latentDimInv: 3, latentDimSpur: 1, seed: 5 });
const data: TrainingData = { x: rowSource(sim.counts), inv: null, spur: null };
const config: InvaeModelConfig = {
  model: 'FinVAE',
  dataDim: sim.nGenes,
  invCovarDim: 0,
  spurCovarDim: 0,
  latentDimInv: 3,
  latentDimSpur: 1,
  hiddenDim: 16,
  nLayers: 2,
  dropoutRate: 0.1,
  batchNorm: true,
  seed: 1,
};
const recipe: ReplicaRecipe = { module: factoryUrl, export: 'tinyModel', args: config };

function values(model: InvaeModel): Map<string, Float32Array> {
  return new Map(model.namedVariables().map((v) => [v.name, v.variable.dataSync() as Float32Array]));
}

describe('splitting a minibatch over replicas', () => {
  it('gives near-equal contiguous parts of at least 2 rows, fewer parts for tiny batches', () => {
    expect(splitSizes(256, 2)).toEqual([128, 128]);
    expect(splitSizes(255, 2)).toEqual([128, 127]);
    expect(splitSizes(10, 3)).toEqual([4, 3, 3]);
    expect(splitSizes(3, 2)).toEqual([3]);
    expect(splitSizes(5, 3)).toEqual([3, 2]);
    expect(splitSizes(7, 1)).toEqual([7]);
  });

  it('keeps the step seed for the main replica and derives distinct ones for workers', () => {
    expect(replicaSeed(123, 0)).toBe(123);
    expect(replicaSeed(123, 1)).not.toBe(123);
    expect(replicaSeed(123, 1)).not.toBe(replicaSeed(123, 2));
    expect(replicaSeed(123, 1)).toBe(replicaSeed(123, 1));
  });
});

describe('moving values between the engine and shared buffers', () => {
  it('reads a tensor straight from the wasm heap exactly as dataSync does, and splits a flat buffer by variable', () => {
    const a = tf.tidy(() => tf.reshape(tf.add(tf.range(0, 1000, 1, 'float32'), tf.scalar(0.5)), [10, 100]));
    const out = new Float32Array(new SharedArrayBuffer(1004 * 4)).fill(-1);
    readInto(a, out);
    expect(Array.from(out.subarray(0, 1000))).toEqual(Array.from(a.dataSync()));
    expect(out[1000]).toBe(-1);
    const vars = [tf.variable(tf.zeros([2, 3])), tf.variable(tf.zeros([4]))];
    const parts = splitLike(vars, Float32Array.from({ length: 12 }, (_, i) => i));
    out.fill(0); // the tensors own copies: reusing the buffer does not change them
    expect(parts.map((p) => p.shape)).toEqual([[2, 3], [4]]);
    expect(Array.from(parts[0]!.dataSync())).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(parts[1]!.dataSync())).toEqual([6, 7, 8, 9]);
    tf.dispose([a, ...vars, ...parts]);
  });
});

describe('data-parallel training', () => {
  it('equals averaging the part gradients by hand: weights after a step, BatchNorm statistics averaged', async () => {
    const seed = 3;
    const n = sim.nCells;
    const model = tinyModel(config);
    const h = await trainModel(model, data, { epochs: 1, batchSize: n, seed, workers: 2, replica: recipe });
    expect(h.workers).toBe(2);
    expect(h.epochs).toHaveLength(1);

    // by hand: the same batch split in two, each half on its own copy of the initial model
    const order = new MinibatchSampler({ rows: n, batchSize: n, seed }).epochOrder(0);
    const [a, b] = splitSizes(n, 2);
    const stepSeed = deriveSeed(seed, 1, 1);
    const m0 = tinyModel(config);
    const m1 = tinyModel(config);
    const vars0 = m0.trainableVariables;
    const size = vars0.reduce((s, v) => s + v.size, 0);
    const g0 = new Float32Array(size);
    const g1 = new Float32Array(size);
    const b0 = gatherBatch(data.x, order.subarray(0, a!));
    const r0 = gradientStep(m0, vars0, b0, replicaSeed(stepSeed, 0), n, g0);
    disposeBatch(b0);
    const b1 = gatherBatch(data.x, order.subarray(a!, a! + b!));
    const r1 = gradientStep(m1, m1.trainableVariables, b1, replicaSeed(stepSeed, 1), n, g1);
    disposeBatch(b1);
    const avg = g0.map((g, i) => (a! / n) * g + (b! / n) * g1[i]!);
    const adam = new Adam(vars0, { learningRate: 1e-3, weightDecay: 1e-4 });
    let off = 0;
    const grads = vars0.map((v) => {
      const t = tf.tensor(avg.slice(off, off + v.size), v.shape);
      off += v.size;
      return t;
    });
    adam.applyGradients(grads);
    tf.dispose(grads);
    adam.dispose();

    expect(h.epochs[0]!.loss).toBeCloseTo((a! * r0.loss + b! * r1.loss) / n, 4);
    const got = values(model);
    const e0 = values(m0);
    const e1 = values(m1);
    for (const v of model.namedVariables()) {
      const expected = v.trainable ? e0.get(v.name)! : e0.get(v.name)!.map((x, i) => (x + e1.get(v.name)![i]!) / 2);
      const actual = got.get(v.name)!;
      let maxDiff = 0;
      for (let i = 0; i < actual.length; i++) maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
      expect(maxDiff, v.name).toBeLessThan(1e-6);
    }
    // the statistics really differ between the halves, so the average is a real test
    const rm = model.namedVariables().find((v) => v.name.endsWith('running_mean'))!.name;
    expect(Array.from(e0.get(rm)!)).not.toEqual(Array.from(e1.get(rm)!));
    for (const m of [model, m0, m1]) m.dispose();
  });

  it('is deterministic for a seed and a number of workers, and lowers the loss', async () => {
    const run = async () => {
      const model = tinyModel(config);
      const h = await trainModel(model, data, { epochs: 3, batchSize: 50, learningRate: 5e-3, seed: 11, workers: 2, replica: recipe });
      const w = values(model);
      model.dispose();
      return { losses: h.epochs.map((e) => e.loss), w, terms: h.epochs[0]!.terms };
    };
    const x = await run();
    const y = await run();
    expect(y.losses).toEqual(x.losses);
    for (const [k, v] of x.w) expect(Array.from(y.w.get(k)!)).toEqual(Array.from(v));
    expect(x.losses[2]!).toBeLessThan(x.losses[0]!);
    expect(Object.keys(x.terms)).toEqual(expect.arrayContaining(['logPxZ', 'logPz', 'logQz']));
  });

  it('rejects workers > 1 without a replica recipe, and reports a worker that cannot build its replica', async () => {
    const model = tinyModel(config);
    await expect(trainModel(model, data, { epochs: 1, workers: 2 })).rejects.toThrow(InvalidOptionError);
    const broken: ReplicaRecipe = { module: factoryUrl, export: 'brokenModel' };
    const err = await trainModel(model, data, { epochs: 1, workers: 2, replica: broken }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as Error).message).toMatch(/cannot be built/);
    // 'auto' falls back to one thread (here: the problem is too small to parallelise anyway)
    const h = await trainModel(model, data, { epochs: 1, batchSize: 50, workers: 'auto', replica: broken });
    expect(h.workers).toBe(1);
    model.dispose();
  });
});
