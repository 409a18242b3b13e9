import { beforeAll, describe, expect, it } from 'vitest';
import {
  InvaeModel,
  InvalidOptionError,
  TrainingDivergedError,
  initEngine,
  rowSource,
  simulate,
  tf,
  trainModel,
  type EpochReport,
  type RowSource,
  type TrainingData,
} from '../src/index';
import { StandardNormalPrior } from './model-helpers';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

const sim = simulate({ nCells: 240, nGenes: 40, nBatches: 2, nCellTypes: 3, nDiseases: 1, latentDimInv: 3, latentDimSpur: 1, seed: 5 });
const data: TrainingData = { x: rowSource(sim.counts), inv: null, spur: null };

function makeModel(seed = 1, dropoutRate = 0): InvaeModel {
  return new InvaeModel(
    { model: 'FinVAE', dataDim: sim.nGenes, invCovarDim: 0, spurCovarDim: 0, latentDimInv: 3, latentDimSpur: 1, hiddenDim: 16, nLayers: 2, dropoutRate, seed },
    { inv: new StandardNormalPrior(3), spur: new StandardNormalPrior(1) },
  );
}

describe('trainModel', () => {
  it('lowers the loss and reports every epoch with its terms and throughput', async () => {
    const model = makeModel();
    const reports: EpochReport[] = [];
    const h = await trainModel(model, data, { epochs: 15, batchSize: 64, learningRate: 5e-3, seed: 3, onEpoch: (r) => void reports.push(r) });
    expect(h.stoppedBy).toBe('epochs');
    expect(reports.map((r) => r.epoch)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    const first = reports[0]!.loss;
    const last = reports[14]!.loss;
    expect(Number.isFinite(first)).toBe(true);
    expect(last).toBeLessThan(first * 0.8);
    expect(Object.keys(reports[0]!.terms)).toContain('logPxZ');
    expect(reports[0]!.cellsPerSecond).toBeGreaterThan(0);
    model.dispose();
  });

  it('is deterministic: same seed, same engine, same loss curve (dropout included)', async () => {
    const run = async () => {
      const model = makeModel(7, 0.1);
      const h = await trainModel(model, data, { epochs: 4, batchSize: 50, seed: 11 });
      model.dispose();
      return h.epochs.map((e) => e.loss);
    };
    const a = await run();
    const b = await run();
    expect(b).toEqual(a);
    const model = makeModel(7, 0.1);
    const c = (await trainModel(model, data, { epochs: 4, batchSize: 50, seed: 12 })).epochs.map((e) => e.loss);
    model.dispose();
    expect(c).not.toEqual(a);
  });

  it('leaks no tensors: the count after epoch 2 equals the count after epoch 20', async () => {
    const model = makeModel();
    const counts: number[] = [];
    await trainModel(model, data, { epochs: 20, batchSize: 64, onEpoch: () => void counts.push(tf.memory().numTensors) });
    expect(counts[19]).toBe(counts[1]);
    model.dispose();
  });

  it('stops on a non-finite loss with a typed error and restores the last good weights', async () => {
    const model = makeModel();
    let calls = 0;
    const perEpoch = Math.ceil(sim.nCells / 60);
    // Rows turn into NaN in the middle of epoch 3.
    const poisoned: RowSource = {
      nRows: data.x.nRows,
      nCols: data.x.nCols,
      readRows: (idx) => {
        calls++;
        const v = data.x.readRows(idx);
        if (calls > 2 * perEpoch + 1) v.fill(Number.NaN);
        return v;
      },
    };
    let afterEpoch2: Map<string, tf.Tensor> | undefined;
    const err = await trainModel(model, { ...data, x: poisoned }, {
      epochs: 5,
      batchSize: 60,
      onEpoch: (r) => {
        if (r.epoch === 2) afterEpoch2 = model.getWeights();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    const e = err as TrainingDivergedError;
    expect(e.epoch).toBe(3);
    expect(e.restoredEpoch).toBe(2);
    expect(e.hint).toBeTruthy();
    const now = model.getWeights();
    for (const [name, t] of afterEpoch2!) {
      expect(Array.from(now.get(name)!.dataSync()), name).toEqual(Array.from(t.dataSync()));
    }
    tf.dispose([...now.values(), ...afterEpoch2!.values()]);
    model.dispose();
  });

  it('early stopping ends training when the loss stops improving', async () => {
    const model = makeModel();
    const h = await trainModel(model, data, { epochs: 40, batchSize: 80, learningRate: 1e-12, earlyStopping: { patience: 2 } });
    expect(h.stoppedBy).toBe('early-stopping');
    expect(h.epochs.length).toBeLessThan(40);
    model.dispose();
  });

  // torch ignores rate changes below eps = 1e-8, so the rate must be well above that.
  it('the plateau schedule lowers the learning rate', async () => {
    const model = makeModel();
    const h = await trainModel(model, data, { epochs: 12, batchSize: 80, learningRate: 1e-6, lrSchedule: { patience: 1, factor: 0.5 } });
    const rates = h.epochs.map((e) => e.learningRate);
    expect(rates[0]).toBe(1e-6);
    expect(Math.min(...rates)).toBeLessThan(1e-6);
    model.dispose();
  });

  it('warms the KL weight up linearly over the warm-up epochs', async () => {
    const model = makeModel();
    const h = await trainModel(model, data, { epochs: 4, batchSize: 60, warmUpEpochs: 2 });
    const betas = h.epochs.map((e) => e.beta);
    expect(betas[0]).toBeCloseTo(0.5, 6);
    expect(betas[1]).toBeCloseTo(1, 6);
    expect(betas[3]).toBeCloseTo(1, 6);
    model.dispose();
  });

  it('calls the checkpoint hook every N epochs and at the end', async () => {
    const model = makeModel();
    const saved: number[] = [];
    await trainModel(model, data, { epochs: 5, batchSize: 120, checkpointEvery: 2, onCheckpoint: (e) => void saved.push(e) });
    expect(saved).toEqual([2, 4, 5]);
    model.dispose();
  });

  it('rejects data that does not fit the model, and bad options, with typed errors', async () => {
    const model = makeModel();
    const wrong = { ...data, x: { nRows: 10, nCols: 7, readRows: () => new Float32Array(70) } };
    await expect(trainModel(model, wrong)).rejects.toThrow(/7 genes but the model was built for 40/);
    await expect(trainModel(model, data, { batchSize: 0 })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(trainModel(model, data, { learningRate: -1 })).rejects.toThrow(/learningRate/);
    model.dispose();
  });
});

describe('trainModel on the wasm engine', () => {
  it('reduces a minibatch that would not fit the wasm heap, with a warning', async () => {
    const wide = simulate({ nCells: 40, nGenes: 60_000, nBatches: 1, nCellTypes: 1, nDiseases: 1, latentDimInv: 2, latentDimSpur: 1, seed: 1, librarySize: [200, 400] });
    const model = new InvaeModel(
      { model: 'FinVAE', dataDim: 60_000, invCovarDim: 0, spurCovarDim: 0, latentDimInv: 2, latentDimSpur: 1, hiddenDim: 4, nLayers: 2, seed: 1 },
      { inv: new StandardNormalPrior(2), spur: new StandardNormalPrior(1) },
    );
    const warnings: string[] = [];
    const h = await trainModel(model, { x: rowSource(wide.counts), inv: null, spur: null }, { epochs: 1, batchSize: 40, warn: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(/using 25 cells per minibatch/);
    expect(Number.isFinite(h.epochs[0]!.loss)).toBe(true);
    model.dispose();
  });
});
