/**
 * The one way invae starts worker threads. A thread runs a program given as JavaScript source text
 * (evaluated, so no separate worker file has to be found beside an ESM or CommonJS bundle); a program
 * that needs a package's code imports that package's entry module by URL (the caller passes the URL of
 * the module file it was itself loaded from, so the thread loads the same build, ESM or CommonJS).
 *
 * What every thread gets: the message protocol (`post`, `onMessage`, optionally a synchronous reply
 * channel), error propagation (an exception the program throws, an error it reports, or an unexpected
 * exit ends the thread's life as one {@link WorkerThreadError} carrying the worker's own message),
 * idempotent termination, and `ref`/`unref` so helper threads never keep the process alive.
 */
import { MessageChannel, isMainThread, receiveMessageOnPort, Worker, type MessagePort, type Transferable } from 'node:worker_threads';

/** True on the process's main thread, false inside a worker thread (e.g. to size nested thread pools). */
export function onMainThread(): boolean {
  return isMainThread;
}

/** Tag of the message a thread's program posts to report a failure (see `reportError`). */
const FAILURE_TAG = '__invaeWorkerFailure';

/** Options of {@link WorkerThread.start}. */
export interface WorkerThreadOptions {
  /** Name of the thread in error messages (e.g. 'HDF5 metadata scan'). */
  name: string;
  /**
   * The thread's program: JavaScript source run inside an async function of a CommonJS script, with
   * `require`, `parentPort`, `workerData` (the option below), `replyPort` (with `syncReplies`) and
   * `reportError(error)` (ends the thread's life with that error on the main side) in scope. A
   * rejection or exception thrown by the program is reported the same way.
   */
  source: string;
  /** Modules (URLs or specifiers) the thread imports, in order, before the program runs (e.g. a TypeScript loader). */
  preload?: readonly string[];
  /** Data cloned into the thread as `workerData`. */
  workerData?: unknown;
  /** Objects transferred with `workerData` (ports, buffers). */
  transferList?: readonly Transferable[];
  /** Let the process exit while the thread lives (helper threads); default false. */
  unref?: boolean;
  /** Keep the thread's stdout/stderr from the process's (its output is dropped); default false. */
  quiet?: boolean;
  /**
   * Open a second channel whose messages the main thread can take synchronously with
   * {@link WorkerThread.receiveSync} (the program posts on `replyPort`); for callers that block on
   * shared memory rather than returning to the event loop.
   */
  syncReplies?: boolean;
}

/** What a thread reported when it failed (plain data, as it crosses the thread boundary). */
interface FailurePayload {
  name?: string;
  message?: string;
  code?: string;
  hint?: string;
  stack?: string;
}

/** A worker thread failed: its program threw or reported an error, it could not start, or it exited unexpectedly. */
export class WorkerThreadError extends Error {
  /** The thread's name ({@link WorkerThreadOptions.name}). */
  readonly thread: string;
  /** Name of the error raised inside the thread ('Error', 'TypeError', an invae error class…); 'Exit' for an unexpected exit. */
  readonly workerName: string;
  /** `code` of the error raised inside the thread, if it had one. */
  readonly code?: string;
  /** `hint` of the error raised inside the thread, if it had one. */
  readonly hint?: string;
  /** Stack of the error inside the thread. */
  readonly workerStack?: string;
  /** Exit code, when the thread exited without being terminated. */
  readonly exitCode?: number;

  constructor(thread: string, payload: FailurePayload, exitCode?: number) {
    super(payload.message ?? 'unknown error');
    this.name = 'WorkerThreadError';
    this.thread = thread;
    this.workerName = payload.name ?? 'Error';
    if (payload.code !== undefined) this.code = payload.code;
    if (payload.hint !== undefined) this.hint = payload.hint;
    if (payload.stack !== undefined) this.workerStack = payload.stack;
    if (exitCode !== undefined) this.exitCode = exitCode;
  }
}

function programOf(o: WorkerThreadOptions): string {
  return `'use strict';
const { parentPort, workerData: __invaeThread } = require('node:worker_threads');
const workerData = __invaeThread.data;
const replyPort = __invaeThread.replyPort;
function reportError(e) {
  parentPort.postMessage({ ${FAILURE_TAG}: { name: (e && e.name) || 'Error', message: String((e && e.message) || e), code: e && e.code, hint: e && e.hint, stack: e && e.stack } });
}
(async () => {
  for (const m of __invaeThread.preload) await import(m);
${o.source}
})().catch(reportError);
`;
}

/** Unsubscribes a listener. */
export type Unsubscribe = () => void;

/**
 * One worker thread running a program from source (see {@link WorkerThreadOptions.source}). Messages
 * the program posts on `parentPort` reach {@link onMessage} listeners; its first failure reaches
 * {@link onFailure} listeners (and {@link failure}); {@link terminate} stops it (an exit after that is
 * not a failure).
 */
export class WorkerThread<Out = unknown, In = unknown> {
  /** The thread's name. */
  readonly name: string;
  private readonly worker: Worker;
  private readonly replyPort: MessagePort | null = null;
  private readonly messageListeners = new Set<(m: Out) => void>();
  private readonly failureListeners = new Set<(e: WorkerThreadError) => void>();
  private failed: WorkerThreadError | null = null;
  private terminated = false;

  private constructor(o: WorkerThreadOptions) {
    this.name = o.name;
    const transferList = [...(o.transferList ?? [])];
    let replyPort: MessagePort | undefined;
    if (o.syncReplies) {
      const { port1, port2 } = new MessageChannel();
      this.replyPort = port1;
      port1.unref();
      replyPort = port2;
      transferList.push(port2);
    }
    this.worker = new Worker(programOf(o), {
      eval: true,
      workerData: { data: o.workerData, preload: [...(o.preload ?? [])], replyPort },
      transferList,
      ...(o.quiet ? { stdout: true, stderr: true } : {}),
    });
    this.worker.on('message', (m: unknown) => {
      if (m && typeof m === 'object' && FAILURE_TAG in m) {
        this.fail(new WorkerThreadError(this.name, (m as Record<string, FailurePayload>)[FAILURE_TAG]!));
        return;
      }
      for (const l of [...this.messageListeners]) l(m as Out);
    });
    this.worker.on('error', (e: Error) => this.fail(new WorkerThreadError(this.name, { name: e?.name, message: e?.message ?? String(e), code: (e as { code?: string })?.code, stack: e?.stack })));
    this.worker.on('exit', (code: number) => {
      if (!this.terminated) this.fail(new WorkerThreadError(this.name, { name: 'Exit', message: `the worker thread exited (code ${code}).` }, code));
    });
    // after the listeners: attaching a 'message' listener refs the worker's port again (the process
    // would then never exit while the thread lives)
    if (o.unref) this.worker.unref();
  }

  /** Starts a thread running `options.source`. */
  static start<Out = unknown, In = unknown>(options: WorkerThreadOptions): WorkerThread<Out, In> {
    if (!options || typeof options.source !== 'string') throw new TypeError('WorkerThread.start: options.source must be the program text.');
    return new WorkerThread<Out, In>(options);
  }

  private fail(e: WorkerThreadError): void {
    if (this.failed) return;
    this.failed = e;
    for (const l of [...this.failureListeners]) l(e);
  }

  /** The thread's failure, once it failed (null while healthy or after a clean termination). */
  get failure(): WorkerThreadError | null {
    return this.failed;
  }

  /** Whether {@link terminate} was called. */
  get isTerminated(): boolean {
    return this.terminated;
  }

  /** Sends a message to the program's `parentPort`; throws the thread's failure if it failed. */
  post(message: In, transferList?: readonly Transferable[]): void {
    if (this.failed) throw this.failed;
    this.worker.postMessage(message, transferList as Transferable[] | undefined);
  }

  /** Calls `listener` with every message the program posts on `parentPort`. */
  onMessage(listener: (m: Out) => void): Unsubscribe {
    this.messageListeners.add(listener);
    return () => void this.messageListeners.delete(listener);
  }

  /** Calls `listener` once with the thread's failure (at once, if it has already failed). */
  onFailure(listener: (e: WorkerThreadError) => void): Unsubscribe {
    if (this.failed) {
      listener(this.failed);
      return () => undefined;
    }
    this.failureListeners.add(listener);
    return () => void this.failureListeners.delete(listener);
  }

  /** The next message the program posted on `replyPort`, without blocking (undefined if none); needs `syncReplies`. */
  receiveSync(): Out | undefined {
    if (!this.replyPort) throw new Error(`WorkerThread ${this.name}: receiveSync needs the syncReplies option.`);
    const m = receiveMessageOnPort(this.replyPort);
    return m ? (m.message as Out) : undefined;
  }

  /** Lets the thread keep the process alive again. */
  ref(): void {
    this.worker.ref();
  }

  /** Lets the process exit while the thread lives. */
  unref(): void {
    this.worker.unref();
  }

  /** Stops the thread (idempotent); resolves once it has stopped. */
  async terminate(): Promise<void> {
    if (this.terminated) return;
    this.terminated = true;
    this.messageListeners.clear();
    this.failureListeners.clear();
    this.replyPort?.close();
    await this.worker.terminate();
  }
}
