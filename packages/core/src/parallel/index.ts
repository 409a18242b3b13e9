// Public exports of data-parallel training (worker threads). Re-exported by ../index.ts; the machinery
// the workers and the CLI/plugins use (worker setups, the replica factory, the worker body) is in
// ../internal.ts (`@invae/core/internal`).
export { WorkerError } from './pool';
export type { ReplicaRecipe } from './recipe';
