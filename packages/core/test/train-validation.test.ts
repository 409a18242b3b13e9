import { beforeAll, describe, expect, it } from 'vitest';
import {
  InvaeModel,
  InvalidOptionError,
  autoEpochs,
  historyFromJSON,
  historyToJSON,
  initEngine,
  rowSource,
  simulate,
  tf,
  trainModel,
  trainValidationSplit,
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

/** A row source that records the rows of every read. */
function recording(inner: RowSource): RowSource & { reads: number[][] } {
  const reads: number[][] = [];
  return { nRows: inner.nRows, nCols: inner.nCols, reads, readRows: (idx) => (reads.push(Array.from(idx)), inner.readRows(idx)) };
}

describe('autoEpochs (scvi-tools get_max_epochs_heuristic)', () => {
  it('is 400 up to 20 000 cells, then 8 million cells / n, at least 1, rounding halves to even as Python', () => {
    expect(autoEpochs(1)).toBe(400);
    expect(autoEpochs(450)).toBe(400);
    expect(autoEpochs(20_000)).toBe(400);
    expect(autoEpochs(20_001)).toBe(400);
    expect(autoEpochs(40_000)).toBe(200);
    expect(autoEpochs(30_000)).toBe(267);
    expect(autoEpochs(100_000)).toBe(80);
    expect(autoEpochs(1_000_000)).toBe(8);
    expect(autoEpochs(3_200_000)).toBe(2); // round(2.5) = 2 in Python
    expect(autoEpochs(16_000_000)).toBe(1); // round(0.5) = 0 → at least 1
    expect(autoEpochs(1e9)).toBe(1);
    expect(() => autoEpochs(0)).toThrow(InvalidOptionError);
    expect(() => autoEpochs(2.5)).toThrow(InvalidOptionError);
  });

  it("epochs: 'auto' plans autoEpochs(training cells) epochs", async () => {
    const model = makeModel();
    const ac = new AbortController();
    const h = await trainModel(model, data, { epochs: 'auto', batchSize: 120, signal: ac.signal, onEpoch: () => ac.abort() });
    expect(h.epochs[0]!.epochs).toBe(400);
    expect(h.stoppedBy).toBe('aborted');
    model.dispose();
  });
});

describe('trainModel with a validation split', () => {
  it('trains on the training rows only and evaluates the held-out rows every epoch; same seed, same split and curve', async () => {
    const split = trainValidationSplit({ nRows: 240, validationFraction: 0.1, seed: 3 });
    expect(split.validation.length).toBe(24);
    const run = async (seed: number) => {
      const x = recording(data.x);
      const model = makeModel();
      const h = await trainModel(model, { ...data, x }, { epochs: 3, batchSize: 64, seed, validation: 0.1 });
      model.dispose();
      return { h, reads: x.reads };
    };
    const { h, reads } = await run(3);
    const val = new Set(split.validation);
    const valReads = reads.filter((r) => r.every((i) => val.has(i)));
    const trainReads = reads.filter((r) => !r.every((i) => val.has(i)));
    // one eval pass of the 24 held-out cells per epoch, in row order
    expect(valReads).toEqual([Array.from(split.validation), Array.from(split.validation), Array.from(split.validation)]);
    // training never reads a held-out row, and every epoch covers all 216 training rows
    for (const r of trainReads) for (const i of r) expect(val.has(i)).toBe(false);
    const firstEpoch = trainReads.slice(0, Math.ceil(216 / 64)).flat();
    expect(firstEpoch.sort((a, b) => a - b)).toEqual(Array.from(split.train));
    expect(h.validationCells).toBe(24);
    for (const e of h.epochs) {
      expect(Number.isFinite(e.validationLoss)).toBe(true);
      expect(Object.keys(e.validationTerms!)).toEqual(Object.keys(e.terms));
    }
    const again = await run(3);
    expect(again.h.epochs.map((e) => [e.loss, e.validationLoss])).toEqual(h.epochs.map((e) => [e.loss, e.validationLoss]));
    const other = await run(4);
    expect(other.reads.filter((r) => r.every((i) => val.has(i)))).not.toEqual(valReads);
  });

  it('without a validation split trains exactly as before and reports no validation loss', async () => {
    const curve = async (o: { validation?: number }) => {
      const model = makeModel(7, 0.1);
      const h = await trainModel(model, data, { epochs: 3, batchSize: 50, seed: 11, ...o });
      model.dispose();
      return h;
    };
    const plain = await curve({});
    const zero = await curve({ validation: 0 });
    expect(zero.epochs.map((e) => e.loss)).toEqual(plain.epochs.map((e) => e.loss));
    expect(plain.epochs.every((e) => e.validationLoss === undefined)).toBe(true);
    expect(plain.validationCells).toBe(0);
  });

  it('early stopping on the validation loss stops and restores the weights of the best epoch', async () => {
    const model = makeModel(2);
    const weights = new Map<number, Map<string, tf.Tensor>>();
    const h = await trainModel(model, data, {
      epochs: 200,
      batchSize: 32,
      learningRate: 3e-2,
      seed: 1,
      validation: 0.2,
      earlyStopping: { patience: 3 },
      onEpoch: (r) => void weights.set(r.epoch, model.getWeights()),
    });
    expect(h.stoppedBy).toBe('early-stopping');
    expect(h.epochs.length).toBeLessThan(200);
    const val = h.epochs.map((e) => e.validationLoss!);
    const bestEpoch = val.indexOf(Math.min(...val)) + 1;
    expect(bestEpoch).toBeLessThan(h.epochs.length);
    expect(h.restoredEpoch).toBe(bestEpoch);
    // the patience ran out after the best epoch
    expect(h.epochs.length).toBeGreaterThanOrEqual(bestEpoch + 3);
    const now = model.getWeights();
    const best = weights.get(bestEpoch)!;
    const last = weights.get(h.epochs.length)!;
    let differsFromLast = false;
    for (const [name, t] of best) {
      expect(Array.from(now.get(name)!.dataSync()), name).toEqual(Array.from(t.dataSync()));
      if (Array.from(last.get(name)!.dataSync()).some((v, i) => v !== t.dataSync()[i])) differsFromLast = true;
    }
    expect(differsFromLast).toBe(true);
    tf.dispose([...now.values(), ...[...weights.values()].flatMap((m) => [...m.values()])]);
    model.dispose();
  });

  it('restoreBest: false keeps the last weights; monitor: train stops on the training loss', async () => {
    const model = makeModel(2);
    let last: Map<string, tf.Tensor> | undefined;
    const h = await trainModel(model, data, {
      epochs: 200,
      batchSize: 32,
      learningRate: 3e-2,
      seed: 1,
      validation: 0.2,
      earlyStopping: { patience: 3, restoreBest: false },
      onEpoch: () => {
        if (last) tf.dispose([...last.values()]);
        last = model.getWeights();
      },
    });
    expect(h.stoppedBy).toBe('early-stopping');
    expect(h.restoredEpoch).toBeNull();
    const now = model.getWeights();
    for (const [name, t] of last!) expect(Array.from(now.get(name)!.dataSync()), name).toEqual(Array.from(t.dataSync()));
    tf.dispose([...now.values(), ...last!.values()]);
    const m2 = makeModel();
    const h2 = await trainModel(m2, data, { epochs: 40, batchSize: 80, learningRate: 1e-12, validation: 0.1, earlyStopping: { patience: 2, monitor: 'train' } });
    expect(h2.stoppedBy).toBe('early-stopping');
    expect(h2.restoredEpoch).toBeNull();
    model.dispose();
    m2.dispose();
  });

  it('rejects a bad validation fraction and validation monitoring without a split, with typed errors', async () => {
    const model = makeModel();
    await expect(trainModel(model, data, { validation: 1 })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(trainModel(model, data, { validation: -0.1 })).rejects.toThrow(/validation/);
    await expect(trainModel(model, data, { epochs: 2, earlyStopping: { patience: 2, monitor: 'validation' } })).rejects.toThrow(/needs a validation split/);
    await expect(trainModel(model, data, { epochs: 2, validation: 0.001 })).rejects.toThrow(/holds out no cell/);
    model.dispose();
  });
});

describe('history file', () => {
  it('round-trips a history, non-finite values included, and rejects foreign files', async () => {
    const model = makeModel();
    const h = await trainModel(model, data, { epochs: 2, batchSize: 120, validation: 0.1 });
    model.dispose();
    expect(historyFromJSON(historyToJSON(h))).toEqual(h);
    const diverged = { ...h, epochs: [{ ...h.epochs[0]!, loss: Number.NaN, validationLoss: Number.POSITIVE_INFINITY }] };
    const back = historyFromJSON(historyToJSON(diverged));
    expect(back.epochs[0]!.loss).toBeNaN();
    expect(back.epochs[0]!.validationLoss).toBeNaN();
    expect(() => historyFromJSON('{"format":"other"}')).toThrow(/not an invae training history/);
    expect(() => historyFromJSON(JSON.stringify({ format: 'invae-history', formatVersion: 99, epochs: [] }))).toThrow(/version 99/);
  });
});
