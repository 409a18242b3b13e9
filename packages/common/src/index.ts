/**
 * @invae/common — shared foundations of the invae packages, without dependencies: atomic output of files
 * and folders, the in-memory matrix types (dense, CSR, CSC), and the one way worker threads are started.
 * Each idea lives here once, so every package writes its outputs, means by a matrix and starts its threads
 * the same way.
 * @packageDocumentation
 */
export { VERSION } from './version';
export { asidePathOf, outputOfAsidePath, outputOfTempPath, tempPathBeside, writeFileAtomic, writeFileContentAtomic, writeFolderAtomic, type AtomicOutputOptions, type ExistingFolder } from './atomic-output';
export type { NumericArray, IndexArray, DenseMatrix, SparseBase, CsrMatrix, CscMatrix, SparseMatrix, Matrix } from './matrix';
export { WorkerThread, WorkerThreadError, onMainThread, type WorkerThreadOptions, type Unsubscribe } from './worker-thread';
export { WasmThreadPool, sliceOf, wasmThreadsSupported, defaultPoolThreads, type PoolTask, type WasmThreadPoolOptions, type SharedWasmMemory } from './wasm-thread-pool';
