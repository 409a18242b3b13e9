/**
 * @invae/priors — pluggable conditional priors for inVAE (Gaussian conditional, score matching, gene programs, disease, treatment).
 * @packageDocumentation
 */
export { VERSION } from './version';
export { GaussianPrior, gaussianVariant, type GaussianPriorOptions, type GaussianPriorVariant } from './gaussian';
export { ScoreMatchingPrior, type ScoreMatchingPriorOptions, type ScoreTerms } from './score-matching';
export { createInvae, invaeSpec, fromReferenceConfig, importTorchStateDict, type InvaeOptions, type ReferenceConfig, type TensorShapes } from './models';
export {
  gaussianPlugin,
  scoreMatchingPlugin,
  builtinPriors,
  registerBuiltinPriors,
  type GaussianPluginOptions,
  type ScoreMatchingPluginOptions,
} from './plugins';
