import { PriorOptionError, REFERENCE_DEFAULT_SLOPE, registerPrior, type PriorContext, type PriorPlugin } from '@invae/core';
import { registerWorkerSetup } from '@invae/core/internal';
import { readBool, readInt, readNumber, rejectUnknown } from './options';
import { GaussianPrior, gaussianVariant } from './gaussian';
import { ScoreMatchingPrior } from './score-matching';
import { VERSION } from './version';
import { diseasePlugin, geneProgramPlugin, treatmentPlugin } from './domain-plugins';

/** Options of the `gaussian` prior plugin (all optional; defaults as the reference). */
export interface GaussianPluginOptions {
  /** Fix the mean at 0 (default true). */
  fixMean: boolean;
  /** Fix the variance at 1 (default false). */
  fixVar: boolean;
  /** BatchNorm in the prior network (`batch_norm_prior`, default false). */
  batchNorm: boolean;
  /** Layers of the prior network (default: the model's). */
  nLayers: number;
  /** Hidden width of the prior network (default: the model's). */
  hiddenDim: number;
}

/** Options of the `score-matching` prior plugin. */
export interface ScoreMatchingPluginOptions {
  /** Width of T_NN(z)·λ_NN(u) (default 2 × the model's total latent width, as the reference). */
  outputDim: number;
  /** Hidden width of the prior networks (default: the model's). */
  hiddenDim: number;
  /** Layers of the prior networks (default: the model's). */
  nLayers: number;
  /** Weight of the second-derivative regulariser (`reg_sm`, default 0). */
  regSm: number;
  /** BatchNorm in the prior networks (default false). */
  batchNorm: boolean;
}

/** The diagonal Gaussian conditional prior (FinVAE's priors, NFinVAE's spurious prior). */
export const gaussianPlugin: PriorPlugin<GaussianPluginOptions> = {
  name: 'gaussian',
  version: VERSION,
  family: 'gaussian',
  description: 'Diagonal Gaussian p(z | u): fixed or learned mean and variance from the covariates (the reference FinVAE prior).',
  resolveOptions(o, ctx) {
    rejectUnknown('gaussian', o, ['fixMean', 'fixVar', 'batchNorm', 'nLayers', 'hiddenDim']);
    return {
      fixMean: readBool('gaussian', o, 'fixMean', true),
      fixVar: readBool('gaussian', o, 'fixVar', false),
      batchNorm: readBool('gaussian', o, 'batchNorm', false),
      nLayers: readInt('gaussian', o, 'nLayers', ctx.model.nLayers),
      hiddenDim: readInt('gaussian', o, 'hiddenDim', ctx.model.hiddenDim),
    };
  },
  create(ctx: PriorContext, o: GaussianPluginOptions) {
    return new GaussianPrior({
      role: ctx.role,
      latentDim: ctx.latentDim,
      covarDim: ctx.covarDim,
      variant: gaussianVariant(o.fixMean, o.fixVar),
      nLayers: o.nLayers,
      hiddenDim: o.hiddenDim,
      activation: ctx.model.activation,
      slope: ctx.model.slope,
      batchNorm: o.batchNorm,
      dropoutRate: ctx.model.dropoutRate,
      seed: ctx.seed,
    });
  },
};

/** The non-factorised exponential-family prior trained by score matching (NFinVAE's invariant prior). */
export const scoreMatchingPlugin: PriorPlugin<ScoreMatchingPluginOptions> = {
  name: 'score-matching',
  version: VERSION,
  family: 'energy',
  description: 'Non-factorised exponential-family prior T_NN(z)·λ_NN(u) + [z, z²]·λ(u), trained by score matching (NFinVAE).',
  resolveOptions(o, ctx) {
    rejectUnknown('score-matching', o, ['outputDim', 'hiddenDim', 'nLayers', 'regSm', 'batchNorm']);
    if (ctx.role !== 'inv') throw new PriorOptionError('score-matching', 'role', 'the score-matching prior can only be the invariant prior');
    return {
      outputDim: readInt('score-matching', o, 'outputDim', 2 * (ctx.model.latentDimInv + ctx.model.latentDimSpur)),
      hiddenDim: readInt('score-matching', o, 'hiddenDim', ctx.model.hiddenDim),
      nLayers: readInt('score-matching', o, 'nLayers', ctx.model.nLayers),
      regSm: readNumber('score-matching', o, 'regSm', 0),
      batchNorm: readBool('score-matching', o, 'batchNorm', false),
    };
  },
  create(ctx: PriorContext, o: ScoreMatchingPluginOptions) {
    return new ScoreMatchingPrior({
      latentDim: ctx.latentDim,
      covarDim: ctx.covarDim,
      outputDim: o.outputDim,
      hiddenDim: o.hiddenDim,
      nLayers: o.nLayers,
      activation: ctx.model.activation,
      // the reference builds t_nn / params_t_nn / params_t_suff without passing `slope`
      slope: REFERENCE_DEFAULT_SLOPE,
      batchNorm: o.batchNorm,
      dropoutRate: ctx.model.dropoutRate,
      regSm: o.regSm,
      seed: ctx.seed,
    });
  },
};

/** The priors this package provides, as plugins. */
export const builtinPriors: readonly PriorPlugin<object>[] = [gaussianPlugin, scoreMatchingPlugin, diseasePlugin, treatmentPlugin, geneProgramPlugin] as unknown as PriorPlugin<object>[];

/**
 * Registers the built-in priors (`gaussian`, `score-matching`, `disease`, `treatment`,
 * `gene-program`) with @invae/core's prior registry; idempotent.
 */
export function registerBuiltinPriors(): void {
  for (const p of builtinPriors) registerPrior(p);
  // worker threads of data-parallel training register them too before rebuilding a model
  registerWorkerSetup({ module: '@invae/priors', call: 'registerBuiltinPriors' });
}
