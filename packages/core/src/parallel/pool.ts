import { readFileSync } from 'node:fs';
import { WorkerThread } from '@invae/common';
import { InvaeError } from '../errors';
import type { FromReplica, ReplicaInit, ToReplica } from './protocol';
import { coreEntryUrl } from './recipe';

/** A training worker failed (could not start, build its replica, or compute a step). */
export class WorkerError extends InvaeError {
  /** Replica number of the worker (1-based; the main thread is 0). */
  readonly rank: number;

  constructor(rank: number, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('WORKER_FAILED', `Training worker ${rank}: ${message}`, options);
    this.rank = rank;
  }
}

/**
 * Program of every training worker: imports @invae/core's entry in the caller's module format and hands
 * over to `runReplicaWorker` (started through @invae/common's {@link WorkerThread}, which imports the
 * optional preload modules first).
 */
const PROGRAM = `
const core = await import(workerData.entry);
const run = core.runReplicaWorker || (core.default && core.default.runReplicaWorker);
if (typeof run !== 'function') throw new Error('@invae/core entry ' + workerData.entry + ' does not export runReplicaWorker');
await run(parentPort, workerData.init);
`;

/** Modules each worker imports first: `INVAE_WORKER_IMPORTS` (comma-separated URLs), e.g. a TypeScript loader for tests. */
function preloads(): string[] {
  return (process.env.INVAE_WORKER_IMPORTS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Whether `entry` is @invae/core's own module file (its package.json one folder up). A copy of core
 * re-bundled into an application must not be imported by workers: that would run the application.
 */
function isCoreEntry(entry: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', entry), 'utf8')) as { name?: string };
    return pkg.name === '@invae/core';
  } catch {
    return false;
  }
}

/** One worker thread with an ordered mailbox of its replies. */
export class ReplicaWorker {
  private readonly thread: WorkerThread<FromReplica, ToReplica>;
  private readonly inbox: FromReplica[] = [];
  private waiting: { resolve: (m: FromReplica) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(readonly init: ReplicaInit) {
    const entry = coreEntryUrl();
    const preload = preloads();
    if (!isCoreEntry(entry)) {
      throw new WorkerError(init.rank, `@invae/core was loaded from ${entry}, not from its package files, so worker threads cannot load it.`, {
        hint: 'keep @invae/core external when bundling an application, or train with workers: 1',
      });
    }
    if (entry.endsWith('.ts') && preload.length === 0) {
      throw new WorkerError(init.rank, '@invae/core runs from its TypeScript sources, which a worker thread cannot load.', {
        hint: 'set INVAE_WORKER_IMPORTS to a module that registers a TypeScript loader, or use the built package',
      });
    }
    this.thread = WorkerThread.start<FromReplica, ToReplica>({ name: `training worker ${init.rank}`, source: PROGRAM, preload, workerData: { entry, init } });
    this.thread.onMessage((m) => {
      if (m.type === 'error') {
        this.fail(this.errorOf(m.error));
        return;
      }
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w.resolve(m);
      } else this.inbox.push(m);
    });
    this.thread.onFailure((e) => this.fail(e.exitCode !== undefined ? new WorkerError(init.rank, e.message) : this.errorOf({ name: e.workerName, message: e.message, code: e.code, hint: e.hint, stack: e.workerStack })));
  }

  /** The WorkerError for an error the worker reported (its name and message, code and hint). */
  private errorOf(error: Extract<FromReplica, { type: 'error' }>['error']): WorkerError {
    const err = new WorkerError(this.init.rank, `${error.name}: ${error.message}`, { hint: error.hint, cause: error });
    (err as { workerCode?: string }).workerCode = error.code;
    return err;
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.reject(e);
    }
  }

  /** Sends a message (no reply expected unless the protocol says so). */
  send(m: ToReplica): void {
    if (this.failure) throw this.failure;
    this.thread.post(m);
  }

  /** The next reply, which must be of type `type`. */
  async next<T extends FromReplica['type']>(type: T): Promise<Extract<FromReplica, { type: T }>> {
    if (this.failure) throw this.failure;
    const m = this.inbox.shift() ?? (await new Promise<FromReplica>((resolve, reject) => (this.waiting = { resolve, reject })));
    if (m.type !== type) throw new WorkerError(this.init.rank, `expected a '${type}' reply, got '${m.type}'.`);
    return m as Extract<FromReplica, { type: T }>;
  }

  /** Stops the thread. */
  async terminate(): Promise<void> {
    await this.thread.terminate();
  }
}
