import type { ReplicaRecipe } from './recipe';

/** Everything a training worker needs to start (sent as `workerData`). */
export interface ReplicaInit {
  /** Replica number (1..replicas−1; the main thread is replica 0). */
  rank: number;
  /** Engine request of the main thread's engine (`wasm`, `cpu`, `tensorflow`). */
  engine: string;
  recipe: ReplicaRecipe;
  /** Names and shapes of the model's variables, in `namedVariables()` order. */
  names: string[];
  shapes: number[][];
  trainable: boolean[];
  /** Adam hyper-parameters. */
  learningRate: number;
  weightDecay: number;
  /** Widths of a row of counts and of the covariates. */
  nCols: number;
  invCols: number;
  spurCols: number;
  /** Number of cells of the training set (the TC estimator's N). */
  datasetSize: number;
  /** Worker-owned input rows (counts then covariates), written by the main thread before `step`. */
  input: SharedArrayBuffer;
  /** Worker-owned output: gradients after `step`, non-trainable values after `stats`. */
  output: SharedArrayBuffer;
  /** Read-only for workers: averaged gradients at `apply`, all weights at start and at `load`. */
  shared: SharedArrayBuffer;
}

/** Main thread → worker. */
export type ToReplica =
  | { type: 'step'; rows: number; seed: number; iteration: number; warmUpIterations: number }
  | { type: 'apply'; learningRate: number }
  | { type: 'stats' }
  | { type: 'load' };

/** Worker → main thread. */
export type FromReplica =
  | { type: 'ready' }
  | { type: 'stepped'; loss: number; terms: Record<string, number> }
  | { type: 'applied' }
  | { type: 'stats' }
  | { type: 'loaded' }
  | { type: 'error'; error: { name: string; message: string; code?: string; hint?: string; stack?: string } };
