import { InvalidOptionError } from '../errors';
import type { InvaeModelConfig, InvaeModelKind } from '../module/config';
import type { PriorRef } from '../module/build';
import type { TrainOptions } from '../train/options';

/** Names of the built-in presets (see {@link PRESETS}). */
export type PresetName = 'integration' | 'reference';

/** Model options a preset fills in (the caller's options win). */
export type PresetModelOptions = Partial<Omit<InvaeModelConfig, 'model' | 'dataDim' | 'invCovarDim' | 'spurCovarDim'>>;

/**
 * A named set of defaults for {@link Invae.setup} and {@link Invae.train}: model options, the priors
 * used when the caller names none, and training options. Everything the caller passes explicitly
 * overrides the preset.
 */
export interface InvaePreset {
  readonly name: PresetName;
  /** One line on what it is for. */
  readonly description: string;
  /** Model options under the caller's (the latent sizes always). */
  readonly options: PresetModelOptions & { latentDimInv: number; latentDimSpur: number };
  /** Invariant prior when the caller names none (undefined: the model kind's default). */
  invPrior(model: InvaeModelKind): PriorRef | undefined;
  /**
   * Spurious prior when the caller names none, given the resolved options (undefined: the model's
   * default — a fixed-mean Gaussian, or none when covariates are injected).
   */
  spurPrior(options: { injectCovarInLatent: boolean; latentDimSpur: number }): PriorRef | null | undefined;
  /** Training options under the caller's (`epochs: 'auto'` follows the number of training cells, see `autoEpochs`). */
  readonly train: Readonly<Pick<TrainOptions, 'epochs' | 'warmUpEpochs'>>;
}

const learnedGaussian: PriorRef = { name: 'gaussian', options: { fixMean: false, fixVar: false } };

/**
 * The built-in presets.
 * - `integration` (default): the configuration that won the integration study
 *   (`npm run study:integration`; docs: benchmarks) on CellBench lung and Paul et al. 2015: the batch
 *   covariates are injected into the decoder (no spurious latent block unless `latentDimSpur` > 0,
 *   which then gets a learned, batch-conditioned prior), the invariant prior learns a mean and a
 *   variance per biological condition, the prior term is weighted β = 5 (a stronger pull of every
 *   condition's cells, from all batches, to that condition's prior), 10 invariant latents, and the
 *   epoch count follows the data size (`epochs: 'auto'`, scvi-tools' rule).
 * - `reference`: the defaults of theislab/inVAE, exactly (9 invariant + 1 spurious latents, fixed-mean
 *   priors, encoder reading every covariate, dropout 0.1, 500 epochs).
 */
export const PRESETS: Readonly<Record<PresetName, InvaePreset>> = {
  integration: {
    name: 'integration',
    description: 'batch injected into the decoder, learned label-conditioned invariant prior weighted β = 5, epochs from the data size',
    options: { latentDimInv: 10, latentDimSpur: 0, injectCovarInLatent: true, klRate: 5, dropoutRate: 0.1 },
    invPrior: (model) => (model === 'FinVAE' ? learnedGaussian : undefined),
    spurPrior: ({ injectCovarInLatent, latentDimSpur }) => (latentDimSpur > 0 ? learnedGaussian : injectCovarInLatent ? null : undefined),
    train: { epochs: 'auto' },
  },
  reference: {
    name: 'reference',
    description: 'the defaults of the reference implementation (theislab/inVAE), unchanged',
    options: { latentDimInv: 9, latentDimSpur: 1, dropoutRate: 0.1 },
    invPrior: () => undefined,
    spurPrior: () => undefined,
    train: { epochs: 500 },
  },
};

/** The default preset of {@link Invae.setup}, `invae train` and `invae bench`. */
export const DEFAULT_PRESET: PresetName = 'integration';

/** The preset of this name; a typed error listing the known ones otherwise. */
export function getPreset(name: string = DEFAULT_PRESET): InvaePreset {
  const p = (PRESETS as Record<string, InvaePreset>)[name];
  if (!p) throw new InvalidOptionError('preset', `Unknown preset '${name}'.`, { hint: `use one of ${Object.keys(PRESETS).join(', ')}` });
  return p;
}
