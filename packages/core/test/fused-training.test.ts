import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvaeModel, initEngine, rowSource, simulate, tf, trainModel, type TrainingData } from '../src/index';
import { fastPaths } from '../src/nn/fast-paths';
import { threadedLimits, threadedStats } from '../src/fused/affine';
import { threadedNbLimits } from '../src/likelihoods/nb-fused';
import { decoderNbLimits, decoderNbPrepared, decoderNbStats } from '../src/fused/decoder-nb';
import { threadedSparseLimits, threadedSparseStats } from '../src/nn/sparse-affine';
import { fusedThreads } from '../src/fused/threads';
import { StandardNormalPrior } from './model-helpers';
import { Linear } from '../src/nn/linear';
import { SeedStream } from '../src/nn/variables';

const LIMITS = { ...threadedLimits };
const SWITCHES = { ...fastPaths };
const NB_LIMITS = { ...threadedNbLimits };
const SPARSE_LIMITS = { ...threadedSparseLimits };
const DECODER_LIMITS = { ...decoderNbLimits };

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});
afterEach(() => {
  Object.assign(fastPaths, SWITCHES);
  Object.assign(threadedLimits, LIMITS);
  Object.assign(threadedSparseLimits, SPARSE_LIMITS);
  Object.assign(threadedNbLimits, NB_LIMITS);
  Object.assign(decoderNbLimits, DECODER_LIMITS);
});
afterAll(() => fusedThreads().close());

const sim = simulate({ nCells: 384, nGenes: 300, nBatches: 2, nCellTypes: 3, nDiseases: 1, latentDimInv: 4, latentDimSpur: 2, seed: 9 });
const data: TrainingData = { x: rowSource(sim.counts), inv: null, spur: null };

function makeModel(): InvaeModel {
  return new InvaeModel(
    { model: 'FinVAE', dataDim: sim.nGenes, invCovarDim: 0, spurCovarDim: 0, latentDimInv: 4, latentDimSpur: 2, hiddenDim: 32, nLayers: 2, batchNorm: true, dropoutRate: 0.1, seed: 4 },
    { inv: new StandardNormalPrior(4), spur: new StandardNormalPrior(2) },
  );
}

/** Trains 10 epochs; returns the loss curve and the final weights. */
async function train(opts: { threaded: boolean; threads?: number }) {
  fastPaths.threadedProducts = opts.threaded;
  fastPaths.threadedNb = opts.threaded;
  fastPaths.threadedSparse = opts.threaded;
  fastPaths.fusedDecoderNb = opts.threaded; // the decoder's output layer + NB likelihood as one op
  threadedSparseLimits.minMacs = 0; // the encoder's first layer
  threadedLimits.minMacs = 0; // every dense layer on the threaded products
  threadedNbLimits.minElements = 0; // and the NB likelihood
  decoderNbLimits.minElements = 0; // and the fused decoder output + NB op
  if (opts.threads) fusedThreads(opts.threads);
  const model = makeModel();
  const before = threadedStats.forward;
  const decoderBefore = decoderNbStats.forward;
  const sparseBefore = threadedSparseStats.grad;
  const h = await trainModel(model, data, { epochs: 10, batchSize: 128, learningRate: 1e-3, seed: 5, workers: 1 });
  const weights = new Map([...model.getWeights()].map(([k, t]) => [k, t.dataSync().slice() as Float32Array]));
  model.dispose();
  return { curve: h.epochs.map((e) => e.loss), weights, threadedCalls: threadedStats.forward - before, fusedDecoder: decoderNbStats.forward - decoderBefore, threadedSparse: threadedSparseStats.grad - sparseBefore };
}

describe('training on the fused threaded products', () => {
  it('gives the engine path\'s training curve to 1e-4 relative over 10 epochs', async () => {
    const engine = await train({ threaded: false });
    const fused = await train({ threaded: true, threads: 2 });
    expect(fused.curve).toHaveLength(10);
    expect(engine.threadedCalls).toBe(0);
    expect(fused.threadedCalls).toBeGreaterThan(0);
    expect(engine.fusedDecoder).toBe(0);
    expect(fused.fusedDecoder).toBeGreaterThan(0);
    expect(engine.threadedSparse).toBe(0);
    expect(fused.threadedSparse).toBeGreaterThan(0);
    for (let e = 0; e < 10; e++) expect(Math.abs(fused.curve[e]! - engine.curve[e]!) / Math.abs(engine.curve[e]!)).toBeLessThan(1e-4);
    for (const [k, w] of fused.weights) {
      // A bias followed by BatchNorm (training mode) has a gradient of exactly 0 in exact arithmetic:
      // Adam turns the rounding noise of its float32 gradient into steps, so those biases (and the
      // running means that track them) differ between any two summation orders; not compared.
      if (/fc\.\d+\.bias$|running_mean$/.test(k)) continue;
      const e = engine.weights.get(k)!;
      let scale = 0;
      let err = 0;
      for (let i = 0; i < w.length; i++) {
        scale = Math.max(scale, Math.abs(e[i]!));
        err = Math.max(err, Math.abs(w[i]! - e[i]!));
      }
      // the output layer's softmax gradient f·(dμ − Σ f dμ) cancels for genes whose dμ is near the
      // row's mean: the fused op (4-lane sums) and the engine round it apart, and Adam's normalised
      // step turns that rounding noise into steps of up to the learning rate; those weights are held
      // to less than one Adam step (1e-3) apart (measured 3.2e-4, of a largest weight of 0.156)
      if (k === 'decoder_freq.0.weight') expect(err, k).toBeLessThan(1e-3);
      else expect(err / (scale || 1), k).toBeLessThan(1e-4);
    }
  });

  it('1 and 2 threads give bit-identical weights', async () => {
    const one = await train({ threaded: true, threads: 1 });
    const two = await train({ threaded: true, threads: 2 });
    expect(two.curve).toEqual(one.curve);
    for (const [k, w] of one.weights) expect(Buffer.from(two.weights.get(k)!.buffer).equals(Buffer.from(w.buffer)), k).toBe(true);
  });

  it('stages the fused decoder\'s weights ahead on the worker threads in each step: the weights of staging them in the op', async () => {
    fastPaths.decoderPrepare = false;
    const before = { ...decoderNbPrepared };
    const inOp = await train({ threaded: true, threads: 2 });
    expect(decoderNbPrepared.started, 'nothing staged ahead when switched off').toBe(before.started);
    fastPaths.decoderPrepare = true;
    const ahead = await train({ threaded: true, threads: 2 });
    // 10 epochs of 3 steps: each step's forward pass used what was staged ahead
    expect(decoderNbPrepared.used - before.used).toBe(30);
    expect(decoderNbPrepared.started - before.started).toBe(30);
    expect(ahead.curve).toEqual(inOp.curve);
    for (const [k, w] of inOp.weights) expect(Buffer.from(ahead.weights.get(k)!.buffer).equals(Buffer.from(w.buffer)), k).toBe(true);
  });

  it('runs the decoder output layer (256 × 128 → 2000) on the threaded products at the default limit, a small layer on the engine', () => {
    fastPaths.threadedProducts = true;
    const seeds = new SeedStream(1);
    const big = new Linear(128, 2000, seeds);
    const small = new Linear(16, 40, seeds);
    const count = (layer: Linear, rows: number) => {
      const before = threadedStats.forward;
      tf.tidy(() => layer.apply(tf.zeros([rows, layer.inputDim]) as tf.Tensor2D));
      return threadedStats.forward - before;
    };
    expect(count(big, 256)).toBe(1);
    expect(count(small, 4)).toBe(0);
    fastPaths.threadedProducts = false;
    expect(count(big, 256)).toBe(0);
    for (const v of [...big.namedVariables(), ...small.namedVariables()]) v.variable.dispose();
  });
});
