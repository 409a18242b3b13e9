export { Rng, deriveSeed, checkSeed, type RngState } from './rng';
export { standardNormal, normal, fillNormal, gamma, poisson, negativeBinomial, categorical } from './distributions';
export { permutation, shuffleInPlace, shuffled, sampleWithoutReplacement } from './permutation';
export { logGamma } from './log-gamma';
