// Public exports of data-parallel training (worker threads). Re-exported by ../index.ts.
export { WorkerError } from './pool';
export {
  registerWorkerSetup,
  workerSetups,
  clearWorkerSetups,
  buildReplicaFromSpec,
  specReplicaRecipe,
  type ReplicaRecipe,
  type WorkerSetup,
  type SpecReplicaArgs,
} from './recipe';
export { runReplicaWorker } from './worker-main';
export type { ReplicaInit } from './protocol';
