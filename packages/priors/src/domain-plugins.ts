import { PriorOptionError, type CovariateSpec, type PriorContext, type PriorPlugin } from '@invae/core';
import { LinearGaussianPrior, type LinearGaussianVariance } from './linear-gaussian';
import { TreatmentPrior } from './treatment';
import { GeneProgramScorer, type GeneProgramScorerState } from './gene-program-score';
import { readBool, readChoice, readInt, readString, readStringList, rejectUnknown, type RawOptions } from './options';
import { VERSION } from './version';

/** Options of the variance network shared by the `disease`, `treatment` and `gene-program` priors. */
export interface VarianceNetworkOptions {
  /** `learned` (default): variance exp(MLP(u)) + 1e-4; `unit`: 1. */
  variance: LinearGaussianVariance;
  /** Layers of the variance network (default: the model's). */
  nLayers: number;
  /** Hidden width of the variance network (default: the model's). */
  hiddenDim: number;
}

const VARIANCE_KEYS = ['variance', 'nLayers', 'hiddenDim'] as const;

/** The Gaussian prior with a mean linear in the covariates that the domain priors share. */
function linearGaussianPrior(ctx: PriorContext, o: VarianceNetworkOptions, prefix: string): LinearGaussianPrior {
  return new LinearGaussianPrior({
    role: ctx.role,
    latentDim: ctx.latentDim,
    covarDim: ctx.covarDim,
    variance: o.variance,
    nLayers: o.nLayers,
    hiddenDim: o.hiddenDim,
    activation: ctx.model.activation,
    slope: ctx.model.slope,
    dropoutRate: ctx.model.dropoutRate,
    seed: ctx.seed,
    prefix,
  });
}

function readVariance(plugin: string, o: RawOptions, ctx: PriorContext): VarianceNetworkOptions {
  return {
    variance: readChoice(plugin, o, 'variance', ['learned', 'unit'], 'learned'),
    nLayers: readInt(plugin, o, 'nLayers', ctx.model.nLayers),
    hiddenDim: readInt(plugin, o, 'hiddenDim', ctx.model.hiddenDim),
  };
}

function needCovariates(plugin: string, ctx: PriorContext, min: number, what: string): void {
  if (ctx.covarDim < min) {
    throw new PriorOptionError(plugin, 'covariates', `the ${ctx.role === 'inv' ? 'invariant' : 'spurious'} block has ${ctx.covarDim} covariate column(s); this prior needs ${what}`, {
      hint: `encode the covariates this prior declares (priorCovariates({ name: '${plugin}', options }, '${ctx.role}'))`,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// disease

/** Options of the `disease` prior plugin. */
export interface DiseasePluginOptions extends VarianceNetworkOptions {
  /** Obs column of the disease state (default `disease`). */
  disease: string;
  /** Disease levels from least to most severe: the state is then thermometer-coded (ordinal) instead of one-hot. */
  severity: string[] | null;
  /** Obs column of the cell type (optional). */
  cellType: string | null;
  /** Add the cell type × disease interaction (default true when `cellType` is given). */
  interaction: boolean;
}

const DISEASE_KEYS = ['disease', 'severity', 'cellType', 'interaction', ...VARIANCE_KEYS];

/**
 * The options without null values: the resolved options saved with a model hold `null` for an
 * absent optional column (e.g. `cellType`, `severity`, `time`), and reading them back must treat
 * it as absent.
 */
function withoutNulls(o: RawOptions): RawOptions {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));
}

function readDisease(raw: RawOptions): Pick<DiseasePluginOptions, 'disease' | 'severity' | 'cellType' | 'interaction'> {
  const o = withoutNulls(raw);
  const p = 'disease';
  rejectUnknown(p, o, DISEASE_KEYS);
  const cellType = readString(p, o, 'cellType', undefined) ?? null;
  const severity = readStringList(p, o, 'severity') ?? null;
  if (severity && severity.length < 2) throw new PriorOptionError(p, 'severity', 'needs at least two levels, least severe first');
  const interaction = readBool(p, o, 'interaction', cellType !== null);
  if (interaction && cellType === null) throw new PriorOptionError(p, 'interaction', 'needs a cellType column to interact with');
  const disease = readString(p, o, 'disease', 'disease');
  if (disease === cellType) throw new PriorOptionError(p, 'cellType', `must differ from the disease column '${disease}'`);
  return { disease, severity, cellType, interaction };
}

/**
 * `disease`: invariant Gaussian prior conditioned on disease state and cell type.
 *
 * Model (a {@link LinearGaussianPrior} over the encoding this plugin declares):
 *
 *   u = [onehot(cell type), code(disease), onehot(cell type × disease)]
 *   z ~ N(W u + b, diag σ²(u))
 *
 * so the prior mean is additive: a cell-type effect, plus a disease effect, plus a cell-type-specific
 * disease shift (for the combinations seen in training; an unseen combination keeps the main
 * effects only). `code(disease)` is one-hot, or, with `severity` (levels least severe first), the
 * thermometer code — then each step up in severity adds one learned shift, so the mean of an
 * intermediate severity lies on the path of increments between its neighbours. The variance is
 * learned from u (as the reference's `logl` network) unless `variance: 'unit'`.
 */
export const diseasePlugin: PriorPlugin<DiseasePluginOptions> = {
  name: 'disease',
  version: VERSION,
  family: 'gaussian',
  description: 'Gaussian prior with an additive mean over disease state (one-hot or ordered severity), cell type and their interaction.',
  covariates(o): CovariateSpec {
    const d = readDisease(o);
    return {
      categorical: [...(d.cellType ? [d.cellType] : []), ...(d.severity ? [] : [d.disease])],
      ordinal: d.severity ? [{ key: d.disease, order: d.severity }] : [],
      interactions: d.interaction && d.cellType ? [[d.cellType, d.disease]] : [],
    };
  },
  resolveOptions(o, ctx) {
    const d = readDisease(o);
    needCovariates('disease', ctx, 1, 'the encoded disease state');
    return { ...d, ...readVariance('disease', o, ctx) };
  },
  create(ctx, o) {
    return linearGaussianPrior(ctx, o, 'prior_disease');
  },
};

// ---------------------------------------------------------------------------------------------
// treatment

/** Options of the `treatment` prior plugin. */
export interface TreatmentPluginOptions extends VarianceNetworkOptions {
  /** Obs column naming the perturbation / drug (default `treatment`). */
  treatment: string;
  /** Obs column of the dose (default `dose`; 0 = untreated). */
  dose: string;
  /** The treatments, in dose-column order (required: fixes the width of the dose block). */
  treatments: string[];
  /** Obs column of the time point (continuous, standardised), optional. */
  time: string | null;
  /** Further categorical context columns (e.g. cell type), optional. */
  context: string[];
}

const TREATMENT_KEYS = ['treatment', 'dose', 'treatments', 'time', 'context', ...VARIANCE_KEYS];

function readTreatment(raw: RawOptions): Omit<TreatmentPluginOptions, keyof VarianceNetworkOptions> {
  const o = withoutNulls(raw);
  const p = 'treatment';
  rejectUnknown(p, o, TREATMENT_KEYS);
  const r = {
    treatment: readString(p, o, 'treatment', 'treatment'),
    dose: readString(p, o, 'dose', 'dose'),
    treatments: readStringList(p, o, 'treatments', { required: true, nonEmpty: true })!,
    time: readString(p, o, 'time', undefined) ?? null,
    context: readStringList(p, o, 'context') ?? [],
  };
  const cols = [r.treatment, r.dose, ...(r.time ? [r.time] : []), ...r.context];
  const dup = cols.find((c, i) => cols.indexOf(c) !== i);
  if (dup !== undefined) throw new PriorOptionError(p, 'context', `column '${dup}' is used twice`);
  return r;
}

/**
 * `treatment`: Gaussian prior of perturbation data — drug/perturbation, dose and time — with a
 * learned sigmoid dose-response per treatment (see {@link TreatmentPrior} for the model). It
 * declares the encoding `{ categorical: context, continuous: [time], dose: [{ key: dose, treatment,
 * treatments }] }`, whose dose columns come last, as the prior reads them.
 */
export const treatmentPlugin: PriorPlugin<TreatmentPluginOptions> = {
  name: 'treatment',
  version: VERSION,
  family: 'gaussian',
  description: 'Gaussian prior over treatment, dose and time with a monotone sigmoid dose-response per treatment (CPA-style).',
  covariates(o): CovariateSpec {
    const t = readTreatment(o);
    return { categorical: t.context, continuous: t.time ? [t.time] : [], dose: [{ key: t.dose, treatment: t.treatment, treatments: t.treatments }] };
  },
  resolveOptions(o, ctx) {
    const t = readTreatment(o);
    needCovariates('treatment', ctx, t.treatments.length, `its ${t.treatments.length} dose column(s) (one per treatment) at the end`);
    return { ...t, ...readVariance('treatment', o, ctx) };
  },
  create(ctx, o) {
    return new TreatmentPrior({
      role: ctx.role,
      latentDim: ctx.latentDim,
      covarDim: ctx.covarDim,
      nTreatments: o.treatments.length,
      variance: o.variance,
      nLayers: o.nLayers,
      hiddenDim: o.hiddenDim,
      activation: ctx.model.activation,
      slope: ctx.model.slope,
      dropoutRate: ctx.model.dropoutRate,
      seed: ctx.seed,
    });
  },
};

// ---------------------------------------------------------------------------------------------
// gene programs

/** Options of the `gene-program` prior plugin. */
export interface GeneProgramPluginOptions extends VarianceNetworkOptions {
  /** The fitted scorer ({@link GeneProgramScorer.toJSON}): programs, their genes and control genes. */
  scorer: GeneProgramScorerState;
  /**
   * Dedicate one invariant latent dimension per program (default false): the last K invariant
   * dimensions, in program order, each decoded by a masked linear path to the program's matched
   * genes only (the expiMap idea; the model's `decoderPaths`).
   */
  dedicatedDims: boolean;
}

const GENE_PROGRAM_KEYS = ['scorer', 'dedicatedDims', ...VARIANCE_KEYS];

/** Scorers rebuilt from saved states, by state object: each state (options.scorer) is read once. */
const scorers = new WeakMap<object, GeneProgramScorer>();

function readScorer(o: RawOptions): GeneProgramScorer {
  if (o.scorer === undefined) {
    throw new PriorOptionError('gene-program', 'scorer', 'is required', { hint: 'fit one with GeneProgramScorer.fit(data, geneSets) and pass scorer.toJSON()' });
  }
  const state = o.scorer;
  const known = state !== null && typeof state === 'object' ? scorers.get(state) : undefined;
  if (known) return known;
  try {
    const scorer = GeneProgramScorer.fromJSON(state as GeneProgramScorerState);
    scorers.set(state as object, scorer);
    return scorer;
  } catch (e) {
    throw new PriorOptionError('gene-program', 'scorer', (e as Error).message);
  }
}

/** `scorer`'s saved state, remembered as read (the resolved options hold it, and are read again). */
function scorerState(scorer: GeneProgramScorer): GeneProgramScorerState {
  const state = scorer.toJSON();
  scorers.set(state, scorer);
  return state;
}

/**
 * `gene-program`: invariant Gaussian prior conditioned on per-cell gene-program activities.
 *
 * With `dedicatedDims: true` the last K invariant latent dimensions (K = number of programs) are
 * dedicated to the programs, in program order: the prior asks the model for masked decoder paths
 * (`decoderPaths`), so dimension k reaches the expression only through a linear map onto program
 * k's matched genes, and the main decoder network does not see it. The scores stay the prior's
 * covariates. The invariant block must then have more than K dimensions or spurious ones besides.
 *
 * Model: a = the programs' scores (scanpy `score_genes`, see {@link GeneProgramScorer}),
 * standardised with the training mean and deviation; z ~ N(W a + b, diag σ²(a)). Column k of W is
 * the latent direction along which program k's activity moves a cell, so latents are anchored to
 * known biology. The encoding it declares is `{ continuous: scorer.columnNames }`; the score columns
 * are derived from the counts of every dataset (training and later ones) by the plugin's
 * `deriveColumns`, with the scorer saved in the prior's options (control genes fixed at training).
 */
export const geneProgramPlugin: PriorPlugin<GeneProgramPluginOptions> = {
  name: 'gene-program',
  version: VERSION,
  family: 'gaussian',
  description: 'Gaussian prior with a mean linear in gene-program activity scores (scanpy score_genes).',
  covariates(o): CovariateSpec {
    rejectUnknown('gene-program', o, GENE_PROGRAM_KEYS);
    return { continuous: readScorer(o).columnNames };
  },
  deriveColumns(data, o) {
    return readScorer(o).scores(data);
  },
  decoderPaths(o, data) {
    rejectUnknown('gene-program', o, GENE_PROGRAM_KEYS);
    if (!readBool('gene-program', o, 'dedicatedDims', false)) return null;
    return programPaths(readScorer(o), data.geneNames);
  },
  bind(o) {
    // the options read once: the scorer and the switches
    rejectUnknown('gene-program', o, GENE_PROGRAM_KEYS);
    const scorer = readScorer(o);
    const dedicatedDims = readBool('gene-program', o, 'dedicatedDims', false);
    return {
      covariates: () => ({ continuous: scorer.columnNames }),
      deriveColumns: (data) => scorer.scores(data),
      decoderPaths: (data) => (dedicatedDims ? programPaths(scorer, data.geneNames) : null),
    };
  },
  resolveOptions(o, ctx) {
    rejectUnknown('gene-program', o, GENE_PROGRAM_KEYS);
    const scorer = readScorer(o);
    needCovariates('gene-program', ctx, scorer.programs.length, `the ${scorer.programs.length} program score column(s) ${scorer.columnNames.join(', ')}`);
    const dedicatedDims = readBool('gene-program', o, 'dedicatedDims', false);
    if (dedicatedDims) checkDedicatedDims(scorer, ctx);
    return { scorer: scorerState(scorer), dedicatedDims, ...readVariance('gene-program', o, ctx) };
  },
  create(ctx, o) {
    return linearGaussianPrior(ctx, o, 'prior_program');
  },
};

/** One masked decoder path per program: its matched genes, as indices into `geneNames`. */
function programPaths(scorer: GeneProgramScorer, geneNames: readonly string[]): { names: string[]; genes: number[][] } {
  const index = new Map<string, number>();
  geneNames.forEach((g, i) => {
    if (!index.has(g)) index.set(g, i);
  });
  const genes = scorer.programs.map((p) => {
    const missing = p.genes.filter((g) => !index.has(g));
    if (missing.length) {
      throw new PriorOptionError('gene-program', 'dedicatedDims', `program '${p.name}': ${missing.length} of its genes are not among the data's genes (${missing.slice(0, 5).join(', ')})`, {
        hint: 'fit the scorer on the data the model is set up on',
      });
    }
    return p.genes.map((g) => index.get(g)!);
  });
  return { names: scorer.programs.map((p) => p.name), genes };
}

/** `dedicatedDims` needs the invariant block and the model's decoder paths set up for these programs. */
function checkDedicatedDims(scorer: GeneProgramScorer, ctx: PriorContext): void {
  const names = scorer.programs.map((p) => p.name);
  if (ctx.role !== 'inv') throw new PriorOptionError('gene-program', 'dedicatedDims', 'dedicated dimensions belong to the invariant block; the spurious prior cannot have them');
  const paths = ctx.model.decoderPaths;
  if (!paths || paths.names.length !== names.length || paths.names.some((n, i) => n !== names[i])) {
    throw new PriorOptionError('gene-program', 'dedicatedDims', `the model has no decoder paths for the programs ${names.join(', ')}`, {
      hint: 'set the model up with Invae.setup (it asks the prior for its decoder paths), or pass decoderPaths from geneProgramPlugin.decoderPaths(options, data)',
    });
  }
}
