// The design space of the integration study (scripts/study-integration.mjs). Each configuration
// says how the model is set up on a dataset (`ds.label`, `ds.batch`, optional `ds.invariant` keys)
// and trained. `kind: 'pca'` is the unintegrated baseline; `scvi` is the scVI-equivalent of
// `invae bench` (N(0, I) prior, batch injected into the decoder, no label).

const gaussian = (fixMean, fixVar) => ({ name: 'gaussian', options: { fixMean, fixVar } });

/** Base FinVAE setup reading the label (invariant) and the batch (spurious). */
function inVae(ds, seed, o) {
  const inject = o.inject ?? false;
  return {
    // every option explicit: the study compares designs, not the library's presets
    preset: 'reference',
    model: o.model ?? 'FinVAE',
    invariant: { categorical: ds.invariant ?? [ds.label] },
    spurious: { categorical: [ds.batch] },
    options: {
      latentDimInv: o.latentInv ?? 10,
      latentDimSpur: o.latentSpur ?? (inject ? 0 : 2),
      injectCovarInLatent: inject,
      dropoutRate: 0.1,
      encoderCovariates: 'all',
      seed,
      ...(o.options ?? {}),
    },
    ...(o.model === 'NFinVAE' ? {} : { invPrior: o.invPrior ?? gaussian(true, false) }),
    spurPrior: inject && !(o.latentSpur > 0) ? null : (o.spurPrior ?? gaussian(true, false)),
  };
}

/** @type {{name: string, description: string, kind?: 'pca', deterministic?: boolean, setup?: Function, train?: Function}[]} */
export const STUDY_CONFIGS = [
  { name: 'pca', kind: 'pca', deterministic: true, description: 'PCA of log-normalised counts (50 components), unintegrated' },
  {
    name: 'scvi',
    description: 'scVI-equivalent: N(0, I) prior, batch injected into the decoder, no label (invae bench)',
    setup: (ds, seed) => ({
      preset: 'reference',
      model: 'FinVAE',
      invariant: {},
      spurious: { categorical: [ds.batch] },
      options: { latentDimInv: 10, latentDimSpur: 0, injectCovarInLatent: true, dropoutRate: 0.1, seed },
      invPrior: gaussian(true, true),
      spurPrior: null,
    }),
  },
  { name: 'reference', description: "reference defaults as measured in issue 14: 10 inv + 2 spur latents, fixed-mean priors", setup: (ds, seed) => inVae(ds, seed, {}) },
  { name: 'ref-learned', description: '10 + 2 latents, learned prior mean and variance for both blocks', setup: (ds, seed) => inVae(ds, seed, { invPrior: gaussian(false, false), spurPrior: gaussian(false, false) }) },
  { name: 'inject', description: 'batch injected into the decoder (no spurious latent), fixed-mean invariant prior', setup: (ds, seed) => inVae(ds, seed, { inject: true }) },
  { name: 'inject-learned', description: 'batch injected; invariant prior with learned mean and variance', setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false) }) },
  { name: 'inject-mean', description: 'batch injected; invariant prior with learned mean, unit variance', setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, true) }) },
  {
    name: 'inject-learned-warmup',
    description: 'inject-learned with a KL warm-up over the first quarter of the epochs',
    setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false) }),
    train: (ds, seed, epochs) => ({ warmUpEpochs: Math.max(1, Math.round(epochs / 4)) }),
  },
  { name: 'inject-learned-30', description: 'inject-learned with 30 invariant latents (the paper\'s lung models)', setup: (ds, seed) => inVae(ds, seed, { inject: true, latentInv: 30, invPrior: gaussian(false, false) }) },
  { name: 'inject-learned-encspur', description: 'inject-learned; the encoder reads the batch but not the label', setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false), options: { encoderCovariates: 'spurious' } }) },
  { name: 'inject-learned-encnone', description: 'inject-learned; the encoder reads the counts only', setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false), options: { encoderCovariates: 'none' } }) },
  {
    name: 'both-learned',
    description: 'batch injected and a 2-d spurious block with a batch-conditioned learned prior; invariant prior learned',
    setup: (ds, seed) => inVae(ds, seed, { inject: true, latentSpur: 2, invPrior: gaussian(false, false), spurPrior: gaussian(false, false) }),
  },
  {
    name: 'both-learned-encspur',
    description: 'both-learned; the encoder reads the batch but not the label',
    setup: (ds, seed) => inVae(ds, seed, { inject: true, latentSpur: 2, invPrior: gaussian(false, false), spurPrior: gaussian(false, false), options: { encoderCovariates: 'spurious' } }),
  },
  { name: 'inject-learned-kl2', description: 'inject-learned with the prior term weighted 2 (β = 2)', setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false), options: { klRate: 2 } }) },
  { name: 'inject-learned-kl5', description: 'inject-learned with β = 5', setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false), options: { klRate: 5 } }) },
  {
    name: 'inject-learned-kl5-warmup',
    description: 'inject-learned-kl5 (the integration preset) with a linear KL warm-up over the first quarter of the epochs',
    setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false), options: { klRate: 5 } }),
    train: (ds, seed, epochs) => ({ warmUpEpochs: Math.max(1, Math.round(epochs / 4)) }),
  },
  { name: 'inject-learned-nodrop', description: 'inject-learned without dropout', setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false), options: { dropoutRate: 0 } }) },
  { name: 'inject-learned-inv10', description: 'inject-learned plus the invariance penalty (conditional batch MMD within labels), λ = 10', setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false), options: { invariancePenalty: 10 } }) },
  { name: 'inject-learned-inv100', description: 'inject-learned plus the invariance penalty, λ = 100', setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false), options: { invariancePenalty: 100 } }) },
  { name: 'inject-learned-inv1000', description: 'inject-learned plus the invariance penalty, λ = 1000', setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false), options: { invariancePenalty: 1000 } }) },
  {
    name: 'encspur-inv100',
    description: 'inject-learned, label-free encoder, invariance penalty λ = 100',
    setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false), options: { invariancePenalty: 100, encoderCovariates: 'spurious' } }),
  },
  { name: 'encspur-kl2', description: 'inject-learned-kl2 with a label-free encoder', setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false), options: { klRate: 2, encoderCovariates: 'spurious' } }) },
  { name: 'kl2-inv100', description: 'inject-learned-kl2 plus the invariance penalty λ = 100', setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false), options: { klRate: 2, invariancePenalty: 100 } }) },
  { name: 'kl5-inv100', description: 'inject-learned, β = 5, invariance penalty λ = 100', setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false), options: { klRate: 5, invariancePenalty: 100 } }) },
  {
    name: 'encspur-kl5-inv100',
    description: 'kl5-inv100 with a label-free encoder',
    setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false), options: { klRate: 5, invariancePenalty: 100, encoderCovariates: 'spurious' } }),
  },
  {
    name: 'encspur-kl5-inv1000',
    description: 'label-free encoder, β = 5, invariance penalty λ = 1000',
    setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false), options: { klRate: 5, invariancePenalty: 1000, encoderCovariates: 'spurious' } }),
  },
  { name: 'encspur-kl5', description: 'inject-learned-kl5 with a label-free encoder', setup: (ds, seed) => inVae(ds, seed, { inject: true, invPrior: gaussian(false, false), options: { klRate: 5, encoderCovariates: 'spurious' } }) },
  { name: 'nfinvae-kl5', description: 'NFinVAE (score-matching invariant prior), batch injected, β = 5', setup: (ds, seed) => inVae(ds, seed, { model: 'NFinVAE', inject: true, options: { klRate: 5 } }) },
  { name: 'nfinvae-inject', description: 'NFinVAE (score-matching invariant prior), batch injected', setup: (ds, seed) => inVae(ds, seed, { model: 'NFinVAE', inject: true }) },
  { name: 'nfinvae', description: 'NFinVAE reference defaults (10 + 2 latents)', setup: (ds, seed) => inVae(ds, seed, { model: 'NFinVAE' }) },
];

/** The InvaeSetup of a configuration on a dataset. */
export function setupFor(config, ds, seed) {
  return config.setup(ds, seed);
}

/** Train options: 200 epochs by default (the protocol), seed, plus the configuration's own. */
export function trainOptionsFor(config, ds, seed, epochs = 200) {
  return { epochs, seed, ...(config.train ? config.train(ds, seed, epochs) : {}) };
}
