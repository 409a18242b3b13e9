/**
 * Metadata pre-scan in a worker thread: corrupt HDF5 internals can make the HDF5 C library loop forever or abort
 * inside wasm, which cannot be interrupted on the calling thread. Before a file is opened for real, a worker walks
 * every group, attribute and dataset header; if it aborts, fails or does not finish in time, the file is rejected
 * with a typed error and the worker is terminated (a healthy worker is kept, unref'd, for the next file).
 */
import { WorkerThread, type WorkerThreadError } from '@invae/common';
import { AnnDataFormatError } from './errors';
import { condenseHdf5Error } from './hdf5-diag';

/** The scan thread's program (run by @invae/common's {@link WorkerThread}); h5wasm's entry comes as `workerData.entry`. */
const WORKER_SOURCE = `
let M = null;
const lib = import(workerData.entry).then(async (m) => {
  const h5wasm = m.default;
  M = await h5wasm.ready;
  M.activate_throwing_error_handler();
  return h5wasm;
});
parentPort.on('message', async ({ id, file, maxObjects }) => {
  let where = '/';
  try {
    const h5wasm = await lib;
    const f = new h5wasm.File(file, 'r');
    try {
      const attrs = (e) => { for (const k of M.get_attribute_names(e.file_id, e.path)) { where = e.path + '@' + k; e.get_attribute(k, false); } };
      let count = 0;
      // children by type (Group.get re-validates the whole path: O(depth^2) per call)
      const visit = (g) => {
        let types = null;
        try { types = M.get_types(g.file_id, g.path); } catch { types = null; }
        for (const k of types ? Object.keys(types) : g.keys()) {
          where = (g.path === '/' ? '' : g.path) + '/' + k;
          if (++count > maxObjects) throw new Error('more than ' + maxObjects + ' HDF5 objects');
          const t = types && !k.includes('/') ? types[k] : undefined;
          const p = (g.path === '/' ? '' : g.path) + '/' + k;
          const e = t === 0 ? new h5wasm.Group(g.file_id, p) : t === 1 ? new h5wasm.Dataset(g.file_id, p) : g.get(k);
          if (!e) continue;
          if (e instanceof h5wasm.Group) { attrs(e); visit(e); }
          else if (e instanceof h5wasm.Dataset) { attrs(e); where = e.path; e.metadata; e.filters; }
        }
      };
      attrs(f);
      visit(f);
    } finally {
      f.close();
    }
    parentPort.postMessage({ id, ok: true });
  } catch (e) {
    parentPort.postMessage({ id, ok: false, where, error: String((e && e.message) || e) });
  }
});
`;

/** Options of {@link prescanHdf5}. */
export interface PrescanOptions {
  /** Milliseconds before the scan is declared hung (default 60 000, or INVAE_H5AD_PRESCAN_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** Whether pre-scanning is enabled (INVAE_H5AD_PRESCAN=0 disables it). */
export function prescanEnabled(): boolean {
  return process.env.INVAE_H5AD_PRESCAN !== '0';
}

/** What the scan thread answers. */
interface ScanReply {
  id: number;
  ok: boolean;
  where?: string;
  error?: string;
}

type ScanThread = WorkerThread<ScanReply, { id: number; file: string; maxObjects: number }>;

let idle: { worker: ScanThread; entry: string } | null = null;
let nextId = 0;

function getWorker(entry: string): ScanThread {
  if (idle && idle.entry === entry && !idle.worker.failure) {
    const w = idle.worker;
    idle = null;
    return w;
  }
  if (idle) void idle.worker.terminate();
  idle = null;
  return WorkerThread.start({ name: 'HDF5 metadata scan', source: WORKER_SOURCE, workerData: { entry }, quiet: true });
}

/** Walks the file's metadata in a worker; throws AnnDataFormatError on abort, error or timeout. */
export function prescanHdf5(abs: string, file: string, entry: string, options: PrescanOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? (Number(process.env.INVAE_H5AD_PRESCAN_TIMEOUT_MS) || 60_000);
  const worker = getWorker(entry);
  worker.ref();
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    let done = false;
    let offMessage = () => {};
    let offFailure = () => {};
    const cleanup = () => {
      clearTimeout(timer);
      offMessage();
      offFailure();
    };
    const fail = (err: Error) => {
      if (done) return;
      done = true;
      cleanup();
      void worker.terminate();
      reject(err);
    };
    const onMessage = (m: ScanReply) => {
      if (m.id !== id || done) return;
      if (m.ok) {
        done = true;
        cleanup();
        worker.unref();
        if (idle) void idle.worker.terminate();
        idle = { worker, entry };
        resolve();
      } else {
        const aborted = /Aborted\(|RuntimeError|unreachable/.test(m.error ?? '');
        fail(
          new AnnDataFormatError(
            `corrupt HDF5 metadata: ${condenseHdf5Error(m.error ?? '')}`,
            { file, element: m.where, hint: 'the file is corrupt; re-export it with anndata' },
            aborted ? 'ANNDATA_CORRUPT' : 'ANNDATA_FORMAT',
          ),
        );
      }
    };
    const onFailure = (e: WorkerThreadError) =>
      fail(
        e.exitCode !== undefined
          ? new AnnDataFormatError(`HDF5 metadata scan exited with code ${e.exitCode}`, { file }, 'ANNDATA_CORRUPT')
          : new AnnDataFormatError(`HDF5 metadata scan failed: ${e.message}`, { file, cause: e }, 'ANNDATA_CORRUPT'),
      );
    const timer = setTimeout(
      () =>
        fail(
          new AnnDataFormatError(
            `the HDF5 library did not finish reading the file's metadata within ${timeoutMs} ms`,
            { file, hint: 'the file is corrupt (its internal structure loops); re-export it, or raise INVAE_H5AD_PRESCAN_TIMEOUT_MS for huge files' },
            'ANNDATA_CORRUPT',
          ),
        ),
      timeoutMs,
    );
    offMessage = worker.onMessage(onMessage);
    offFailure = worker.onFailure(onFailure);
    if (!done) worker.post({ id, file: abs, maxObjects: 1_000_000 });
  });
}
