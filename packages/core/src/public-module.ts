// Public exports of the module part of @invae/core — what scvi-tools calls the module: layers,
// likelihoods, the priors' interface, the FinVAE/NFinVAE networks and losses, parity import.
// Re-exported by index.ts.
export { lgamma } from './likelihoods/lgamma';
export { logNbPositive, type LogNbOptions } from './likelihoods/negative-binomial';
export { normalLogPdf, normalKl } from './likelihoods/normal';
export { Linear } from './nn/linear';
export { BatchNorm1d, type BatchNormResult } from './nn/batchnorm';
export { MLP, withDropoutSeed, type Activation, type MLPOptions, type MLPForwardOptions, type MLPLayerTrace, type MLPTrace } from './nn/mlp';
export { SeedStream, detach, prefixed, type NamedVariable, type HasVariables } from './nn/variables';
export type {
  PriorCallOptions,
  GaussianPriorParams,
  ConditionalPriorBase,
  GaussianConditionalPrior,
  EnergyConditionalPrior,
  ConditionalPrior,
} from './prior/types';
export { resolveModelConfig, type InvaeModelConfig, type InvaeModelKind, type ResolvedInvaeModelConfig } from './module/config';
export { resolveDecoderPaths, type DecoderPathsConfig, type ResolvedDecoderPaths } from './module/decoder-paths';
export { GaussianEncoder, Decoder, REFERENCE_DEFAULT_SLOPE, type EncoderOutput, type DecoderOutput } from './module/networks';
export {
  InvaeModel,
  type InvaePriors,
  type ForwardOptions,
  type ForwardResult,
  type LossOptions,
  type LossResult,
  type LatentPart,
} from './module/invae';
export { SafetensorsFormatError, WeightMismatchError, InputShapeError } from './module/errors';
export {
  parseSafetensors,
  readSafetensors,
  openSafetensors,
  serializeSafetensors,
  writeSafetensors,
  type SafetensorsDtype,
  type SafetensorsData,
  type SafetensorsTensor,
  type SafetensorsContents,
  type SafetensorsInput,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type SafetensorsFile,
} from './io/safetensors';
export { loadTorchStateDict, stateDictTensors } from './parity/torch-state-dict';
