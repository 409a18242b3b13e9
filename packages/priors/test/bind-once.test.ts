import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  InvalidOptionError,
  Invae,
  bindPrior,
  bindPriorRef,
  derivedColumns,
  initEngine,
  priorCovariates,
  registerPrior,
  simulate,
  unregisterPrior,
  type InvaeDataset,
  type PriorPlugin,
} from '@invae/core';
import { GeneProgramScorer, registerBuiltinPriors } from '../src/index';

// A prior's options are read once per model, and the columns it derives from the data (gene-program
// scores over all counts) once per dataset, however often the workflow asks for them.

const quiet = { warn: () => {} };

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  registerBuiltinPriors();
});
afterEach(() => vi.restoreAllMocks());

const sim = simulate({ nCells: 160, nGenes: 30, nBatches: 2, nCellTypes: 2, nDiseases: 1, latentDimInv: 3, latentDimSpur: 1, seed: 4 });
const data: InvaeDataset = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
const g = sim.geneNames;

describe('gene-program prior: options and scores computed once', () => {
  it('setup, train, latent, trainPredictor and predict rebuild the scorer once and score the counts once', async () => {
    const scorer = GeneProgramScorer.fit(data, { early: [g[0]!, g[1]!, g[2]!], late: [g[10]!, g[11]!, g[12]!] }, { nBins: 6, warn: () => {} });
    const invPrior = { name: 'gene-program', options: { scorer: scorer.toJSON() } };
    const fromJSON = vi.spyOn(GeneProgramScorer, 'fromJSON');
    const scores = vi.spyOn(GeneProgramScorer.prototype, 'scores');
    const w = Invae.setup(data, { spurious: { categorical: ['batch'] }, invPrior, options: { latentDimInv: 3, latentDimSpur: 1, hiddenDim: 8, seed: 3 } }, quiet);
    expect(w.model.config.invCovarDim).toBe(2);
    await w.train(data, { epochs: 1, batchSize: 80, workers: 1 });
    const latent = w.latent(data);
    w.trainPredictor(data, 'cell_type');
    const pred = w.predict(data);
    expect(pred.labels.length).toBe(160);
    expect(fromJSON, 'scorer rebuilt from its saved state').toHaveBeenCalledTimes(1);
    expect(scores, 'gene-program scores over all counts').toHaveBeenCalledTimes(1);
    // another dataset (same genes) is scored once too, however often it is encoded
    const other: InvaeDataset = { ...data, counts: { ...sim.counts } };
    const a = w.latent(other);
    const b = w.latent(other);
    expect(scores).toHaveBeenCalledTimes(2);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).toEqual(Array.from(latent.data));
    expect(fromJSON).toHaveBeenCalledTimes(1);
    w.dispose();
  });

  it('a given latent is used as it is (no second encoding), and must fit the data', async () => {
    const scorer = GeneProgramScorer.fit(data, { early: [g[0]!, g[1]!, g[2]!] }, { nBins: 6, warn: () => {} });
    const w = Invae.setup(data, { spurious: { categorical: ['batch'] }, invPrior: { name: 'gene-program', options: { scorer: scorer.toJSON() } }, options: { latentDimInv: 3, latentDimSpur: 1, hiddenDim: 8, seed: 3 } }, quiet);
    const latent = w.latent(data, { part: 'inv' });
    const spy = vi.spyOn(w, 'latent');
    w.trainPredictor(data, 'cell_type', { kind: 'knn', k: 3 }, { latent });
    const given = w.predict(data, { latent });
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(given.labels).toEqual(w.predict(data).labels);
    expect(() => w.predict(data, { latent: { nRows: 5, nCols: 3, data: new Float32Array(15) } })).toThrow(InvalidOptionError);
    w.dispose();
  });
});

describe('bindPrior', () => {
  const calls = { covariates: 0, derive: 0, paths: 0 };
  // a third-party plugin without bind(): its per-call hooks still run, with the options
  const plain: PriorPlugin = {
    name: 'test-plain-derive',
    family: 'gaussian',
    create: () => {
      throw new Error('not built here');
    },
    covariates: (o) => {
      calls.covariates++;
      return { continuous: [String(o.column)] };
    },
    deriveColumns: (d, o) => {
      calls.derive++;
      return { [String(o.column)]: Float64Array.from({ length: d.counts.shape[0]! }, (_, i) => i) };
    },
    decoderPaths: () => {
      calls.paths++;
      return null;
    },
  };
  beforeAll(() => registerPrior(plain));
  afterAll(() => unregisterPrior(plain.name));

  it('keeps plugins without bind() working, and derives each dataset\'s columns once per options object', () => {
    const ref = { name: plain.name, options: { column: 'score' } };
    expect(priorCovariates(ref, 'inv')).toEqual({ continuous: ['score'] });
    expect(bindPriorRef(ref)).toBe(bindPrior(plain, ref.options));
    const first = derivedColumns(data, [ref]);
    const again = derivedColumns(data, [ref]);
    expect(again.score).toBe(first.score);
    expect(calls.derive).toBe(1);
    // other counts, or other obs: derived again
    derivedColumns({ ...data, obs: { ...data.obs } }, [ref]);
    expect(calls.derive).toBe(2);
    // other options: another binding
    expect(Object.keys(derivedColumns(data, [{ name: plain.name, options: { column: 'other' } }]))).toEqual(['other']);
    expect(calls.derive).toBe(3);
    expect(bindPriorRef(ref).decoderPaths({ geneNames: g })).toBeNull();
    expect(calls.paths).toBe(1);
  });

  it('reads a plugin\'s options once through its bind()', () => {
    let binds = 0;
    const bound: PriorPlugin = {
      ...plain,
      name: 'test-bound-derive',
      bind: (o) => {
        binds++;
        return { covariates: () => ({ categorical: [String(o.column)] }) };
      },
    };
    registerPrior(bound);
    try {
      const ref = { name: bound.name, options: { column: 'kind' } };
      for (let i = 0; i < 3; i++) expect(priorCovariates(ref, 'spur')).toEqual({ categorical: ['kind'] });
      expect(binds).toBe(1);
      // hooks bind() leaves out fall back to the plugin's own
      const before = calls.derive;
      expect(Object.keys(bindPriorRef(ref).deriveColumns(data))).toEqual(['kind']);
      expect(calls.derive).toBe(before + 1);
    } finally {
      unregisterPrior(bound.name);
    }
  });
});
