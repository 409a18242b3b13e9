import { PRESETS, type PresetName } from './presets';
import { InvalidOptionError } from '../errors';
import { ManifestChecker } from '../persist/manifest';
import { ModelFormatError } from '../persist/errors';
import type { ModelManifest } from '../persist/model-dir';
import { resolveModelConfig, type InvaeModelConfig, type ResolvedInvaeModelConfig } from '../module/config';
import { networkWeightShapes } from '../module/networks';
import { mlpWeightShapes } from '../nn/mlp';
import type { ResolvedModelSpec } from '../module/build';
import type { CovariateEncoderState } from '../covariates/composite';
import type { PredictorState } from '../predict/types';

/** Plausible upper bounds of a saved model's sizes (far above any real model, far below what breaks the engine). */
const LIMITS = {
  genes: 10_000_000,
  covariates: 1_000_000,
  latent: 100_000,
  hidden: 1_000_000,
  layers: 1_000,
  classes: 1_000_000,
} as const;

/** The workflow sections of a model directory's `model.json`, checked. */
export interface WorkflowManifest {
  spec: ResolvedModelSpec;
  config: ResolvedInvaeModelConfig;
  /** `spurQuery`: the spurious categories a query mapping added (`Invae.map`), absent for a reference model. */
  covariates: { inv: CovariateEncoderState; spur: CovariateEncoderState; spurQuery?: CovariateEncoderState };
  layer: string | null;
  predictor: { labelKey: string; state: PredictorState } | null;
  /** The preset the model was set up with (absent in models saved before presets). */
  preset?: PresetName;
}

/**
 * Checks the workflow sections of a manifest field by field (model options, prior references,
 * covariate encoders, layer, predictor), that the model options are consistent with the gene list,
 * and that the encoder and decoder shapes the options imply are those of the weights the manifest
 * lists (already matched against the weights file's header). Nothing is allocated.
 * @throws ModelFormatError naming the field, e.g. `model.json: model.config.hiddenDim must be a positive integer, got "abc"`.
 */
export function checkWorkflowManifest(manifest: ModelManifest, dir: string, workflowVersion: number): WorkflowManifest {
  const check = new ManifestChecker(dir);
  const extra = check.object('extra', manifest.extra);
  if (extra.workflowVersion !== workflowVersion || extra.covariates === undefined || (manifest.model as { config?: unknown }).config === undefined) {
    throw new ModelFormatError(dir, 'model.json lacks the workflow sections (config, covariates) of an invae model', { hint: 'save it with Invae.save / invae train' });
  }
  const spec = check.object('model', manifest.model);
  const raw = check.object('model.config', spec.config);
  const f = (k: string) => `model.config.${k}`;
  check.oneOf(f('model'), raw.model, ['FinVAE', 'NFinVAE'] as const);
  const dataDim = check.integer(f('dataDim'), raw.dataDim, 1, LIMITS.genes);
  if (dataDim !== manifest.geneNames.length) check.fail(f('dataDim'), `is ${dataDim} but geneNames lists ${manifest.geneNames.length} genes`);
  check.integer(f('invCovarDim'), raw.invCovarDim, 0, LIMITS.covariates);
  check.integer(f('spurCovarDim'), raw.spurCovarDim, 0, LIMITS.covariates);
  check.integer(f('latentDimInv'), raw.latentDimInv, 1, LIMITS.latent);
  check.integer(f('latentDimSpur'), raw.latentDimSpur, 0, LIMITS.latent);
  const optional = (k: string, fn: (field: string, v: unknown) => unknown) => {
    if (raw[k] !== undefined) fn(f(k), raw[k]);
  };
  optional('spurQueryDim', (k, v) => check.integer(k, v, 0, LIMITS.covariates));
  optional('nLayers', (k, v) => check.integer(k, v, 1, LIMITS.layers));
  optional('hiddenDim', (k, v) => check.integer(k, v, 1, LIMITS.hidden));
  optional('activation', (k, v) => check.oneOf(k, v, ['relu', 'lrelu'] as const));
  optional('slope', (k, v) => check.number(k, v, 0));
  optional('batchNorm', (k, v) => check.boolean(k, v));
  optional('dropoutRate', (k, v) => check.number(k, v, 0, 0.999999));
  optional('decoderDist', (k, v) => check.oneOf(k, v, ['nb', 'normal'] as const));
  optional('injectCovarInLatent', (k, v) => check.boolean(k, v));
  optional('encoderCovariates', (k, v) => check.oneOf(k, v, ['all', 'spurious', 'none'] as const));
  optional('invariancePenalty', (k, v) => check.number(k, v, 0));
  optional('elboVersion', (k, v) => check.oneOf(k, v, ['sample', 'kl_div'] as const));
  optional('klRate', (k, v) => check.number(k, v, 0));
  optional('tcBeta', (k, v) => check.number(k, v, 0));
  optional('normalizeConstant', (k, v) => check.number(k, v, Number.MIN_VALUE));
  optional('seed', (k, v) => check.number(k, v));
  if (raw.decoderPaths !== undefined && raw.decoderPaths !== null) check.object(f('decoderPaths'), raw.decoderPaths);
  let config: ResolvedInvaeModelConfig;
  try {
    config = resolveModelConfig(raw as unknown as InvaeModelConfig);
  } catch (e) {
    if (e instanceof InvalidOptionError) check.fail(f(e.option), `is invalid: ${e.message}`);
    throw e;
  }
  const prior = (field: string, v: unknown) => {
    const p = check.object(field, v);
    check.string(`${field}.name`, p.name);
    if (p.options !== undefined) check.object(`${field}.options`, p.options);
    if (p.version !== undefined) check.string(`${field}.version`, p.version);
  };
  prior('model.invPrior', spec.invPrior);
  if (spec.spurPrior !== null) prior('model.spurPrior', spec.spurPrior);
  if (spec.spurPrior === null && !config.injectCovarInLatent) check.fail('model.spurPrior', 'is null, but a model without injectCovarInLatent needs a spurious prior');
  if (spec.spurPrior !== null && config.injectCovarInLatent && config.latentDimSpur === 0) {
    check.fail('model.spurPrior', 'must be null when injectCovarInLatent is set and there is no spurious latent block');
  }

  // the encoder and decoder shapes the options imply must be the saved weights' (checked before anything is built)
  for (const [name, shape] of networkWeightShapes(config)) {
    const saved = manifest.weights[name];
    if (!saved) check.fail('model.config', `implies the weight '${name}' of shape [${shape.join(', ')}], which weights.safetensors lacks`);
    if (saved.join(',') !== shape.join(',')) {
      check.fail('model.config', `implies the weight '${name}' of shape [${shape.join(', ')}], but weights.safetensors holds [${saved.join(', ')}] (latent, hidden or covariate sizes were changed)`);
    }
  }

  const cov = check.object('extra.covariates', extra.covariates);
  for (const role of ['inv', 'spur', 'spurQuery'] as const) {
    if (role === 'spurQuery' && cov[role] === undefined) continue;
    const s = check.object(`extra.covariates.${role}`, cov[role]);
    check.array(`extra.covariates.${role}.encoders`, s.encoders);
  }
  const layer = extra.layer === undefined || extra.layer === null ? null : check.string('extra.layer', extra.layer);
  const preset = extra.preset === undefined ? undefined : check.oneOf('extra.preset', extra.preset, Object.keys(PRESETS) as PresetName[]);
  if (extra.training !== undefined && extra.training !== null) check.object('extra.training', extra.training);
  let predictor: WorkflowManifest['predictor'] = null;
  if (extra.predictor !== undefined && extra.predictor !== null) {
    const p = check.object('extra.predictor', extra.predictor);
    const labelKey = check.string('extra.predictor.labelKey', p.labelKey);
    checkPredictorState(check, 'extra.predictor.state', p.state, config.latentDimInv);
    predictor = { labelKey, state: p.state as PredictorState };
  }
  return {
    spec: spec as unknown as ResolvedModelSpec,
    config,
    covariates: cov as unknown as WorkflowManifest['covariates'],
    layer,
    predictor,
    ...(preset ? { preset } : {}),
  };
}

/** Checks a saved predictor's state: kind, classes, sizes that fit `latentDim`, finite values. */
function checkPredictorState(check: ManifestChecker, field: string, value: unknown, latentDim: number): void {
  const s = check.object(field, value);
  const kind = check.oneOf(`${field}.kind`, s.kind, ['linear', 'knn', 'environment'] as const);
  const classes = check.strings(`${field}.classes`, s.classes);
  if (classes.length < 1 || classes.length > LIMITS.classes) check.fail(`${field}.classes`, `has ${classes.length} classes`);
  const k = classes.length;
  if (kind === 'linear' || kind === 'knn') {
    const dims = check.integer(`${field}.dims`, s.dims, 1, LIMITS.latent);
    if (dims !== latentDim) check.fail(`${field}.dims`, `is ${dims}, but the model has ${latentDim} invariant latent dimensions`);
    if (kind === 'linear') {
      check.finiteNumbers(`${field}.weight`, s.weight, dims * k);
      check.finiteNumbers(`${field}.bias`, s.bias, k);
    } else {
      const targets = check.array(`${field}.targets`, s.targets);
      targets.forEach((t, i) => check.integer(`${field}.targets[${i}]`, t, 0, k - 1));
      check.finiteNumbers(`${field}.latent`, s.latent, targets.length * dims);
      check.integer(`${field}.k`, s.k, 1, Math.max(1, targets.length));
    }
    return;
  }
  const arch = check.object(`${field}.architecture`, s.architecture);
  const inputDim = check.integer(`${field}.architecture.inputDim`, arch.inputDim, 1, LIMITS.latent);
  if (inputDim !== latentDim) check.fail(`${field}.architecture.inputDim`, `is ${inputDim}, but the model has ${latentDim} invariant latent dimensions`);
  const hiddenDim = check.integer(`${field}.architecture.hiddenDim`, arch.hiddenDim, 1, LIMITS.hidden);
  const nLayers = check.integer(`${field}.architecture.nLayers`, arch.nLayers, 1, LIMITS.layers);
  const activation = check.oneOf(`${field}.architecture.activation`, arch.activation, ['relu', 'lrelu'] as const);
  const weights = check.object(`${field}.weights`, s.weights);
  // the shapes the architecture implies must be the saved ones, before the classifier is built
  for (const [name, shape] of mlpWeightShapes({ inputDim, outputDim: k, hiddenDim, nLayers, activation })) {
    const wf = `${field}.weights[${JSON.stringify(name)}]`;
    const w = check.object(wf, weights[name]);
    const saved = check.array(`${wf}.shape`, w.shape, 8);
    if (saved.join(',') !== shape.join(',')) check.fail(`${wf}.shape`, `is [${saved.join(', ')}], but the architecture implies [${shape.join(', ')}]`);
    check.finiteNumbers(`${wf}.values`, w.values, shape.reduce((a, b) => a * b, 1));
  }
}
