import { PRESETS, getPreset, type InvaeSetup, type PresetName } from '@invae/core';

/** The methods {@link runBenchmark} trains (or, for PCA, computes) and scores. */
export const BENCHMARK_METHODS = ['pca', 'scvi', 'finvae', 'nfinvae'] as const;

/** One of {@link BENCHMARK_METHODS}. */
export type BenchmarkMethod = (typeof BENCHMARK_METHODS)[number];

/** The name each method has in the results table (and in the file names of its plots). */
export const BENCHMARK_METHOD_NAMES: Readonly<Record<BenchmarkMethod, string>> = { pca: 'PCA', scvi: 'scVI-equivalent', finvae: 'FinVAE', nfinvae: 'NFinVAE' };

/** What the model of a trained method is built from. */
export interface MethodSetupOptions {
  /** obs key of the batches (the spurious covariate by default). */
  batch: string;
  /** obs key of the cell labels (the invariant covariate by default). */
  label: string;
  /** Invariant covariates of the inVAE models (default: `[label]`). */
  inv?: readonly string[];
  /** Spurious covariates (default: `[batch]`). */
  spur?: readonly string[];
  preset: PresetName;
  /** Invariant latent dimensions (default: the integration preset's). */
  latentInv?: number;
  seed: number;
}

/**
 * The model each trained method stands for: inVAE's two families with the chosen preset, and scVI's
 * equivalent (N(0, I) prior, batch injected in the decoder, no label; the same network sizes,
 * dropout and epochs as the preset gives inVAE).
 */
export function methodSetup(method: Exclude<BenchmarkMethod, 'pca'>, o: MethodSetupOptions): InvaeSetup {
  const inv = [...(o.inv ?? [o.label])];
  const spur = [...(o.spur ?? [o.batch])];
  const preset = getPreset(o.preset);
  const common = { latentDimInv: o.latentInv ?? PRESETS.integration.options.latentDimInv, seed: o.seed };
  if (method === 'scvi') {
    return {
      preset: o.preset,
      model: 'FinVAE',
      invariant: {},
      spurious: { categorical: spur },
      // β = 1 and an N(0, I) prior whatever the preset (the preset's β belongs to inVAE's label-conditioned prior)
      options: { ...common, latentDimSpur: 0, injectCovarInLatent: true, klRate: 1, dropoutRate: preset.options.dropoutRate ?? 0.1 },
      invPrior: { name: 'gaussian', options: { fixMean: true, fixVar: true } },
      spurPrior: null,
    };
  }
  return {
    preset: o.preset,
    model: method === 'finvae' ? 'FinVAE' : 'NFinVAE',
    invariant: { categorical: inv },
    spurious: { categorical: spur },
    // the reference preset keeps the issue-14 protocol's 2 spurious latents
    options: o.preset === 'reference' ? { ...common, latentDimSpur: 2 } : common,
  };
}

/** The obs keys of a setup's invariant covariates that are the label itself (they would leak it into a held-out encoding). */
export function labelCovariates(setup: InvaeSetup, label: string): string[] {
  return (setup.invariant?.categorical ?? []).filter((k) => k === label);
}
