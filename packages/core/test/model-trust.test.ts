import { readFileSync, symlinkSync, unlinkSync, writeFileSync, cpSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DataValidationError,
  InvalidOptionError,
  TrainingDivergedError,
  Invae,
  InvaeModel,
  ModelFormatError,
  SafetensorsFormatError,
  denseMatrix,
  initEngine,
  openSafetensors,
  parseSafetensors,
  registerPrior,
  resolveModelConfig,
  saveModelDir,
  serializeSafetensors,
  simulate,
  tf,
  unregisterPrior,
  type InvaeDataset,
  type InvaeModelConfig,
} from '../src/index';
import { networkWeightShapes } from '../src/module/networks';
import { QuadraticEnergyPrior, StandardNormalPrior } from './model-helpers';
import { scratchDirs } from '../../../test-support/index';

const sim = simulate({ nCells: 120, nGenes: 12, nBatches: 2, nCellTypes: 3, nDiseases: 1, latentDimInv: 3, latentDimSpur: 1, seed: 5 });
const data: InvaeDataset = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
// the reference preset: these tests exercise the reference's model layout (spurious prior, encoder reading every covariate)
const setup = {
  preset: 'reference' as const,
  invariant: { categorical: ['cell_type'] },
  spurious: { categorical: ['batch'] },
  options: { latentDimInv: 3, latentDimSpur: 1, hiddenDim: 16, seed: 4 },
  invPrior: { name: 'trust-normal' },
  spurPrior: { name: 'trust-normal' },
};
const quiet = { warn: () => {} };
const scratch = scratchDirs('invae-trust');
const tmp = () => scratch.make();

/** Dense counts of `data` (cells × genes). */
function dense(): Float32Array {
  const m = sim.counts as { indptr: Int32Array; indices: Int32Array; data: Float32Array };
  const out = new Float32Array(sim.nCells * sim.nGenes);
  for (let r = 0; r < sim.nCells; r++) for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) out[r * sim.nGenes + m.indices[p]!] = m.data[p]!;
  return out;
}

/** A copy of the data with its columns in the order `cols` (indices into the original genes) and names `names`. */
function columns(cols: number[], names: string[]): InvaeDataset {
  const x = dense();
  const out = new Float32Array(sim.nCells * cols.length);
  for (let r = 0; r < sim.nCells; r++) cols.forEach((c, j) => (out[r * cols.length + j] = x[r * sim.nGenes + c]!));
  return { counts: denseMatrix(sim.nCells, cols.length, out), geneNames: names, obs: sim.obs };
}

let modelDir = '';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  registerPrior({ name: 'trust-normal', family: 'gaussian', create: (ctx) => new StandardNormalPrior(ctx.latentDim) });
  const w = Invae.setup(data, setup, quiet);
  await w.train(data, { epochs: 1, batchSize: 60 });
  w.trainPredictor(data, 'cell_type', { kind: 'linear', epochs: 5 });
  modelDir = path.join(tmp(), 'model');
  await w.save(modelDir);
  w.dispose();
});
afterAll(() => {
  unregisterPrior('trust-normal');
});

/** A copy of the saved model directory with `edit` applied to its model.json. */
function tampered(edit: (m: Record<string, any>) => void): string {
  const dir = path.join(tmp(), 'model');
  cpSync(modelDir, dir, { recursive: true });
  const file = path.join(dir, 'model.json');
  const m = JSON.parse(readFileSync(file, 'utf8'));
  edit(m);
  writeFileSync(file, JSON.stringify(m));
  return dir;
}

async function loadError(dir: string): Promise<Error> {
  const e = await Invae.load(dir, quiet).then(
    (w) => {
      w.dispose();
      return null;
    },
    (err: unknown) => err as Error,
  );
  if (!e) throw new Error('expected Invae.load to fail');
  return e;
}

describe('duplicate gene names', () => {
  it('setup refuses data with duplicated var names, naming them and how to fix it', () => {
    const names = [...sim.geneNames];
    names[3] = names[1]!;
    names[7] = names[5]!;
    const e = (() => {
      try {
        Invae.setup({ ...data, geneNames: names }, setup, quiet);
      } catch (err) {
        return err as DataValidationError;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(DataValidationError);
    expect(e!.message).toContain('2 duplicated gene (var) name(s)');
    expect(e!.message).toContain(JSON.stringify(names[1]));
    expect(e!.message).toContain(JSON.stringify(names[5]));
    expect(e!.hint).toMatch(/var_names_make_unique/);
  });

  it('embedding refuses data in which one of the model\'s genes is named twice', async () => {
    const w = await Invae.load(modelDir, quiet);
    // genes reordered, and gene 2's name also given to a copy of gene 9's column placed first
    const order = [9, ...Array.from({ length: sim.nGenes }, (_, i) => sim.nGenes - 1 - i)];
    const names = order.map((c) => sim.geneNames[c]!);
    names[0] = sim.geneNames[2]!;
    expect(() => w.latent(columns(order, names))).toThrow(/duplicated gene \(var\) name\(s\) among the model's genes: "gene_?2"|duplicated gene \(var\) name/);
    const e = (() => {
      try {
        w.latent(columns(order, names));
      } catch (err) {
        return err as DataValidationError;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(DataValidationError);
    expect(e!.message).toContain(JSON.stringify(sim.geneNames[2]));
    // duplicated names among genes the model does not read do not matter
    const extra = columns([...Array.from({ length: sim.nGenes }, (_, i) => i), 0, 1], [...sim.geneNames, 'other', 'other']);
    expect(w.latent(extra).nRows).toBe(sim.nCells);
    w.dispose();
  });

  it('embedding a gene-reordered copy of unique-named data gives the same latents', async () => {
    const w = await Invae.load(modelDir, quiet);
    const full = w.latent(data, { part: 'full' });
    const perm = [5, 0, 11, 3, 8, 1, 10, 2, 7, 4, 9, 6];
    const again = w.latent(columns(perm, perm.map((c) => sim.geneNames[c]!)), { part: 'full' });
    let worst = 0;
    for (let i = 0; i < full.data.length; i++) worst = Math.max(worst, Math.abs(full.data[i]! - again.data[i]!));
    expect(worst).toBeLessThan(1e-5);
    w.dispose();
  });

  it('loading refuses a model whose gene list names a gene twice', async () => {
    const e = await loadError(
      tampered((m) => {
        m.geneNames[4] = m.geneNames[0];
      }),
    );
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.message).toContain(`model.json: geneNames has 1 duplicated name(s): ${JSON.stringify(sim.geneNames[0])}`);
    expect((e as ModelFormatError).hint).toMatch(/var_names_make_unique/);
  });
});

/** Rewrites one tensor of a model directory's weights with `edit`. */
function editWeights(dir: string, name: string, edit: (v: Float32Array) => void): void {
  const file = path.join(dir, 'weights.safetensors');
  const contents = parseSafetensors(new Uint8Array(readFileSync(file)));
  const t = contents.tensors.get(name)!;
  const values = Float32Array.from(t.data as Float32Array);
  edit(values);
  const next = new Map([...contents.tensors].map(([k, v]) => [k, { dtype: 'F32' as const, shape: v.shape, data: k === name ? values : (v.data as Float32Array) }]));
  writeFileSync(file, serializeSafetensors(next, contents.metadata));
}

describe('non-finite weights', () => {
  it('loading refuses NaN or Infinity in weights.safetensors, naming the tensor', async () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const dir = tampered(() => {});
      editWeights(dir, 'g.weight', (v) => (v[3] = bad));
      const e = await loadError(dir);
      expect(e).toBeInstanceOf(ModelFormatError);
      expect(e.message).toContain(`tensor 'g.weight' holds a non-finite value (${bad} at element 3)`);
    }
  });

  it('loading refuses a predictor whose weights are null in model.json', async () => {
    const e = await loadError(
      tampered((m) => {
        m.extra.predictor.state.weight[2] = null;
      }),
    );
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.message).toContain('model.json: extra.predictor.state.weight[2] must be a finite number, got null');
  });

  it('saving refuses non-finite weights', async () => {
    const w = new Map([['a', tf.tensor1d([1, Number.NaN])]]);
    await expect(saveModelDir(path.join(tmp(), 'm'), { model: {}, geneNames: [], weights: w })).rejects.toThrow(/weight 'a' holds a non-finite value/);
    tf.dispose([...w.values()]);
  });
});

describe('sizes in model.json are checked against the weights before anything is allocated', () => {
  it('refuses a tampered hiddenDim without building the networks', async () => {
    const before = tf.memory().numBytes;
    const e = await loadError(
      tampered((m) => {
        m.model.config.hiddenDim = 20000;
      }),
    );
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.message).toMatch(/model\.json: model\.config implies the weight 'shared_encoder\.fc\.0\.weight' of shape \[20000, 17\], but weights\.safetensors holds \[16, 17\]/);
    expect(tf.memory().numBytes).toBe(before);
  });

  it('refuses implausible or mismatching latent sizes', async () => {
    const huge = await loadError(
      tampered((m) => {
        m.model.config.latentDimInv = 3e6;
      }),
    );
    expect(huge.message).toContain('model.json: model.config.latentDimInv is 3000000, larger than the plausible limit 100000');
    const other = await loadError(
      tampered((m) => {
        m.model.config.latentDimInv = 50;
      }),
    );
    expect(other.message).toMatch(/model\.config implies the weight 'g\.weight' of shape \[51, 16\], but weights\.safetensors holds \[4, 16\]/);
    const genes = await loadError(
      tampered((m) => {
        m.model.config.dataDim = 13;
      }),
    );
    expect(genes.message).toContain('model.json: model.config.dataDim is 13 but geneNames lists 12 genes');
  });

  it('the shapes a configuration implies are those of the built networks', () => {
    const base: InvaeModelConfig = { model: 'FinVAE', dataDim: 7, invCovarDim: 2, spurCovarDim: 3, latentDimInv: 3, latentDimSpur: 2, hiddenDim: 5 };
    const configs: InvaeModelConfig[] = [
      base,
      { ...base, nLayers: 3, batchNorm: false },
      { ...base, decoderDist: 'normal' },
      { ...base, injectCovarInLatent: true },
      { ...base, model: 'NFinVAE', nLayers: 1 },
      { ...base, model: 'NFinVAE', decoderDist: 'normal' },
      { ...base, decoderPaths: { genes: [[0, 1], [2]] } },
    ];
    for (const config of configs) {
      const c = resolveModelConfig(config);
      const inv = c.model === 'FinVAE' ? new StandardNormalPrior(c.latentDimInv) : new QuadraticEnergyPrior(c.latentDimInv, c.invCovarDim);
      const model = new InvaeModel(config, { inv, spur: c.injectCovarInLatent ? null : new StandardNormalPrior(c.latentDimSpur) });
      const built = new Map<string, number[]>();
      for (const v of model.namedVariables()) if (!v.name.startsWith('toy_energy')) built.set(v.name, [...v.variable.shape]);
      expect(Object.fromEntries(networkWeightShapes(c))).toEqual(Object.fromEntries(built));
      model.dispose();
    }
  });

  it('reads a weights file bounded by its size: devices, oversized header lengths and out-of-file offsets are refused', async () => {
    // /dev/zero as the weights: refused at once, nothing read
    const dir = tampered(() => {});
    unlinkSync(path.join(dir, 'weights.safetensors'));
    symlinkSync('/dev/zero', path.join(dir, 'weights.safetensors'));
    const zero = await loadError(dir);
    expect(zero).toBeInstanceOf(ModelFormatError);
    expect(zero.message).toMatch(/weights\.safetensors is malformed: .*is not a regular file/);

    const root = tmp();
    const file = (name: string, bytes: Uint8Array) => {
      const f = path.join(root, name);
      writeFileSync(f, bytes);
      return f;
    };
    const withHeader = (json: string, dataBytes: number, declared?: bigint) => {
      const h = new TextEncoder().encode(json);
      const out = new Uint8Array(8 + h.length + dataBytes);
      new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(h.length), true);
      out.set(h, 8);
      return out;
    };
    const open = (f: string) => openSafetensors(f).then(
      async (s) => {
        await s.close();
        return null;
      },
      (e: unknown) => e as Error,
    );
    const longHeader = await open(file('long.safetensors', withHeader('{}', 0, 1000n)));
    expect(longHeader).toBeInstanceOf(SafetensorsFormatError);
    expect(longHeader!.message).toContain('header length 1000 runs past the end of the 10-byte file');
    const hugeHeader = await open(file('huge.safetensors', withHeader('{}', 0, 2n ** 40n)));
    expect(hugeHeader!.message).toContain('exceeds the 100 MB limit');
    const outside = await open(file('outside.safetensors', withHeader('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', 8)));
    expect(outside!.message).toContain("tensor 'a' data_offsets [0, 16] lie outside the 8-byte data section");
    const unsafeShape = await open(file('unsafe.safetensors', withHeader('{"a":{"dtype":"F32","shape":[1e300],"data_offsets":[0,4]}}', 4)));
    expect(unsafeShape!.message).toContain("tensor 'a' has an invalid shape");
  });
});

describe('tampered model.json fields give a typed error naming the field', () => {
  const cases: [string, (m: Record<string, any>) => void, string][] = [
    ['a shape that is not an array', (m) => (m.weights['g.weight'] = 'abc'), 'model.json: weights["g.weight"] must be an array, got "abc"'],
    ['a non-integer hiddenDim', (m) => (m.model.config.hiddenDim = 'abc'), 'model.json: model.config.hiddenDim must be a positive integer, got "abc"'],
    ['a fractional latentDimSpur', (m) => (m.model.config.latentDimSpur = 1.5), 'model.json: model.config.latentDimSpur must be a non-negative integer, got 1.5'],
    ['an unknown decoder', (m) => (m.model.config.decoderDist = 'poisson'), 'model.json: model.config.decoderDist must be one of "nb", "normal", got "poisson"'],
    ['a boolean as a string', (m) => (m.model.config.batchNorm = 'yes'), 'model.json: model.config.batchNorm must be true or false, got "yes"'],
    ['a missing model section', (m) => (m.model = 7), 'model.json: model must be an object, got 7'],
    ['gene names that are not strings', (m) => (m.geneNames[1] = 5), 'model.json: geneNames[1] must be a string, got 5'],
    ['a prior without a name', (m) => (m.model.invPrior = { options: {} }), 'model.json: model.invPrior.name must be a string, got nothing (the field is missing)'],
    ['prior options that are not an object', (m) => (m.model.spurPrior.options = [1]), 'model.json: model.spurPrior.options must be an object, got [1]'],
    ['a covariate encoder that is not one', (m) => (m.extra.covariates.inv = { format: 'x', encoders: [] }), 'model.json: extra.covariates.inv is not a valid covariate encoder'],
    ['a covariate encoder of another width', (m) => (m.extra.covariates.spur = m.extra.covariates.inv), 'model.json: extra.covariates.spur encodes 3 columns, but the model was built for 2'],
    ['a predictor of an unknown kind', (m) => (m.extra.predictor.state.kind = 'forest'), 'model.json: extra.predictor.state.kind must be one of "linear", "knn", "environment", got "forest"'],
    ['a predictor for other latents', (m) => (m.extra.predictor.state.dims = 4), 'model.json: extra.predictor.state.dims is 4, but the model has 3 invariant latent dimensions'],
    ['an engine that is not an object', (m) => (m.engine = 'wasm'), 'model.json: engine must be an object, got "wasm"'],
    ['a format version as a string', (m) => (m.formatVersion = '1'), 'model format version "1" is not supported'],
  ];
  for (const [what, edit, message] of cases) {
    it(what, async () => {
      const dir = tampered(edit);
      const e = await loadError(dir);
      expect(e).toBeInstanceOf(ModelFormatError);
      expect(e.message).toContain(path.resolve(dir));
      expect(e.message).toContain(message);
    });
  }
});

describe('zero-size latent blocks', () => {
  it('latentDimSpur 0 with spurious covariates and no injection is refused at setup, with the fix', () => {
    const e = (() => {
      try {
        Invae.setup(data, { ...setup, options: { ...setup.options, latentDimSpur: 0 } }, quiet);
      } catch (err) {
        return err as InvalidOptionError;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect(e!.option).toBe('latentDimSpur');
    expect(e!.message).toContain('latentDimSpur 0 leaves the 2 encoded spurious covariate column(s) without a latent block');
    expect(e!.hint).toMatch(/--latent-spur 1/);
    expect(e!.hint).toMatch(/--inject-covar/);
    expect(() => resolveModelConfig({ model: 'NFinVAE', dataDim: 4, invCovarDim: 2, spurCovarDim: 1, latentDimInv: 2, latentDimSpur: 0 })).toThrow(InvalidOptionError);
    expect(() => resolveModelConfig({ model: 'FinVAE', dataDim: 4, invCovarDim: 2, spurCovarDim: 1, latentDimInv: 0, latentDimSpur: 1 })).toThrow(/latentDimInv must be an integer ≥ 1/);
  });

  it('the zero-size combinations that are allowed train to finite latents', async () => {
    for (const s of [
      { ...setup, spurious: undefined, options: { ...setup.options, latentDimSpur: 0 } }, // no spurious covariates, no spurious latents
      { ...setup, spurPrior: null, options: { ...setup.options, latentDimSpur: 0, injectCovarInLatent: true } }, // covariates injected
      { ...setup, invariant: undefined }, // no invariant covariates
    ]) {
      const w = Invae.setup(data, s, quiet);
      await w.train(data, { epochs: 1, batchSize: 60 });
      expect(w.latent(data, { part: 'full' }).data.every(Number.isFinite)).toBe(true);
      w.dispose();
    }
  });
});

describe('divergence keeps the last good model with its training record', () => {
  it('weights that became non-finite (with finite losses) are restored to the last finite ones, which save and load with the record', async () => {
    const big = simulate({ nCells: 240, nGenes: 40, nBatches: 2, nCellTypes: 3, nDiseases: 1, latentDimInv: 3, latentDimSpur: 1, seed: 5 });
    const d: InvaeDataset = { counts: big.counts, geneNames: big.geneNames, obs: big.obs };
    const w = Invae.setup(d, setup, quiet);
    // the last step of epoch 2 leaves a non-finite weight while every loss was finite (a learning
    // rate that diverges does the same, but in which epoch and whether the loss or the weights go
    // first depends on float32 rounding): the weights of epoch 1 are restored
    const err = await w
      .train(d, {
        epochs: 8,
        batchSize: 64,
        seed: 1,
        onStep: (r) => {
          if (r.epoch === 2 && r.step === r.stepsPerEpoch) {
            const v = w.model.trainableVariables[0]!;
            v.assign(tf.fill(v.shape, Number.NaN));
          }
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    const e = err as TrainingDivergedError;
    expect(e.epoch).toBe(2);
    expect(e.restoredEpoch).toBe(1);
    expect(e.message).toContain('the weights became non-finite at epoch 2');
    expect(w.history?.stoppedBy).toBe('diverged');
    expect(w.history?.epochs).toHaveLength(1);
    expect(w.history?.diverged).toMatchObject({ epoch: 2, step: 4 });
    const weights = w.model.getWeights();
    for (const [name, t] of weights) expect(Array.from(t.dataSync()).every(Number.isFinite), name).toBe(true);
    tf.dispose([...weights.values()]);
    const dir = path.join(tmp(), 'model');
    await w.save(dir);
    const saved = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(saved.extra.training).toMatchObject({ epochs: 1, stoppedBy: 'diverged', diverged: { epoch: 2, step: 4 } });
    const back = await Invae.load(dir, quiet);
    const before = w.latent(d, { part: 'full' });
    const after = back.latent(d, { part: 'full' });
    expect(after.data.every(Number.isFinite)).toBe(true);
    expect(Array.from(after.data)).toEqual(Array.from(before.data));
    expect(e.savedTo(dir).message).toContain(`The last good model (epoch 1) was saved to ${dir}`);
    w.dispose();
    back.dispose();
  });
});
