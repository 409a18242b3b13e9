import { describe, expect, it } from 'vitest';
import { WorkerThread, WorkerThreadError } from '../src/index';

function nextMessage<T>(t: WorkerThread<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const off = t.onMessage((m) => {
      off();
      resolve(m);
    });
    t.onFailure(reject);
  });
}

function failureOf(t: WorkerThread): Promise<WorkerThreadError> {
  return new Promise((resolve) => t.onFailure(resolve));
}

describe('WorkerThread', () => {
  it('runs a program from source with its workerData, and answers messages', async () => {
    const t = WorkerThread.start<{ sum: number }, number[]>({
      name: 'adder',
      source: `parentPort.on('message', (xs) => parentPort.postMessage({ sum: xs.reduce((a, b) => a + b, workerData.base) }));`,
      workerData: { base: 100 },
    });
    t.post([1, 2, 3]);
    expect(await nextMessage(t)).toEqual({ sum: 106 });
    t.post([4]);
    expect(await nextMessage(t)).toEqual({ sum: 104 });
    await t.terminate();
    expect(t.failure).toBeNull();
    expect(t.isTerminated).toBe(true);
    await t.terminate(); // idempotent
  });

  it("propagates a thrown error with the worker's name, message, code and hint", async () => {
    const t = WorkerThread.start({
      name: 'thrower',
      source: `const e = new RangeError('bad things at row 7'); e.code = 'E_ROW'; e.hint = 'fix row 7'; throw e;`,
    });
    const err = await failureOf(t);
    expect(err).toBeInstanceOf(WorkerThreadError);
    expect(err.message).toBe('bad things at row 7');
    expect(err.thread).toBe('thrower');
    expect(err.workerName).toBe('RangeError');
    expect(err.code).toBe('E_ROW');
    expect(err.hint).toBe('fix row 7');
    expect(err.workerStack).toMatch(/bad things at row 7/);
    expect(t.failure).toBe(err);
    expect(() => t.post(1)).toThrow('bad things at row 7');
    // a listener added after the failure hears it at once
    let late: WorkerThreadError | null = null;
    t.onFailure((e) => (late = e));
    expect(late).toBe(err);
    await t.terminate();
  });

  it('reports an exception in a message handler, an explicit reportError and an unexpected exit', async () => {
    const handler = WorkerThread.start({ name: 'h', source: `parentPort.on('message', () => { throw new TypeError('no handler for that'); });` });
    handler.post('x');
    const e1 = await failureOf(handler);
    expect(e1.message).toBe('no handler for that');
    expect(e1.workerName).toBe('TypeError');
    await handler.terminate();

    const reporter = WorkerThread.start({ name: 'r', source: `reportError(Object.assign(new Error('reported'), { code: 'E_REP' }));` });
    const e2 = await failureOf(reporter);
    expect([e2.message, e2.code]).toEqual(['reported', 'E_REP']);
    await reporter.terminate();

    const exiter = WorkerThread.start({ name: 'x', source: `process.exit(3);` });
    const e3 = await failureOf(exiter);
    expect(e3.exitCode).toBe(3);
    expect(e3.message).toBe('the worker thread exited (code 3).');
  });

  it('does not count the exit of a terminated thread as a failure', async () => {
    const t = WorkerThread.start({ name: 'idle', source: `parentPort.on('message', () => undefined);` });
    let failed = false;
    t.onFailure(() => (failed = true));
    await t.terminate();
    await new Promise((r) => setTimeout(r, 50));
    expect(failed).toBe(false);
    expect(t.failure).toBeNull();
  });

  it('hands replies over synchronously on the reply port, and transfers shared memory', async () => {
    const ctrl = new Int32Array(new SharedArrayBuffer(4));
    const t = WorkerThread.start<{ got: number }>({
      name: 'sync',
      syncReplies: true,
      unref: true,
      workerData: { ctrl: ctrl.buffer },
      source: `const c = new Int32Array(workerData.ctrl);
parentPort.on('message', (n) => { replyPort.postMessage({ got: n * 2 }); Atomics.store(c, 0, 1); Atomics.notify(c, 0); });`,
    });
    expect(t.receiveSync()).toBeUndefined();
    t.post(21);
    // block like the synchronous callers do, then take the reply without returning to the event loop
    const t0 = Date.now();
    while (Atomics.load(ctrl, 0) !== 1 && Date.now() - t0 < 10_000) Atomics.wait(ctrl, 0, 0, 20);
    let reply: { got: number } | undefined;
    while (!reply && Date.now() - t0 < 10_000) reply = t.receiveSync();
    expect(reply).toEqual({ got: 42 });
    await t.terminate();
  });

  it('imports the preload modules before the program runs', async () => {
    const mod = `data:text/javascript,globalThis.__preloaded = 'yes';`;
    const t = WorkerThread.start<string>({ name: 'p', preload: [mod], source: `parentPort.postMessage(globalThis.__preloaded);` });
    expect(await nextMessage(t)).toBe('yes');
    await t.terminate();
  });

  it('with unref, keeps no handle of the process alive, even while its program blocks forever', async () => {
    const refed = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Worker').length;
    const before = refed();
    const control = new SharedArrayBuffer(4);
    const t = WorkerThread.start({ name: 'blocked', source: 'Atomics.wait(new Int32Array(workerData.control), 0, 0);', workerData: { control }, unref: true });
    // the message, error and exit listeners are attached in the constructor: they must not ref it again
    expect(refed()).toBe(before);
    t.ref();
    expect(refed()).toBeGreaterThan(before);
    t.unref();
    expect(refed()).toBe(before);
    await t.terminate();
  });

  it('needs the program text', () => {
    expect(() => WorkerThread.start({ name: 'none' } as never)).toThrow(TypeError);
  });
});
