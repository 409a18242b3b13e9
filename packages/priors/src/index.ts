/**
 * @invae/priors — pluggable conditional priors for inVAE (Gaussian conditional, score matching, gene programs, disease, treatment).
 * @packageDocumentation
 */
export { VERSION } from './version';
