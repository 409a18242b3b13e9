import { tf } from '../tf';

/**
 * Gradients that worker threads compute while the calling thread goes on with the rest of the
 * backward pass. Inside {@link deferGradients} an operation may return gradient tensors whose
 * values are not written yet, with a job that writes them ({@link deferGradient}); {@link settle}
 * runs the job of one such tensor (the optimiser calls it before reading a gradient), and the end
 * of the scope runs every job left. Outside the scope nothing is deferred.
 *
 * Only gradients of variables that the deferring operation alone reads may be deferred: the
 * engine hands a variable's gradient straight to the caller of `tf.variableGrads`, whereas a
 * gradient flowing on through the graph would be read by other kernels before it is written.
 */

interface Job {
  /** Waits for the threads and writes the values into the tensors (skipping disposed ones). */
  readonly write: () => void;
  readonly tensors: readonly tf.Tensor[];
}

const jobs = new Map<tf.Tensor, Job>();
let depth = 0;
let scopes = 0;

/** Counts for tests: jobs registered and jobs run by {@link settle} (before the scope's end). */
export const deferredStats = { deferred: 0, settledEarly: 0 };

/**
 * Runs `fn` (a gradient computation and its use, e.g. an optimiser step) with deferral allowed;
 * every deferred gradient is written by the time it returns or throws.
 */
export function deferGradients<T>(fn: () => T): T {
  if (depth++ === 0) scopes++;
  try {
    return fn();
  } finally {
    if (--depth === 0) settleAll();
  }
}

/** Whether an operation may defer the gradients of its variables now (inside {@link deferGradients}). */
export function gradientsDeferrable(): boolean {
  return depth > 0;
}

/** A number naming the current outermost {@link deferGradients} scope (0 outside any). */
export function deferralScope(): number {
  return depth > 0 ? scopes : 0;
}

/** Registers `write` as the job that fills `tensors` (call only where {@link gradientsDeferrable}). */
export function deferGradient(tensors: readonly tf.Tensor[], write: () => void): void {
  const job: Job = { write, tensors };
  for (const t of tensors) jobs.set(t, job);
  deferredStats.deferred++;
}

/** Whether `t` is a deferred gradient not written yet (its job pending). */
export function isDeferred(t: tf.Tensor): boolean {
  return jobs.has(t);
}

function run(job: Job): void {
  for (const t of job.tensors) jobs.delete(t);
  job.write();
}

/** Writes `t`'s values if it is a deferred gradient (its whole job); nothing otherwise. */
export function settle(t: tf.Tensor): void {
  const job = jobs.get(t);
  if (!job) return;
  deferredStats.settledEarly++;
  run(job);
}

/** Runs every pending job (an operation about to reuse its threads' memory calls it first). */
export function settleAll(): void {
  const pending = new Set(jobs.values());
  for (const job of pending) run(job);
}
