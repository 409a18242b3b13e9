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
export { LinearGaussianPrior, type LinearGaussianPriorOptions, type LinearGaussianVariance } from './linear-gaussian';
export { TreatmentPrior, type TreatmentPriorOptions } from './treatment';
export {
  diseasePlugin,
  treatmentPlugin,
  geneProgramPlugin,
  type DiseasePluginOptions,
  type TreatmentPluginOptions,
  type GeneProgramPluginOptions,
  type VarianceNetworkOptions,
} from './domain-plugins';
export { parseGmt, checkGeneSets, readGeneSets, type GeneSets } from './gene-sets';
export {
  GeneProgramScorer,
  type GeneProgramScorerOptions,
  type GeneProgramScorerState,
  type FittedProgram,
  type ExpressionData,
  type ScoreNormalization,
} from './gene-program-score';
export { GeneSetFormatError, GeneProgramError } from './errors';
