import { InvalidOptionError } from '../errors';
import type { Activation } from '../nn/mlp';
import { resolveDecoderPaths, type DecoderPathsConfig, type ResolvedDecoderPaths } from './decoder-paths';

/** Covariates the encoder reads besides the counts (see {@link InvaeModelConfig.encoderCovariates}). */
export type EncoderCovariates = 'all' | 'spurious' | 'none';

/** Which reference model a configuration describes. */
export type InvaeModelKind = 'FinVAE' | 'NFinVAE';

/**
 * Options of an inVAE model (FinVAE or NFinVAE), named after the reference module's constructor
 * arguments in camelCase. Sizes of the data and covariate encodings are required; everything else
 * has the reference's default.
 */
export interface InvaeModelConfig {
  /** `FinVAE` (Gaussian conditional invariant prior) or `NFinVAE` (score-matching invariant prior). */
  model: InvaeModelKind;
  /** Number of genes (features). */
  dataDim: number;
  /** Width of the encoded invariant covariates (0 = none). */
  invCovarDim: number;
  /** Width of the encoded spurious covariates (0 = none). */
  spurCovarDim: number;
  /**
   * Query mapping (scArches-style architecture surgery; not in the reference): one-hot columns of
   * spurious categories first seen in a query dataset (e.g. new batches), fed after the
   * `spurCovarDim` columns to every network that reads the spurious covariates through input
   * weights of their own (default 0 = none). Set by `Invae.map`.
   */
  spurQueryDim?: number;
  /** Invariant latent dimensions. */
  latentDimInv: number;
  /** Spurious latent dimensions. */
  latentDimSpur: number;
  /** Layers of the encoder / decoder networks (default 2). FinVAE's encoder uses `nLayers − 1`. */
  nLayers?: number;
  /** Hidden width (default 128). */
  hiddenDim?: number;
  /** `relu` (default) or `lrelu`. */
  activation?: Activation;
  /**
   * Negative slope of `lrelu` (default 0.1), used where the reference passes it on: FinVAE's encoder,
   * FinVAE's normal decoder and the Gaussian prior networks. The reference builds the other networks
   * (NB decoder, NFinVAE encoder, score-matching prior) with the MLP default 0.1, and so does invae.
   */
  slope?: number;
  /** BatchNorm in encoder and decoder (default true). */
  batchNorm?: boolean;
  /** Dropout probability in every network (default 0). */
  dropoutRate?: number;
  /** `nb` (counts, default) or `normal` (scaled data, fixed variance 0.01). */
  decoderDist?: 'nb' | 'normal';
  /**
   * Feed the spurious covariates to the decoder (default false). The reference then has no spurious
   * prior; invae also allows a spurious latent block with its own prior beside the injected covariates.
   */
  injectCovarInLatent?: boolean;
  /**
   * Which covariates the encoder reads besides the counts: `all` (default, as the reference: invariant
   * and spurious), `spurious` (batch only, so the latent of new cells never depends on their labels)
   * or `none`. Not in the reference.
   */
  encoderCovariates?: EncoderCovariates;
  /** `sample` (default, Monte-Carlo ELBO) or `kl_div` (analytic KL; FinVAE only). */
  elboVersion?: 'sample' | 'kl_div';
  /** Weight β of the prior/KL term (default 1). The reference NFinVAE fixes it at 1. */
  klRate?: number;
  /** Weight of the total-correlation penalty between invariant and spurious latents (default 0). */
  tcBeta?: number;
  /**
   * Weight λ of the invariance penalty (default 0 = off; not in the reference): λ times the
   * conditional MMD between batches of the invariant latent means within each biological condition
   * (see `conditionalBatchMmd`), subtracted from the objective. Needs spurious covariates.
   */
  invariancePenalty?: number;
  /** NFinVAE: the ELBO mean is divided by this (default 1). Unused by FinVAE, as in the reference. */
  normalizeConstant?: number;
  /** Seed for parameter initialisation (unseeded when absent). */
  seed?: number;
  /**
   * Optional masked decoder paths (expiMap-style, not in the reference): the last K invariant
   * latent dimensions each explain only their genes through a masked linear layer added to the
   * decoder's logits; the main decoder network does not see them. See {@link DecoderPathsConfig}.
   * Absent or null (default): the reference decoder, unchanged.
   */
  decoderPaths?: DecoderPathsConfig | null;
}

/** {@link InvaeModelConfig} with every default filled in (and `decoderPaths` validated into index lists, or null). */
export type ResolvedInvaeModelConfig = Required<Omit<InvaeModelConfig, 'seed' | 'decoderPaths'>> & { seed?: number; decoderPaths: ResolvedDecoderPaths | null };

function positiveInt(name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new InvalidOptionError(name, `${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Fills in defaults and validates a model configuration.
 * @throws InvalidOptionError naming the offending option.
 */
export function resolveModelConfig(config: InvaeModelConfig): ResolvedInvaeModelConfig {
  const known = ['model', 'dataDim', 'invCovarDim', 'spurCovarDim', 'spurQueryDim', 'latentDimInv', 'latentDimSpur', 'nLayers', 'hiddenDim', 'activation', 'slope', 'batchNorm', 'dropoutRate', 'decoderDist', 'injectCovarInLatent', 'encoderCovariates', 'elboVersion', 'klRate', 'tcBeta', 'invariancePenalty', 'normalizeConstant', 'seed', 'decoderPaths'] as const;
  // keep only model options (callers may pass a superset, e.g. prior options), dropping undefined values
  const given = Object.fromEntries(known.filter((k) => config[k] !== undefined).map((k) => [k, config[k]])) as Partial<InvaeModelConfig>;
  const c = {
    nLayers: 2,
    hiddenDim: 128,
    activation: 'relu',
    slope: 0.1,
    batchNorm: true,
    dropoutRate: 0,
    decoderDist: 'nb',
    injectCovarInLatent: false,
    encoderCovariates: 'all',
    elboVersion: 'sample',
    klRate: 1,
    tcBeta: 0,
    invariancePenalty: 0,
    normalizeConstant: 1,
    spurQueryDim: 0,
    ...given,
  } as ResolvedInvaeModelConfig;
  if (c.model !== 'FinVAE' && c.model !== 'NFinVAE') {
    throw new InvalidOptionError('model', `unknown model '${String(c.model)}'`, { hint: "use 'FinVAE' or 'NFinVAE'" });
  }
  positiveInt('dataDim', c.dataDim);
  positiveInt('invCovarDim', c.invCovarDim, 0);
  positiveInt('spurCovarDim', c.spurCovarDim, 0);
  positiveInt('spurQueryDim', c.spurQueryDim, 0);
  positiveInt('latentDimInv', c.latentDimInv);
  positiveInt('latentDimSpur', c.latentDimSpur, 0);
  positiveInt('nLayers', c.nLayers, c.model === 'FinVAE' ? 2 : 1);
  positiveInt('hiddenDim', c.hiddenDim);
  if (c.activation !== 'relu' && c.activation !== 'lrelu') {
    throw new InvalidOptionError('activation', `unknown activation '${String(c.activation)}'`, { hint: "use 'relu' or 'lrelu'" });
  }
  if (c.decoderDist !== 'nb' && c.decoderDist !== 'normal') {
    throw new InvalidOptionError('decoderDist', `unknown decoder distribution '${String(c.decoderDist)}'`, { hint: "use 'nb' or 'normal'" });
  }
  if (!['all', 'spurious', 'none'].includes(c.encoderCovariates)) {
    throw new InvalidOptionError('encoderCovariates', `unknown encoder covariates '${String(c.encoderCovariates)}'`, { hint: "use 'all', 'spurious' or 'none'" });
  }
  if (c.elboVersion !== 'sample' && c.elboVersion !== 'kl_div') {
    throw new InvalidOptionError('elboVersion', `unknown ELBO version '${String(c.elboVersion)}'`, { hint: "use 'sample' or 'kl_div'" });
  }
  if (c.elboVersion === 'kl_div' && c.model === 'NFinVAE') {
    throw new InvalidOptionError('elboVersion', "NFinVAE has no analytic KL (its invariant prior is unnormalised)", { hint: "use elboVersion 'sample'" });
  }
  if (c.elboVersion === 'kl_div' && c.injectCovarInLatent && c.latentDimSpur > 0) {
    throw new InvalidOptionError('elboVersion', "kl_div with injectCovarInLatent leaves the spurious latents without a prior", {
      hint: "use elboVersion 'sample', or latentDimSpur 0 when injecting covariates",
    });
  }
  if (c.latentDimSpur === 0 && c.spurCovarDim > 0 && !c.injectCovarInLatent) {
    // the spurious prior would condition no latent on the covariates: its network gets no gradient
    throw new InvalidOptionError('latentDimSpur', `latentDimSpur 0 leaves the ${c.spurCovarDim} encoded spurious covariate column(s) without a latent block for their prior to condition`, {
      hint: 'give the spurious block at least one dimension (latentDimSpur ≥ 1; invae train --latent-spur 1), or feed the spurious covariates to the decoder instead (injectCovarInLatent; invae train --inject-covar)',
    });
  }
  if (c.model === 'NFinVAE' && c.invCovarDim === 0) {
    throw new InvalidOptionError('invCovarDim', 'NFinVAE needs invariant covariates for its non-factorised prior', { hint: 'use FinVAE when there are no invariant covariates' });
  }
  for (const k of ['klRate', 'tcBeta', 'invariancePenalty', 'dropoutRate', 'slope'] as const) {
    if (typeof c[k] !== 'number' || !Number.isFinite(c[k]) || c[k] < 0) throw new InvalidOptionError(k, `${k} must be a finite number ≥ 0, got ${String(c[k])}`);
  }
  if (c.dropoutRate >= 1) throw new InvalidOptionError('dropoutRate', `dropoutRate must be < 1, got ${c.dropoutRate}`);
  if (!(c.normalizeConstant > 0)) throw new InvalidOptionError('normalizeConstant', `normalizeConstant must be > 0, got ${c.normalizeConstant}`);
  c.decoderPaths = resolveDecoderPaths(given.decoderPaths, {
    dataDim: c.dataDim,
    latentDimInv: c.latentDimInv,
    latentDimSpur: c.latentDimSpur,
    mainExtraInputs: c.injectCovarInLatent ? c.spurCovarDim : 0,
  });
  return c;
}
