import {
  buildModel,
  InvalidOptionError,
  loadTorchStateDict,
  readSafetensors,
  type InvaeModel,
  type InvaeModelConfig,
  type ModelSpec,
} from '@invae/core';
import { registerBuiltinPriors } from './plugins';

/** Model options plus the prior options of the reference modules. */
export interface InvaeOptions extends InvaeModelConfig {
  /** Gaussian priors (FinVAE: both; NFinVAE: the spurious one): fix the mean at 0 (default true). */
  fixMeanPrior?: boolean;
  /** Gaussian priors: fix the variance at 1 (default false). */
  fixVarPrior?: boolean;
  /** BatchNorm inside the prior networks (default false). */
  batchNormPrior?: boolean;
  /** NFinVAE: weight of the squared second-derivative regulariser of score matching (default 0). */
  regSm?: number;
  /** NFinVAE: width of T_NN(z)·λ_NN(u) (default 2 × (latentDimInv + latentDimSpur), as the reference). */
  outputDimPriorNn?: number;
  /** NFinVAE: hidden width of the prior networks (default hiddenDim). */
  hiddenDimPrior?: number;
  /** NFinVAE: layers of the prior networks (default nLayers). */
  nLayersPrior?: number;
}

/**
 * The model spec (configuration + prior plugins by name) that composes a FinVAE or NFinVAE exactly as
 * the reference module does: FinVAE gets Gaussian invariant and spurious priors (hidden width /
 * layers of the model); NFinVAE gets the score-matching invariant prior and a Gaussian spurious prior
 * (prior hidden width / layers). With `injectCovarInLatent` there is no spurious prior.
 */
export function invaeSpec(options: InvaeOptions): ModelSpec {
  const {
    fixMeanPrior,
    fixVarPrior,
    batchNormPrior,
    regSm,
    outputDimPriorNn,
    hiddenDimPrior,
    nLayersPrior,
    ...config
  } = options;
  const fin = config.model === 'FinVAE';
  const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const gaussian = defined({
    fixMean: fixMeanPrior,
    fixVar: fixVarPrior,
    batchNorm: batchNormPrior,
    hiddenDim: fin ? undefined : hiddenDimPrior,
    nLayers: fin ? undefined : nLayersPrior,
  });
  const invPrior = fin
    ? { name: 'gaussian', options: gaussian }
    : { name: 'score-matching', options: defined({ outputDim: outputDimPriorNn, hiddenDim: hiddenDimPrior, nLayers: nLayersPrior, regSm, batchNorm: batchNormPrior }) };
  return { config, invPrior, spurPrior: config.injectCovarInLatent ? null : { name: 'gaussian', options: gaussian } };
}

/** Builds a FinVAE or NFinVAE from reference-style options (see {@link invaeSpec}), registering the built-in priors. */
export function createInvae(options: InvaeOptions): InvaeModel {
  registerBuiltinPriors();
  return buildModel(invaeSpec(options)).model;
}

/** A reference-style (snake_case) configuration, e.g. the `config` of a parity fixture. */
export type ReferenceConfig = Record<string, unknown>;

/** Tensor names and shapes used to fill gaps in a reference configuration. */
export type TensorShapes = ReadonlyMap<string, readonly number[]>;

const PRIOR_NET = /^(logl_(inv|spur)|prior_mean_(inv|spur)|prior_nn_(inv|spur)|t_nn|params_t_nn|params_t_suff)\.bn\./;

/**
 * Translates a reference-style configuration (the reference module's constructor arguments in
 * snake_case, as in the parity fixtures' `config`) into {@link InvaeOptions}. Sizes missing from the
 * configuration (`data_dim`/`genes`, covariate widths, `batch_norm_prior`, prior network sizes) are
 * derived from the state-dict tensor names and shapes when given.
 * @throws InvalidOptionError when something required can be found neither in the config nor in the tensors.
 */
export function fromReferenceConfig(ref: ReferenceConfig, shapes?: TensorShapes): InvaeOptions {
  const get = <T>(...keys: string[]): T | undefined => {
    for (const k of keys) if (ref[k] !== undefined && ref[k] !== null) return ref[k] as T;
    return undefined;
  };
  const model = get<string>('model');
  if (model !== 'FinVAE' && model !== 'NFinVAE') {
    throw new InvalidOptionError('model', `reference config names model ${JSON.stringify(model)}`, { hint: "set config.model to 'FinVAE' or 'NFinVAE'" });
  }
  const shape = (name: string) => shapes?.get(name);
  const latentDimSpur = get<number>('latent_dim_spur') ?? 1;
  const latentDimInv = get<number>('latent_dim_inv') ?? (get<number>('latent_dim') !== undefined ? get<number>('latent_dim')! - latentDimSpur : undefined);
  if (latentDimInv === undefined) throw new InvalidOptionError('latent_dim_inv', 'reference config has neither latent_dim_inv nor latent_dim');
  const dataDim = get<number>('data_dim', 'genes', 'n_genes') ?? shape('decoder_raw_theta')?.[0];
  if (dataDim === undefined) throw new InvalidOptionError('data_dim', 'reference config has no data_dim (genes) and no decoder_raw_theta tensor to infer it from');
  const need = (key: string): number => {
    const v = get<number>(key);
    if (v === undefined) throw new InvalidOptionError(key, `reference config lacks ${key}`);
    return v;
  };
  const batchNormPrior = get<boolean>('batch_norm_prior') ?? (shapes ? [...shapes.keys()].some((k) => PRIOR_NET.test(k)) : false);
  const opts: InvaeOptions = {
    model,
    dataDim,
    invCovarDim: need('inv_covar_dim'),
    spurCovarDim: need('spur_covar_dim'),
    latentDimInv,
    latentDimSpur,
    nLayers: get('n_layers'),
    hiddenDim: get('hidden_dim'),
    activation: get('activation'),
    slope: get('slope'),
    batchNorm: get('batch_norm'),
    dropoutRate: get('dropout_rate', 'dropout'),
    decoderDist: get('decoder_dist'),
    injectCovarInLatent: get('inject_covar_in_latent'),
    elboVersion: get('elbo_version'),
    klRate: model === 'FinVAE' ? get('kl_rate') : undefined,
    tcBeta: get('tc_beta'),
    normalizeConstant: get('normalize_constant'),
    fixMeanPrior: get(model === 'FinVAE' ? 'fix_mean_prior' : 'fix_mean_spur_prior'),
    fixVarPrior: get(model === 'FinVAE' ? 'fix_var_prior' : 'fix_var_spur_prior'),
    batchNormPrior,
    regSm: get('reg_sm'),
    outputDimPriorNn: get('output_dim_prior_nn'),
    hiddenDimPrior: get('hidden_dim_prior'),
    nLayersPrior: get('n_layers_prior'),
  };
  // NFinVAE prior sizes not in the config: read them off the tensors when available
  if (model === 'NFinVAE' && shapes) {
    const tLayers = [...shapes.keys()].filter((k) => /^t_nn\.fc\.\d+\.weight$/.test(k)).length;
    if (opts.nLayersPrior === undefined && tLayers > 0) opts.nLayersPrior = tLayers;
    const last = tLayers > 0 ? shape(`t_nn.fc.${tLayers - 1}.weight`) : undefined;
    if (opts.outputDimPriorNn === undefined && last) opts.outputDimPriorNn = last[0];
    const first = shape('t_nn.fc.0.weight');
    if (opts.hiddenDimPrior === undefined && first && tLayers > 1) opts.hiddenDimPrior = first[0];
  }
  for (const k of Object.keys(opts) as (keyof InvaeOptions)[]) if (opts[k] === undefined) delete opts[k];
  return opts;
}

/**
 * Builds the model a reference configuration describes and loads a PyTorch `state_dict()` saved as
 * safetensors (reference names, Linear weights `[out, in]`) into it.
 * @throws SafetensorsFormatError / WeightMismatchError / InvalidOptionError with what does not fit.
 */
export async function importTorchStateDict(safetensorsPath: string, config: ReferenceConfig): Promise<InvaeModel> {
  const contents = await readSafetensors(safetensorsPath);
  const shapes = new Map([...contents.tensors].map(([k, t]) => [k, t.shape] as const));
  const model = createInvae(fromReferenceConfig(config, shapes));
  try {
    await loadTorchStateDict(model, safetensorsPath);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
