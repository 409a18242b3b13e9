/**
 * @invae/core/internal — the machinery behind data-parallel training that the invae packages and worker
 * threads need but users do not: the registry of worker setups (modules every training worker imports
 * first, e.g. `@invae/priors` registering its priors), the replica factory workers build their model
 * with, and the body of a training worker. Not part of the public API: it may change in any release.
 *
 * Built as a second entry sharing its modules (code splitting) with the main entry, so state held in
 * modules — the worker-setup registry, the prior registry, the engine — is one copy for both.
 * @packageDocumentation
 */
export {
  registerWorkerSetup,
  workerSetups,
  clearWorkerSetups,
  buildReplicaFromSpec,
  specReplicaRecipe,
  type WorkerSetup,
  type SpecReplicaArgs,
} from './parallel/recipe';
export { runReplicaWorker, type ReplicaPort } from './parallel/worker-main';
export type { ReplicaInit } from './parallel/protocol';
export { setStepPath, stepPath, type StepPath } from './nn/fast-paths';
export { decoderNbTimes } from './fused/decoder-nb';
export { relaxedSimd } from './wasm/relaxed-simd';
