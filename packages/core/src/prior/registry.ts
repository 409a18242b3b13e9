import { InvaeError, InvalidOptionError } from '../errors';
import type { ResolvedInvaeModelConfig } from '../module/config';
import type { ConditionalPrior } from './types';
import type { CovariateSpec } from '../covariates/composite';
import type { CovariateColumn } from '../covariates/column';
import type { CountMatrix } from '../data/matrix';
import type { DecoderPathsConfig } from '../module/decoder-paths';

/** Which latent block a prior is built for. */
export type PriorRole = 'inv' | 'spur';

/** What a prior plugin knows when it builds a prior for a model. */
export interface PriorContext {
  /** Invariant or spurious block. */
  readonly role: PriorRole;
  /** Width of the latent block. */
  readonly latentDim: number;
  /** Width of the encoded covariates the prior is conditioned on (0 = none). */
  readonly covarDim: number;
  /** The model's resolved configuration (hidden width, layers, activation, …). */
  readonly model: ResolvedInvaeModelConfig;
  /** Seed for the prior's initialisation (undefined = unseeded). */
  readonly seed?: number;
}

/**
 * A conditional prior plugin: a named factory of {@link ConditionalPrior}s. Built-in priors
 * (`gaussian`, `score-matching`) are plugins like any other; register third-party ones with
 * {@link registerPrior}.
 */
export interface PriorPlugin<O extends object = Record<string, unknown>> {
  /** Unique name, used in model files and on the command line. */
  readonly name: string;
  /** Plugin version (recorded in model files). */
  readonly version?: string;
  /** `gaussian` (usable by FinVAE and as spurious prior) or `energy` (NFinVAE's invariant prior). */
  readonly family: 'gaussian' | 'energy';
  /** One sentence for listings. */
  readonly description?: string;
  /**
   * Validates user options and fills in defaults; throw {@link PriorOptionError} naming the option.
   * The result must be JSON-serialisable: it is saved with the model and passed to `create` on load.
   */
  resolveOptions?(options: Readonly<Record<string, unknown>>, context: PriorContext): O;
  /** Builds the prior. */
  create(context: PriorContext, options: O): ConditionalPrior;
  /**
   * Optional: which obs columns this prior is conditioned on and how they are encoded, derived from
   * the user's options (before `resolveOptions`, since the encoding decides `covarDim`). Tools use it
   * as the covariate spec of the block when the user names no covariates themselves (see
   * {@link priorCovariates}); a plugin without it is conditioned on whatever spec the user gives.
   * Throw {@link PriorOptionError} naming the option when the options cannot be turned into a spec.
   */
  covariates?(options: Readonly<Record<string, unknown>>, role: PriorRole): CovariateSpec;
  /**
   * Optional: per-cell columns this prior computes from the data itself (e.g. gene-program scores
   * from the counts), added to obs before the covariates are encoded — for training and for every
   * dataset embedded or predicted later. Must depend only on the data and the (saved) options.
   */
  deriveColumns?(data: DerivationInput, options: Readonly<Record<string, unknown>>): Record<string, CovariateColumn>;
  /**
   * Optional: dedicated invariant latent dimensions with masked decoder paths (expiMap-style) that
   * this prior asks for, given the user's options and the training genes — e.g. one dimension per
   * gene program whose mask is the program's genes. Return `{ genes, names }` (gene indices into
   * `geneNames` per dimension; see {@link DecoderPathsConfig}) or null for none. Asked of the
   * invariant prior only, when a model is set up on data ({@link priorDecoderPaths}); the answer is
   * stored in the model configuration (`decoderPaths`), so loading a model does not ask again.
   */
  decoderPaths?(options: Readonly<Record<string, unknown>>, data: { geneNames: readonly string[] }): DecoderPathsConfig | null | undefined;
  /**
   * Optional: reads `options` once and returns the hooks above with the options already applied
   * (e.g. a parsed gene-program scorer), so that tools asking a prior several times (its covariates,
   * derived columns, decoder paths) do not parse its options again each time (see {@link bindPrior}).
   * A hook the result leaves out falls back to the plugin's own hook with the options. Plugins
   * without `bind` work unchanged.
   */
  bind?(options: Readonly<Record<string, unknown>>): PriorHooks;
}

/** The data-facing hooks of a prior plugin with its options applied (see {@link PriorPlugin.bind}). */
export interface PriorHooks {
  /** As {@link PriorPlugin.covariates}, for the bound options. */
  covariates?(role: PriorRole): CovariateSpec;
  /** As {@link PriorPlugin.deriveColumns}, for the bound options. */
  deriveColumns?(data: DerivationInput): Record<string, CovariateColumn>;
  /** As {@link PriorPlugin.decoderPaths}, for the bound options. */
  decoderPaths?(data: { geneNames: readonly string[] }): DecoderPathsConfig | null | undefined;
}

/** A prior plugin bound to one set of options: its hooks without re-reading the options (see {@link bindPrior}). */
export interface BoundPrior {
  /** The plugin. */
  readonly plugin: PriorPlugin<object>;
  /** The options it is bound to. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Whether the plugin derives obs columns from the data. */
  readonly derives: boolean;
  /** The covariate spec the plugin declares for these options, or undefined when it declares none. */
  covariates(role: PriorRole): CovariateSpec | undefined;
  /**
   * The columns the plugin derives from `data` (empty when it derives none). Computed once per
   * dataset and binding: a later call with the same counts, gene names and obs returns the same columns.
   */
  deriveColumns(data: DerivationInput): Record<string, CovariateColumn>;
  /** The masked decoder paths the plugin asks for on data with these genes, or null. */
  decoderPaths(data: { geneNames: readonly string[] }): DecoderPathsConfig | null;
}

/** What {@link PriorPlugin.deriveColumns} reads: the counts, the gene names and the existing obs columns. */
export interface DerivationInput {
  counts: CountMatrix;
  geneNames: readonly string[];
  obs: Readonly<Record<string, CovariateColumn | undefined>>;
}

/**
 * Obs columns derived by the priors `refs` (see {@link PriorPlugin.deriveColumns}); empty when no
 * prior derives any. Columns already in `data.obs` are replaced.
 */
export function derivedColumns(data: DerivationInput, refs: readonly ({ name: string; options?: Readonly<Record<string, unknown>> } | null | undefined)[]): Record<string, CovariateColumn> {
  const out: Record<string, CovariateColumn> = {};
  for (const ref of refs) {
    if (!ref) continue;
    const bound = bindPriorRef(ref);
    if (bound.derives) Object.assign(out, bound.deriveColumns(data));
  }
  return out;
}

const NO_OPTIONS: Readonly<Record<string, unknown>> = Object.freeze({});
/** Bindings by options object, then plugin: an options object (e.g. a model's saved prior options) is read once. */
const bindings = new WeakMap<object, Map<PriorPlugin<object>, BoundPrior>>();

/**
 * `plugin` bound to `options`: its covariate, derivation and decoder-path hooks with the options read
 * once (by the plugin's {@link PriorPlugin.bind} where it has one), and the derived columns of each
 * dataset computed once. Bindings are kept per options object (as long as that object lives), so
 * every caller holding the same options (a model's spec) shares one. Options are not to be mutated
 * after binding.
 * @throws the plugin's PriorOptionError (from `bind`) when the options cannot be read.
 */
export function bindPrior(plugin: PriorPlugin<object>, options: Readonly<Record<string, unknown>> = NO_OPTIONS): BoundPrior {
  let byPlugin = bindings.get(options);
  const cached = byPlugin?.get(plugin);
  if (cached) return cached;
  const hooks: PriorHooks = typeof plugin.bind === 'function' ? plugin.bind(options) : {};
  const derived = new WeakMap<object, { geneNames: readonly string[]; obs: DerivationInput['obs']; columns: Record<string, CovariateColumn> }>();
  const derive = hooks.deriveColumns ?? (typeof plugin.deriveColumns === 'function' ? (d: DerivationInput) => plugin.deriveColumns!(d, options) : null);
  const covariates = hooks.covariates ?? (typeof plugin.covariates === 'function' ? (role: PriorRole) => plugin.covariates!(options, role) : null);
  const paths = hooks.decoderPaths ?? (typeof plugin.decoderPaths === 'function' ? (d: { geneNames: readonly string[] }) => plugin.decoderPaths!(options, d) : null);
  const bound: BoundPrior = {
    plugin,
    options,
    derives: derive !== null,
    covariates: (role) => (covariates ? covariates(role) : undefined),
    deriveColumns(data) {
      if (!derive) return {};
      const hit = derived.get(data.counts);
      if (hit && hit.geneNames === data.geneNames && hit.obs === data.obs) return hit.columns;
      const columns = derive(data);
      derived.set(data.counts, { geneNames: data.geneNames, obs: data.obs, columns });
      return columns;
    },
    decoderPaths: (data) => (paths ? (paths(data) ?? null) : null),
  };
  if (!byPlugin) {
    byPlugin = new Map();
    bindings.set(options, byPlugin);
  }
  byPlugin.set(plugin, bound);
  return bound;
}

/** {@link bindPrior} for a registered prior by reference. @throws PriorNotFoundError */
export function bindPriorRef(ref: { name: string; options?: Readonly<Record<string, unknown>> }): BoundPrior {
  return bindPrior(getPrior(ref.name), ref.options ?? NO_OPTIONS);
}

/** A prior plugin option is invalid. */
export class PriorOptionError extends InvalidOptionError {
  /** The plugin's name. */
  readonly plugin: string;

  constructor(plugin: string, option: string, message: string, options: { hint?: string } = {}) {
    super(option, `prior '${plugin}', option '${option}': ${message}`, options);
    this.plugin = plugin;
  }
}

/** No prior plugin of that name is registered. */
export class PriorNotFoundError extends InvaeError {
  /** The name asked for. */
  readonly prior: string;

  constructor(name: string, known: readonly string[]) {
    super('PRIOR_NOT_FOUND', `No prior named '${name}' is registered (known: ${known.length ? known.join(', ') : 'none'}).`, {
      hint: known.length ? 'check the spelling, or register the plugin with registerPrior()' : "import '@invae/priors' (it registers the built-in priors) or register a plugin with registerPrior()",
    });
    this.prior = name;
  }
}

const registry = new Map<string, PriorPlugin<object>>();

/**
 * Registers a prior plugin under its name. Registering a different plugin under a taken name is an
 * error unless `replace` is set; registering the same object again is a no-op.
 */
export function registerPrior<O extends object>(plugin: PriorPlugin<O>, options: { replace?: boolean } = {}): void {
  if (!plugin || typeof plugin.name !== 'string' || !/^[A-Za-z0-9@._/-]+$/.test(plugin.name)) {
    throw new InvalidOptionError('plugin.name', `A prior plugin needs a name of letters, digits and . _ - / @, got ${JSON.stringify(plugin?.name)}.`);
  }
  if (typeof plugin.create !== 'function') throw new InvalidOptionError('plugin.create', `Prior plugin '${plugin.name}' has no create() function.`);
  if (plugin.family !== 'gaussian' && plugin.family !== 'energy') {
    throw new InvalidOptionError('plugin.family', `Prior plugin '${plugin.name}' has family ${JSON.stringify(plugin.family)}; expected 'gaussian' or 'energy'.`);
  }
  const existing = registry.get(plugin.name);
  if (existing === (plugin as PriorPlugin<object>)) return;
  if (existing && !options.replace) {
    throw new InvalidOptionError('plugin.name', `A different prior named '${plugin.name}' is already registered.`, { hint: 'pick another name, or pass { replace: true }' });
  }
  registry.set(plugin.name, plugin as PriorPlugin<object>);
}

/** Removes a plugin (mainly for tests). Returns whether it was registered. */
export function unregisterPrior(name: string): boolean {
  return registry.delete(name);
}

/** The plugin registered under `name`. @throws PriorNotFoundError */
export function getPrior(name: string): PriorPlugin<object> {
  const p = registry.get(name);
  if (!p) throw new PriorNotFoundError(name, [...registry.keys()]);
  return p;
}

/** The registered plugins, in registration order. */
export function listPriors(): PriorPlugin<object>[] {
  return [...registry.values()];
}

/**
 * The covariate spec a registered prior declares for its options (its {@link PriorPlugin.covariates}),
 * or undefined when the plugin declares none.
 * @throws PriorNotFoundError, or the plugin's PriorOptionError.
 */
export function priorCovariates(ref: { name: string; options?: Readonly<Record<string, unknown>> }, role: PriorRole): CovariateSpec | undefined {
  return bindPriorRef(ref).covariates(role);
}

/**
 * The masked decoder paths a registered prior asks for (its {@link PriorPlugin.decoderPaths}) on
 * data with these genes, or null when it asks for none.
 * @throws PriorNotFoundError, or the plugin's PriorOptionError.
 */
export function priorDecoderPaths(ref: { name: string; options?: Readonly<Record<string, unknown>> }, data: { geneNames: readonly string[] }): DecoderPathsConfig | null {
  return bindPriorRef(ref).decoderPaths(data);
}
