import path from 'node:path';
import { tf } from '../tf';
import { InvalidOptionError } from '../errors';
import { CovariateEncoder, type CovariateSpec } from '../covariates/composite';
import { defaultWarn, type WarnFn } from '../covariates/column';
import type { RowMatrix } from '../data/gather';
import type { RowSource } from '../data/row-source';
import { resolveModelConfig, type InvaeModelConfig, type InvaeModelKind } from '../module/config';
import type { InvaeModel, LatentPart } from '../module/invae';
import { buildModel, type ModelSpec, type PriorRef, type ResolvedModelSpec } from '../module/build';
import { PriorNotFoundError, PriorOptionError, bindPriorRef, derivedColumns, priorDecoderPaths } from '../prior/registry';
import type { CovariateColumn } from '../covariates/column';
import { trainModel, type TrainHistory } from '../train/trainer';
import { TrainingDivergedError } from '../train/errors';
import type { TrainOptions } from '../train/options';
import { specReplicaRecipe } from '../parallel/recipe';
import { readModelDir, readModelDirFile, saveModelDir } from '../persist/model-dir';
import { historyFromJSON, historyToJSON } from '../train/history-file';
import { ModelFormatError } from '../persist/errors';
import { EnvironmentClassifier, type EnvironmentClassifierOptions } from '../predict/environment';
import { KnnClassifier } from '../predict/knn';
import { LinearClassifier } from '../predict/linear';
import { predictorFromState } from '../predict/state';
import type { FitOptions } from '../predict/softmax-model';
import type { InvariantPredictor, LatentMatrix, Prediction } from '../predict/types';
import { alignedRows, checkUniqueGeneNames, isRowDataset, nCellsOf, nGenesOf, validateCounts, type AnyDataset } from './dataset';
import { resolveDataset, type DatasetInput } from './anndata-dataset';
import { blockCovariates } from './covariate-spec';
import { getPreset, type InvaePreset, type PresetName } from './presets';
import { checkWorkflowManifest, type WorkflowManifest } from './model-manifest';
import { expressionStream, resolveDecodePlan, type DecodeSource, type ExpressionMatrix, type ExpressionOptions, type ExpressionStream } from './expression';
import { differentialExpression, type DeOptions, type DeResult } from './differential';
import { categorySets, queryCategoryEncoder } from './query-categories';
import { withConfidence } from '../predict/confidence';

/** Model options of {@link Invae.setup} (sizes come from the data; defaults as the reference FinVAE/NFinVAE classes). */
export type InvaeModelOptions = Partial<Omit<InvaeModelConfig, 'model' | 'dataDim' | 'invCovarDim' | 'spurCovarDim' | 'spurQueryDim'>>;

/** How a workflow is set up on a dataset: which model, which covariates feed which prior. */
export interface InvaeSetup {
  /**
   * Named defaults for everything below and for training (default `integration`, the configuration
   * that integrates best in the integration study; `reference` keeps the reference implementation's
   * defaults exactly). Explicit options always win. See {@link PRESETS}.
   */
  preset?: PresetName;
  /** `FinVAE` (default) or `NFinVAE`. */
  model?: InvaeModelKind;
  /** Covariates of the invariant prior (biology: cell type, disease, …), besides those its prior plugin declares. */
  invariant?: CovariateSpec;
  /** Covariates of the spurious prior (technical: batch, site, …), besides those its prior plugin declares. */
  spurious?: CovariateSpec;
  /** Network options; defaults from the preset, then the model's (2 layers of 128, BN, NB decoder). */
  options?: InvaeModelOptions;
  /** Invariant prior plugin (default: the preset's, else by model kind). */
  invPrior?: PriorRef;
  /** Spurious prior plugin (default: the preset's, else `gaussian` or none when covariates are injected). */
  spurPrior?: PriorRef | null;
  /**
   * Where the counts come from (e.g. the `counts` layer), recorded with the model: when `data` is an
   * AnnData, this layer is read (X when null or absent), and the model's other methods read it by default.
   */
  layer?: string | null;
}

/** Which matrix of an AnnData a model method reads (default: the layer the model was set up with, else X). */
export interface LayerOption {
  /** Layer to read counts from (null: X). Ignored for an {@link InvaeDataset} or {@link RowDataset}. */
  layer?: string | null;
}

/** Options of {@link Invae.trainPredictor}. */
export type PredictorOptions =
  | ({ kind: 'linear' } & FitOptions)
  | { kind: 'knn'; k?: number }
  | ({ kind: 'environment'; batchKey: string } & EnvironmentClassifierOptions);

/**
 * Options of {@link Invae.map}: the training options of the query's new weights (defaults: the
 * model's preset, as {@link Invae.train}; mapping trains in one thread) and the layer to read.
 */
export type MapOptions = Omit<TrainOptions, 'workers' | 'replica'> & LayerOption & { warn?: WarnFn };

/** Options of {@link Invae.predict}. */
export interface PredictOptions extends LayerOption {
  /** `data`'s invariant latent when already computed (`latent(data, { part: 'inv' })`), so that it is not computed again. */
  latent?: LatentMatrix;
  /**
   * Cells whose most probable class has a probability below this are labelled `unknown` (default:
   * none; e.g. 0.5). Every prediction carries its confidence either way (see {@link withConfidence}).
   */
  unknownThreshold?: number | null;
}

const WORKFLOW_VERSION = 1;
/** The per-epoch training history in a model directory (absent from folders saved before it existed). */
const HISTORY_FILE = 'history.json';

/** `o` without its undefined entries (so they do not hide defaults when spread). */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The obs columns the priors `refs` derive from the data (e.g. gene-program scores); each prior's
 * options are read once per model and its columns computed once per dataset (see `bindPrior`).
 */
function derivedOf(data: AnyDataset, refs: readonly (PriorRef | null | undefined)[]): Record<string, CovariateColumn> {
  if (isRowDataset(data)) {
    // a row-streamed dataset does not hold the counts a derivation reads
    const deriving = refs.find((r) => r && bindPriorRef(r).derives);
    if (deriving) {
      throw new InvalidOptionError('data', `The prior '${deriving.name}' derives its covariates from all counts, which a row-streamed (backed) dataset does not hold in memory.`, {
        hint: 'load the data into memory (invae train without --backed) for this prior',
      });
    }
    return {};
  }
  return derivedColumns(data, refs);
}

/** `data`'s obs with the derived columns `extra` added (they replace columns of the same name). */
function withColumns(data: AnyDataset, extra: Record<string, CovariateColumn>): AnyDataset['obs'] {
  return Object.keys(extra).length ? { ...data.obs, ...extra } : data.obs;
}

/**
 * The user-level inVAE workflow (scvi-tools' "model" layer): sets a model up on a dataset (fits
 * the covariate encoders, builds the networks and priors), trains it, returns latent spaces for any
 * dataset with the same genes, trains invariant predictors, and saves/loads everything as one model
 * directory.
 */
export class Invae {
  private predictorState: { predictor: InvariantPredictor; labelKey: string } | null = null;
  /** Encoder of the spurious categories a query mapping added ({@link map}); null for a reference model. */
  private spurQuery: CovariateEncoder | null = null;
  /** Derived obs columns of the dataset the model was set up on (by its counts), computed by setup. */
  private readonly setupDerived = new WeakMap<object, { geneNames: readonly string[]; obs: object; columns: Record<string, CovariateColumn> }>();

  private constructor(
    /** The networks and priors. */
    readonly model: InvaeModel,
    /** Resolved model and prior specification (saved with the model). */
    readonly spec: ResolvedModelSpec,
    private readonly invEncoder: CovariateEncoder,
    private readonly spurEncoder: CovariateEncoder,
    /** Genes the model reads, in order. */
    readonly geneNames: readonly string[],
    /** Layer the training counts came from. */
    readonly layer: string | null,
    private readonly warn: WarnFn,
    /**
     * Training history, when trained in this process or loaded with the model (its `history.json`;
     * null for a model folder saved without one). During training it holds the epochs so far.
     */
    public history: TrainHistory | null = null,
    /** The preset the model was set up with (its training defaults apply to {@link train}). */
    readonly preset: InvaePreset = getPreset(),
  ) {}

  /**
   * Fits the covariate encoders on `data` and builds the model. `data` is an {@link InvaeDataset}, a
   * {@link RowDataset}, or an AnnData: in memory (`readH5ad` of `@invae/io-anndata`; X or
   * `setup.layer` is read, CSC converted to CSR) or backed (`openH5ad`; rows streamed from the file).
   */
  static setup(input: DatasetInput, setup: InvaeSetup, options: { warn?: WarnFn } = {}): Invae {
    const data = resolveDataset(input, { layer: setup.layer });
    const warn = options.warn ?? defaultWarn;
    const kind = setup.model ?? 'FinVAE';
    if (kind !== 'FinVAE' && kind !== 'NFinVAE') throw new InvalidOptionError('model', `Unknown model '${String(kind)}'.`, { hint: 'use FinVAE or NFinVAE' });
    checkUniqueGeneNames(data.geneNames);
    const derived = derivedOf(data, [setup.invPrior, setup.spurPrior]);
    const obs = withColumns(data, derived);
    const inv = CovariateEncoder.fit(blockCovariates('inv', setup.invariant, setup.invPrior), obs, { warn });
    const spur = CovariateEncoder.fit(blockCovariates('spur', setup.spurious, setup.spurPrior), obs, { warn });
    const preset = getPreset(setup.preset);
    const config: InvaeModelConfig = {
      ...preset.options,
      ...setup.options,
      model: kind,
      dataDim: nGenesOf(data),
      invCovarDim: inv.width,
      spurCovarDim: spur.width,
    };
    const invPrior = setup.invPrior ?? preset.invPrior(kind);
    const spurPrior =
      setup.spurPrior !== undefined ? setup.spurPrior : preset.spurPrior({ injectCovarInLatent: config.injectCovarInLatent ?? false, latentDimSpur: config.latentDimSpur });
    // masked decoder paths the invariant prior asks for (e.g. one dimension per gene program)
    const requested = setup.invPrior ? priorDecoderPaths(setup.invPrior, data) : null;
    if (requested) {
      if (setup.options?.decoderPaths) {
        throw new InvalidOptionError('decoderPaths', `the invariant prior '${setup.invPrior!.name}' sets up its own decoder paths; options.decoderPaths would conflict with them.`, {
          hint: 'leave options.decoderPaths out, or turn the prior option that dedicates dimensions off',
        });
      }
      config.decoderPaths = requested;
      try {
        resolveModelConfig(config);
      } catch (e) {
        // name the prior that asked for the paths (e.g. too few invariant dimensions for its programs)
        if (e instanceof InvalidOptionError && e.option === 'decoderPaths') throw new PriorOptionError(setup.invPrior!.name, 'decoderPaths', e.message, e.hint ? { hint: e.hint } : {});
        throw e;
      }
    }
    validateCounts(data, config.decoderDist ?? 'nb');
    const spec: ModelSpec = { config, invPrior, spurPrior };
    const built = buildModel(spec);
    const w = new Invae(built.model, built.spec, inv, spur, [...data.geneNames], setup.layer ?? null, warn, null, preset);
    // the saved (resolved) options derive the same columns as the given ones (a plugin's derivation
    // depends only on the data and its options): training and encoding this dataset reuse them
    if (!isRowDataset(data) && Object.keys(derived).length) w.setupDerived.set(data.counts, { geneNames: data.geneNames, obs: data.obs, columns: derived });
    return w;
  }

  /**
   * Encoded invariant and spurious covariates of a dataset or AnnData (missing keys / unseen categories
   * → zeros + warning).
   */
  covariates(input: DatasetInput, options: LayerOption = {}): { inv: RowMatrix | null; spur: RowMatrix | null } {
    const data = this.dataset(input, options);
    const n = nCellsOf(data);
    const seeded = isRowDataset(data) ? undefined : this.setupDerived.get(data.counts);
    const derived =
      seeded && !isRowDataset(data) && seeded.geneNames === data.geneNames && seeded.obs === data.obs
        ? seeded.columns
        : derivedOf(data, [this.spec.invPrior, this.spec.spurPrior]);
    const obs = withColumns(data, derived);
    const enc = (e: CovariateEncoder) => (e.width === 0 ? null : e.transform(obs, { warn: this.warn, nRows: n }));
    return { inv: enc(this.invEncoder), spur: this.spurQuery ? this.mappedSpurious(obs, n, this.spurQuery) : enc(this.spurEncoder) };
  }

  /**
   * The spurious covariates of a mapped model: the reference's columns (the query's categories are
   * all-zero there, without a warning) followed by the query's ({@link map}).
   */
  private mappedSpurious(obs: AnyDataset['obs'], n: number, query: CovariateEncoder): RowMatrix {
    const ref = this.spurEncoder.transform(obs, { warn: this.warn, nRows: n, mapped: categorySets(query) });
    // every cell the query columns leave at zero is a reference category or was just warned about
    const q = query.transform(obs, { warn: () => {}, nRows: n });
    const [a, b] = [ref.nCols, q.nCols];
    const data = new Float32Array(n * (a + b));
    for (let i = 0; i < n; i++) {
      data.set(ref.data.subarray(i * a, (i + 1) * a), i * (a + b));
      data.set(q.data.subarray(i * b, (i + 1) * b), i * (a + b) + a);
    }
    return { nRows: n, nCols: a + b, data };
  }

  /** The dataset an input stands for (an AnnData read at the given layer, else the model's). */
  private dataset(input: DatasetInput, options: LayerOption): AnyDataset {
    return resolveDataset(input, { layer: options.layer === undefined ? this.layer : options.layer });
  }

  private rows(data: AnyDataset): RowSource {
    return alignedRows(data, this.geneNames, this.warn);
  }

  /**
   * Trains the model on `data` (see {@link trainModel} for the options); options not given come from
   * the model's preset (e.g. the epoch count from the number of cells). On divergence the model keeps
   * the last good epoch's weights and {@link history} says where training diverged (so that
   * {@link save} can keep that model with its record), then the {@link TrainingDivergedError} is thrown.
   * An AnnData is read at `options.layer` (default: the layer the model was set up with, else X).
   */
  async train(input: DatasetInput, options: TrainOptions & LayerOption = {}): Promise<TrainHistory> {
    const { layer, ...trainOptions } = options;
    const data = this.dataset(input, { layer });
    validateCounts(data, this.model.config.decoderDist);
    const cov = this.covariates(data);
    const defaults = this.preset.train;
    // the epochs so far, so that a checkpoint saved during training holds them
    const live: TrainHistory = { epochs: [], stoppedBy: 'epochs', seconds: 0, workers: 1 };
    this.history = live;
    const given = definedOnly(trainOptions);
    const onEpoch = trainOptions.onEpoch;
    // worker threads (data-parallel training) rebuild the model from its spec
    try {
      this.history = await trainModel(this.model, { x: this.rows(data), ...cov }, {
        replica: specReplicaRecipe(this.spec),
        ...defaults,
        ...given,
        onEpoch: async (r) => {
          live.epochs.push(r);
          await onEpoch?.(r);
        },
      });
    } catch (e) {
      // the model holds the last good epoch's weights: keep the record of how training ended, for save()
      if (e instanceof TrainingDivergedError && e.history) this.history = e.history;
      throw e;
    }
    return this.history;
  }

  /**
   * Maps a query dataset onto a trained reference model without retraining it (scArches-style
   * architecture surgery): the spurious categories of the query the reference was not trained on
   * (e.g. new batches) get input columns of their own in every network that reads the spurious
   * covariates (the encoder's first layer, the spurious prior where its plugin supports it, the
   * decoder's first layer when covariates are injected), initialised to zero; only those new
   * weights are trained, on the query alone, with the training loss, while every reference weight
   * and BatchNorm statistic stays frozen (the networks run in eval mode). The reference model is not
   * modified; the result is a new model (with the reference's predictor) that embeds, predicts,
   * saves and loads like any other, and gives reference cells exactly the latents the reference gave.
   * Training options default to the model's preset (as {@link train}); mapping trains in one thread.
   * The query's invariant covariates are read as any dataset's (missing labels → zeros).
   * @throws InvalidOptionError when the query has no new spurious category, lacks the spurious
   * column, the model is itself a mapping, or no network of it reads the spurious covariates through
   * weights (nothing to extend); the errors of {@link train}.
   */
  static async map(reference: Invae, query: DatasetInput, options: MapOptions = {}): Promise<Invae> {
    const { layer, warn, ...trainOptions } = options;
    if (reference.spurQuery) {
      throw new InvalidOptionError('model', 'This model is already a query mapping; a mapping extends a reference model once.', {
        hint: 'map every query batch onto the original reference model in one call (concatenate the query files)',
      });
    }
    const data = reference.dataset(query, { layer });
    validateCounts(data, reference.model.config.decoderDist);
    const queryEncoder = queryCategoryEncoder(reference.spurEncoder, data.obs);
    if (!queryEncoder) {
      const keys = reference.spurEncoder.keys.filter((k) => reference.spurEncoder.categoriesOf(k));
      throw new InvalidOptionError('query', keys.length
        ? `The query has no category of the spurious covariate(s) ${keys.map((k) => `'${k}'`).join(', ')} that the model was not trained on: there is nothing to map.`
        : 'The model has no categorical spurious covariate (e.g. batch) whose new categories a mapping could add.', {
        hint: keys.length ? 'embed and predict the query with the model as it is (invae embed / invae predict)' : 'set the model up with spurious covariates (invae train --batch KEY)',
      });
    }
    const config: InvaeModelConfig = { ...reference.spec.config, spurQueryDim: queryEncoder.width };
    const built = buildModel({ config, invPrior: reference.spec.invPrior, spurPrior: reference.spec.spurPrior });
    if (!built.model.namedVariables().some((v) => v.query)) {
      built.model.dispose();
      throw new InvalidOptionError('model', 'No network of this model reads the spurious covariates through weights a mapping could extend (the encoder reads none, they are not injected into the decoder, and the spurious prior has no query-mapping hook).', {
        hint: "set the model up with the encoder reading the batch (encoderCovariates 'all' or 'spurious') or with the batch injected into the decoder",
      });
    }
    const weights = reference.model.getWeights();
    try {
      built.model.setWeights(weights, { strict: false });
      const missing = built.model.namedVariables().filter((v) => !v.query && !weights.has(v.name));
      if (missing.length) throw new Error(`internal: the mapped model has reference weights the reference lacks (${missing.map((v) => v.name).join(', ')})`);
    } catch (e) {
      built.model.dispose();
      throw e;
    } finally {
      tf.dispose([...weights.values()]);
    }
    const mapped = new Invae(built.model, built.spec, reference.invEncoder, reference.spurEncoder, reference.geneNames, reference.layer, warn ?? reference.warn, null, reference.preset);
    mapped.spurQuery = queryEncoder;
    try {
      if (reference.predictorState) {
        mapped.predictorState = { labelKey: reference.predictorState.labelKey, predictor: predictorFromState(reference.predictorState.predictor.toJSON()) };
      }
      const live: TrainHistory = { epochs: [], stoppedBy: 'epochs', seconds: 0, workers: 1 };
      mapped.history = live;
      const onEpoch = trainOptions.onEpoch;
      mapped.model.freezeReference(true);
      try {
        mapped.history = await trainModel(mapped.model, { x: mapped.rows(data), ...mapped.covariates(data) }, {
          ...reference.preset.train,
          ...definedOnly(trainOptions),
          workers: 1,
          onEpoch: async (r) => {
            live.epochs.push(r);
            await onEpoch?.(r);
          },
        });
      } finally {
        mapped.model.freezeReference(false);
      }
    } catch (e) {
      mapped.dispose();
      throw e;
    }
    return mapped;
  }

  /** The spurious categories a query mapping added, per covariate ({@link map}); empty for a reference model. */
  get mappedCategories(): Record<string, readonly string[]> {
    const q = this.spurQuery;
    return q ? Object.fromEntries(q.keys.map((k) => [k, q.categoriesOf(k) ?? []])) : {};
  }

  /**
   * Latent means (invariant, spurious or full) of every cell, computed in batches in eval mode. An
   * AnnData is read at `options.layer` (default: the model's layer, else X); {@link writeResults} puts
   * the result into its obsm.
   */
  latent(input: DatasetInput, options: { part?: LatentPart; batchSize?: number } & LayerOption = {}): LatentMatrix {
    const data = this.dataset(input, options);
    const part = options.part ?? 'inv';
    const batchSize = options.batchSize ?? 1024;
    const rows = this.rows(data);
    const cov = this.covariates(data);
    const width = part === 'inv' ? this.model.config.latentDimInv : part === 'spur' ? this.model.config.latentDimSpur : this.model.latentDim;
    const out = new Float32Array(rows.nRows * width);
    for (let s = 0; s < rows.nRows; s += batchSize) {
      const idx = Int32Array.from({ length: Math.min(batchSize, rows.nRows - s) }, (_, i) => s + i);
      const values = tf.tidy(() => {
        const x = tf.tensor2d(rows.readRows(idx), [idx.length, rows.nCols]);
        const slice = (m: RowMatrix | null) => (m ? tf.tensor2d(m.data.subarray(s * m.nCols, (s + idx.length) * m.nCols), [idx.length, m.nCols]) : null);
        return this.model.encode(x, slice(cov.inv), slice(cov.spur), part).dataSync() as Float32Array;
      });
      out.set(values, s * width);
    }
    return { nRows: rows.nRows, nCols: width, data: out };
  }

  /**
   * Trains an invariant predictor of obs column `labelKey` on the invariant latent means of `data`
   * (linear softmax regression, kNN, or the per-environment classifier over `batchKey`). An AnnData is
   * read at the model's layer (else X). `given.latent`: that latent when already computed, so that it is
   * not computed again.
   */
  trainPredictor(input: DatasetInput, labelKey: string, options: PredictorOptions = { kind: 'linear' }, given: { latent?: LatentMatrix } = {}): InvariantPredictor {
    const data = this.dataset(input, {});
    const labels = this.column(data, labelKey);
    const latent = this.invariantLatent(data, given.latent);
    let predictor: InvariantPredictor;
    if (options.kind === 'knn') predictor = KnnClassifier.fit(latent, labels, { k: options.k });
    else if (options.kind === 'environment') predictor = EnvironmentClassifier.fit(latent, labels, this.column(data, options.batchKey), options);
    else if (options.kind === 'linear') predictor = LinearClassifier.fit(latent, labels, options);
    else throw new InvalidOptionError('kind', `Unknown predictor kind '${String((options as { kind: unknown }).kind)}'.`, { hint: 'use linear, knn or environment' });
    this.predictorState?.predictor.dispose();
    this.predictorState = { predictor, labelKey };
    return predictor;
  }

  /**
   * The decoder's normalised expression of every cell (rates per cell, summing to `librarySize`, default
   * 1e4, over the model's genes): denoised from each cell's own posterior, or batch-corrected with
   * `transformBatch` (decoded as if from one batch, or averaged over all with `'all'`); `nSamples`
   * posterior samples are averaged. An AnnData is read at `options.layer` (default: the model's
   * layer, else X). Holds the whole matrix in memory; {@link expressionStream} gives it block by block.
   * @throws InvalidOptionError for an unknown gene or batch, or a model without a count decoder.
   */
  expression(input: DatasetInput, options: ExpressionOptions & LayerOption = {}): ExpressionMatrix {
    const stream = this.expressionStream(input, options);
    const data = new Float32Array(stream.nRows * stream.nCols);
    for (const b of stream.blocks()) data.set(b.data, b.start * stream.nCols);
    return { nRows: stream.nRows, nCols: stream.nCols, data, geneNames: stream.geneNames };
  }

  /**
   * {@link expression} as a stream of row blocks (`options.batchSize` cells each), for data larger
   * than memory (a backed AnnData): options are checked now, each block is decoded as it is read.
   */
  expressionStream(input: DatasetInput, options: ExpressionOptions & LayerOption = {}): ExpressionStream {
    const src = this.decodeSource(input, options);
    return expressionStream(src, resolveDecodePlan(this.model, this.geneNames, this.spurEncoder, options));
  }

  /**
   * Bayesian differential expression (scvi-tools' "change" mode) between the cells whose obs column
   * `groupby` is `group` and those where it is `reference` (all other cells when absent): posterior
   * samples of each group's mean batch-corrected normalised expression (cells bootstrapped, each from
   * its own posterior draw) give the log2 fold change per gene, P(|LFC| ≥ δ), its Bayes factor, and
   * the set of genes called at a posterior expected FDR, with mean expression and detection rate per
   * group. `cellsPerSample: 1` compares single cells, as scvi-tools. See {@link DeOptions}.
   * @throws InvalidOptionError for a missing column, an unknown or empty group, or bad options.
   */
  differentialExpression(input: DatasetInput, options: DeOptions & LayerOption): DeResult {
    const data = this.dataset(input, options);
    return differentialExpression(this.decodeSource(data, {}), this.column(data, options.groupby), options, (o) => resolveDecodePlan(this.model, this.geneNames, this.spurEncoder, o));
  }

  /** The model, the rows and the covariates `input` decodes from. */
  private decodeSource(input: DatasetInput, options: LayerOption): DecodeSource {
    const data = this.dataset(input, options);
    return { model: this.model, geneNames: this.geneNames, rows: this.rows(data), cov: this.covariates(data), spurEncoder: this.spurEncoder };
  }

  /** The trained predictor and the label it predicts, if any. */
  get predictor(): { predictor: InvariantPredictor; labelKey: string } | null {
    return this.predictorState;
  }

  /**
   * Predicts labels of `data` with the trained predictor. An AnnData is read at `options.layer`
   * (default: the model's layer, else X); {@link writeResults} puts the labels into its obs.
   * `options.latent`: `data`'s invariant latent when already computed (`latent(data, { part: 'inv' })`),
   * so that it is not computed again. Every prediction carries each cell's confidence; with
   * `options.unknownThreshold`, cells below it are labelled `unknown`.
   */
  predict(input: DatasetInput, options: PredictOptions = {}): Prediction {
    const data = this.dataset(input, options);
    if (!this.predictorState) throw new InvalidOptionError('predictor', 'No predictor has been trained for this model.', { hint: 'train one first (invae train … --predict KEY, or trainPredictor())' });
    // the threshold is checked before the latent is computed
    withConfidence({ labels: [], probabilities: new Float32Array(0), classes: [] }, options.unknownThreshold);
    return withConfidence(this.predictorState.predictor.predict(this.invariantLatent(data, options.latent)), options.unknownThreshold);
  }

  /** `data`'s invariant latent: `given` (checked against the data and the model) or computed. */
  private invariantLatent(data: AnyDataset, given: LatentMatrix | undefined): LatentMatrix {
    if (!given) return this.latent(data, { part: 'inv' });
    const [n, d] = [nCellsOf(data), this.model.config.latentDimInv];
    if (given.nRows !== n || given.nCols !== d || given.data.length !== n * d) {
      throw new InvalidOptionError('latent', `The given latent is ${given.nRows} × ${given.nCols} (${given.data.length} values); this data's invariant latent is ${n} × ${d}.`, {
        hint: "pass latent(data, { part: 'inv' }) of the same data, or leave latent out",
      });
    }
    return given;
  }

  private column(data: AnyDataset, key: string): string[] {
    const col = data.obs[key];
    if (!col) throw new InvalidOptionError(key, `obs has no column '${key}' (available: ${Object.keys(data.obs).join(', ') || 'none'}).`);
    return Array.from(col as ArrayLike<unknown>, (v) => (v === null || v === undefined ? (v as unknown as string) : String(v)));
  }

  /**
   * Saves the model, its encoders, genes, training summary and predictor as a model directory, with
   * the per-epoch training history (`history.json`) when the model was trained, and any further
   * `files` (e.g. a loss plot), all in one atomic replacement of `dir`.
   */
  async save(dir: string, options: { overwrite?: boolean; files?: Readonly<Record<string, string | Uint8Array>> } = {}): Promise<void> {
    const extra: Record<string, unknown> = {
      workflowVersion: WORKFLOW_VERSION,
      preset: this.preset.name,
      layer: this.layer,
      covariates: { inv: this.invEncoder.toJSON(), spur: this.spurEncoder.toJSON(), ...(this.spurQuery ? { spurQuery: this.spurQuery.toJSON() } : {}) },
      training: this.history
        ? {
            epochs: this.history.epochs.length,
            stoppedBy: this.history.stoppedBy,
            seconds: this.history.seconds,
            finalLoss: this.history.epochs.at(-1)?.loss ?? null,
            ...(this.history.diverged ? { diverged: this.history.diverged } : {}),
            history: HISTORY_FILE,
          }
        : null,
      predictor: this.predictorState ? { labelKey: this.predictorState.labelKey, state: this.predictorState.predictor.toJSON() } : null,
    };
    const weights = this.model.getWeights();
    try {
      const files = { ...(this.history ? { [HISTORY_FILE]: historyToJSON(this.history) } : {}), ...options.files };
      await saveModelDir(dir, { model: this.spec as unknown as Record<string, unknown>, geneNames: this.geneNames as string[], extra, weights, files }, { overwrite: options.overwrite });
    } finally {
      tf.dispose([...weights.values()]);
    }
  }

  /**
   * Loads a model directory written by {@link save} (with its training history, if saved); the model
   * is in eval state. `model.json` is checked field by field, and the shapes its options imply against
   * the weights file's header, before any weight is read or any network is built.
   * @throws ModelFormatError naming the directory and the field or tensor that does not fit.
   */
  static async load(dir: string, options: { warn?: WarnFn } = {}): Promise<Invae> {
    let checked: WorkflowManifest | null = null;
    const { manifest, weights } = await readModelDir(dir, {
      validate: (m, target) => {
        checked = checkWorkflowManifest(m, target, WORKFLOW_VERSION);
      },
    });
    const target = path.resolve(dir);
    const saved = checked as unknown as WorkflowManifest;
    let history: TrainHistory | null = null;
    try {
      const text = await readModelDirFile(dir, HISTORY_FILE);
      if (text !== null) history = historyFromJSON(text);
    } catch (e) {
      tf.dispose([...weights.values()]);
      if (e instanceof ModelFormatError) throw e;
      throw new ModelFormatError(dir, `${HISTORY_FILE} is not a valid training history: ${(e as Error).message}`, { hint: 'delete it to load the model without its history', cause: e });
    }
    try {
      const spec = saved.spec;
      let built: ReturnType<typeof buildModel>;
      try {
        built = buildModel({ config: spec.config, invPrior: spec.invPrior, spurPrior: spec.spurPrior });
      } catch (e) {
        if (e instanceof PriorNotFoundError) {
          throw new ModelFormatError(target, `the model uses the prior '${e.prior}', which is not registered`, {
            hint: `register its plugin before loading (registerPrior; on the command line: --plugin PATH_OR_PACKAGE)`,
            cause: e,
          });
        }
        if (e instanceof PriorOptionError || e instanceof InvalidOptionError) {
          throw new ModelFormatError(target, `model.json: the model's priors cannot be rebuilt: ${e.message}`, { hint: 'the model directory was modified or damaged; save the model again (invae train)', cause: e });
        }
        throw e;
      }
      try {
        built.model.setWeights(weights, { source: target });
      } catch (e) {
        built.model.dispose();
        throw e;
      }
      let w: Invae;
      try {
        const encoder = (role: 'inv' | 'spur' | 'spurQuery', width: number) => {
          let enc: CovariateEncoder;
          try {
            enc = CovariateEncoder.fromJSON(saved.covariates[role]!);
          } catch (e) {
            throw new ModelFormatError(target, `model.json: extra.covariates.${role} is not a valid covariate encoder: ${(e as Error).message}`, { cause: e });
          }
          if (enc.width !== width) {
            throw new ModelFormatError(target, `model.json: extra.covariates.${role} encodes ${enc.width} columns, but the model was built for ${width} (model.config.${role === 'spurQuery' ? 'spurQueryDim' : `${role}CovarDim`})`);
          }
          return enc;
        };
        const inv = encoder('inv', built.model.config.invCovarDim);
        const spur = encoder('spur', built.model.config.spurCovarDim);
        const q = built.model.config.spurQueryDim;
        const spurQuery = q > 0 || saved.covariates.spurQuery !== undefined ? encoder('spurQuery', q) : null;
        // models saved before presets existed were set up with the reference's defaults
        w = new Invae(built.model, built.spec, inv, spur, manifest.geneNames, saved.layer, options.warn ?? defaultWarn, history, getPreset(saved.preset ?? 'reference'));
        w.spurQuery = spurQuery;
      } catch (e) {
        built.model.dispose();
        throw e;
      }
      if (saved.predictor) {
        try {
          w.predictorState = { labelKey: saved.predictor.labelKey, predictor: predictorFromState(saved.predictor.state) };
        } catch (e) {
          w.dispose();
          throw new ModelFormatError(target, `model.json: extra.predictor.state cannot be restored: ${(e as Error).message}`, { cause: e });
        }
      }
      return w;
    } finally {
      tf.dispose([...weights.values()]);
    }
  }

  /** Frees the model's and the predictor's engine memory. */
  dispose(): void {
    this.model.dispose();
    this.predictorState?.predictor.dispose();
  }
}
