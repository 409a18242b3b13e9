import { InvalidOptionError } from '../errors';
import { getPrior, type PriorContext, type PriorRole } from '../prior/registry';
import type { ConditionalPrior, GaussianConditionalPrior } from '../prior/types';
import { resolveModelConfig, type InvaeModelConfig } from './config';
import { InvaeModel } from './invae';

/** A prior by plugin name with its options (as saved in model files). */
export interface PriorRef {
  name: string;
  options?: Record<string, unknown>;
}

/** Everything needed to (re)build a model: its configuration and its two priors. */
export interface ModelSpec {
  config: InvaeModelConfig;
  /** Invariant prior (default: `gaussian` for FinVAE, `score-matching` for NFinVAE). */
  invPrior?: PriorRef;
  /**
   * Spurious prior (default `gaussian`; none when `injectCovarInLatent`, unless given explicitly for a
   * spurious latent block beside the injected covariates).
   */
  spurPrior?: PriorRef | null;
}

/** A {@link ModelSpec} with defaults applied and every prior's options resolved by its plugin. */
export interface ResolvedModelSpec {
  config: InvaeModelConfig;
  invPrior: Required<PriorRef> & { version?: string };
  spurPrior: (Required<PriorRef> & { version?: string }) | null;
}

function priorSeed(seed: number | undefined, role: PriorRole): number | undefined {
  return seed === undefined ? undefined : (seed + 1) * 31 + (role === 'inv' ? 1 : 2);
}

/**
 * Builds an inVAE model, resolving its priors by name in the prior registry (the built-in priors are
 * registered by `@invae/priors`). Returns the model and the resolved spec to save with it.
 * @throws PriorNotFoundError / PriorOptionError / InvalidOptionError
 */
export function buildModel(spec: ModelSpec): { model: InvaeModel; spec: ResolvedModelSpec } {
  const config = resolveModelConfig(spec.config);
  const invRef = spec.invPrior ?? { name: config.model === 'FinVAE' ? 'gaussian' : 'score-matching' };
  let spurRef = spec.spurPrior === undefined ? { name: 'gaussian' } : spec.spurPrior;
  if (config.injectCovarInLatent) {
    if (spec.spurPrior && config.latentDimSpur === 0) {
      throw new InvalidOptionError('spurPrior', 'injectCovarInLatent feeds the spurious covariates to the decoder and there is no spurious latent block for a prior to cover.', {
        hint: 'leave the spurious prior out, or give latentDimSpur > 0 for a spurious block beside the injected covariates',
      });
    }
    spurRef = spec.spurPrior ?? null;
  } else if (spurRef === null) {
    throw new InvalidOptionError('spurPrior', 'A spurious prior is required unless injectCovarInLatent is set.');
  }
  const built: ConditionalPrior[] = [];
  const make = (role: PriorRole, ref: PriorRef) => {
    const plugin = getPrior(ref.name);
    const ctx: PriorContext = {
      role,
      latentDim: role === 'inv' ? config.latentDimInv : config.latentDimSpur,
      covarDim: role === 'inv' ? config.invCovarDim : config.spurCovarDim,
      model: config,
      seed: priorSeed(config.seed, role),
    };
    const options = plugin.resolveOptions ? plugin.resolveOptions(ref.options ?? {}, ctx) : { ...(ref.options ?? {}) };
    const prior = plugin.create(ctx, options);
    built.push(prior);
    if (prior.latentDim !== ctx.latentDim) throw new InvalidOptionError(`${role}Prior`, `prior '${ref.name}' built a block of ${prior.latentDim} latents, expected ${ctx.latentDim}.`);
    return { prior, ref: { name: plugin.name, options: options as Record<string, unknown>, ...(plugin.version ? { version: plugin.version } : {}) } };
  };
  try {
    const inv = make('inv', invRef);
    const spur = spurRef ? make('spur', spurRef) : null;
    if (spur && spur.prior.family !== 'gaussian') {
      throw new InvalidOptionError('spurPrior', `prior '${spurRef!.name}' is an ${spur.prior.family} prior; the spurious block needs a Gaussian prior.`);
    }
    const model = new InvaeModel(spec.config, { inv: inv.prior, spur: (spur?.prior as GaussianConditionalPrior | undefined) ?? null });
    return { model, spec: { config: spec.config, invPrior: inv.ref, spurPrior: spur?.ref ?? null } };
  } catch (e) {
    for (const p of built) p.dispose();
    throw e;
  }
}
