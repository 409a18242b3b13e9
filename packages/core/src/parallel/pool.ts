import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
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
 * Code of every worker thread: imports the optional preload modules (`INVAE_WORKER_IMPORTS`), then
 * @invae/core's entry in the caller's module format, and hands over to `runReplicaWorker`. Evaluated
 * from a string, so no separate worker file has to be found next to the bundle.
 */
const BOOTSTRAP = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  for (const m of workerData.preload) await import(m);
  const core = await import(workerData.entry);
  const run = core.runReplicaWorker || (core.default && core.default.runReplicaWorker);
  if (typeof run !== 'function') throw new Error('@invae/core entry ' + workerData.entry + ' does not export runReplicaWorker');
  await run(parentPort, workerData.init);
})().catch((e) => parentPort.postMessage({ type: 'error', error: { name: (e && e.name) || 'Error', message: String((e && e.message) || e), code: e && e.code, hint: e && e.hint, stack: e && e.stack } }));
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
  private readonly worker: Worker;
  private readonly inbox: FromReplica[] = [];
  private waiting: { resolve: (m: FromReplica) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private terminated = false;

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
    this.worker = new Worker(BOOTSTRAP, { eval: true, workerData: { entry, preload, init } });
    this.worker.on('message', (m: FromReplica) => {
      if (m.type === 'error') {
        const err = new WorkerError(init.rank, `${m.error.name}: ${m.error.message}`, { hint: m.error.hint, cause: m.error });
        (err as { workerCode?: string }).workerCode = m.error.code;
        this.fail(err);
        return;
      }
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w.resolve(m);
      } else this.inbox.push(m);
    });
    this.worker.on('error', (e) => this.fail(new WorkerError(init.rank, e.message, { cause: e })));
    this.worker.on('exit', (code) => {
      if (!this.terminated) this.fail(new WorkerError(init.rank, `the worker thread exited (code ${code}).`));
    });
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
    this.worker.postMessage(m);
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
    if (this.terminated) return;
    this.terminated = true;
    await this.worker.terminate();
  }
}
