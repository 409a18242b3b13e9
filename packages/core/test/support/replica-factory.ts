// Replica recipes for data-parallel tests: plain models with the test priors, built from JSON args.
import { InvaeModel, type InvaeModelConfig } from '../../src/index';
import { QuadraticEnergyPrior, StandardNormalPrior } from '../model-helpers';

/** Builds the test model described by `config` (FinVAE with N(0, I) priors, or NFinVAE with the quadratic energy prior). */
export function tinyModel(config: InvaeModelConfig): InvaeModel {
  const inv = config.model === 'NFinVAE' ? new QuadraticEnergyPrior(config.latentDimInv ?? 9, 0) : new StandardNormalPrior(config.latentDimInv ?? 9);
  return new InvaeModel(config, { inv, spur: new StandardNormalPrior(config.latentDimSpur ?? 1) });
}

/** A factory that always fails (tests the error path). */
export function brokenModel(): InvaeModel {
  throw new Error('this replica cannot be built');
}
