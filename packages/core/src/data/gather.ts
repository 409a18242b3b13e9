import * as tf from '@tensorflow/tfjs';
import { InvalidOptionError } from '../errors';
import { MatrixFormatError } from './errors';
import { type RowSource, checkRowIndices } from './row-source';
import { buildCountsCsr, countsFromStoredEntries, type CountsCsr } from '../nn/counts-csr';
import { engineView } from '../wasm/kernels';

/** A row-major float32 matrix of per-cell values (e.g. an encoded covariate matrix). */
export interface RowMatrix {
  nRows: number;
  nCols: number;
  data: Float32Array;
}

/** One minibatch on the tensor engine. Call {@link disposeBatch} (or `tf.dispose`) when done. */
export interface Minibatch {
  /** Row indices of the batch, in order. */
  indices: Int32Array;
  /** Counts, batch × genes. */
  x: tf.Tensor2D;
  /** Invariant-prior covariates, batch × dims (null when none are used). */
  inv: tf.Tensor2D | null;
  /** Spurious-prior covariates, batch × dims (null when none are used). */
  spur: tf.Tensor2D | null;
  /**
   * The non-zeros of `x`, found once when the batch is uploaded and read by every kernel that visits
   * the non-zero counts only (null or absent on engines without JavaScript kernels).
   */
  nonZeros?: CountsCsr | null;
}

/** Copies rows `indices` of a row-major matrix into a new Float32Array. */
export function gatherRows(m: RowMatrix, indices: ArrayLike<number>): Float32Array {
  if (m.data.length !== m.nRows * m.nCols) {
    throw new MatrixFormatError(`Row matrix data has ${m.data.length} values, expected ${m.nRows} × ${m.nCols}.`);
  }
  checkRowIndices(indices, m.nRows);
  const out = new Float32Array(indices.length * m.nCols);
  for (let i = 0; i < indices.length; i++) {
    const s = indices[i]! * m.nCols;
    out.set(m.data.subarray(s, s + m.nCols), i * m.nCols);
  }
  return out;
}

/**
 * Reads rows `indices` from `source` (CSR rows are densified for this batch only) and the same rows
 * of the covariate matrices, and uploads them as float32 tensors.
 */
export function gatherBatch(
  source: RowSource,
  indices: ArrayLike<number>,
  covariates: { inv?: RowMatrix | null; spur?: RowMatrix | null } = {},
): Minibatch {
  const idx = Int32Array.from(indices);
  checkRowIndices(indices, source.nRows);
  const inv = covariates.inv && covariates.inv.nCols > 0 ? rowsOf('inv', covariates.inv, idx, source.nRows) : null;
  const spur = covariates.spur && covariates.spur.nCols > 0 ? rowsOf('spur', covariates.spur, idx, source.nRows) : null;
  const entries = readEntriesIntoEngine(source, idx);
  if (entries) return minibatchOf(idx, entries.x, inv, spur, entries.csr);
  const x = readIntoEngine(source, idx);
  if (x) return minibatchOf(idx, x, inv, spur);
  const values = source.readRows(idx);
  if (values.length !== idx.length * source.nCols) {
    throw new MatrixFormatError(`RowSource.readRows returned ${values.length} values, expected ${idx.length} × ${source.nCols}.`);
  }
  return minibatchFromRows(idx, { values, nCols: source.nCols }, inv, spur);
}

/**
 * The rows `idx` of `source` read straight into a new engine tensor (the wasm engine's memory), where
 * the source can write rows into an array (`readRowsInto`) and the engine's memory can be viewed;
 * null otherwise (the caller reads them into an array and uploads that).
 */
function readIntoEngine(source: RowSource, idx: Int32Array): tf.Tensor2D | null {
  if (!source.readRowsInto || tf.getBackend() !== 'wasm') return null;
  const x = tf.fill([idx.length, source.nCols], 0, 'float32') as tf.Tensor2D;
  const view = engineView(x);
  if (!view) {
    x.dispose();
    return null;
  }
  try {
    // nothing allocates on the engine while the rows are written, so the view stays valid
    source.readRowsInto(idx, view);
  } catch (e) {
    x.dispose();
    throw e;
  }
  return x;
}

/**
 * The rows `idx` of a sparse source (one with `storedEntryCount` and `readStoredEntries`) as dense
 * counts and their non-zeros, from the rows' stored entries copied straight into the engine's memory
 * (see `countsFromStoredEntries`); null where that does not apply (the caller reads dense rows).
 */
function readEntriesIntoEngine(source: RowSource, idx: Int32Array): { x: tf.Tensor2D; csr: CountsCsr } | null {
  if (!source.storedEntryCount || !source.readStoredEntries) return null;
  const n = source.storedEntryCount(idx);
  return countsFromStoredEntries(idx.length, source.nCols, n, (starts, cols, values) => source.readStoredEntries!(idx, starts, cols, values));
}

function rowsOf(name: string, m: RowMatrix, indices: Int32Array, nRows: number): RowMatrix {
  if (m.nRows !== nRows) {
    throw new InvalidOptionError(name, `${name} covariates have ${m.nRows} rows but the count matrix has ${nRows}.`);
  }
  return { nRows: indices.length, nCols: m.nCols, data: gatherRows(m, indices) };
}

/**
 * Uploads a minibatch whose rows were already read: `x.values` holds `indices.length × x.nCols`
 * counts row-major, `inv`/`spur` (when given) one row per cell. The single place a {@link Minibatch}
 * is built from host rows (training workers build theirs here too).
 */
export function minibatchFromRows(indices: Int32Array, x: { values: Float32Array; nCols: number }, inv: RowMatrix | null, spur: RowMatrix | null): Minibatch {
  const n = indices.length;
  if (x.values.length < n * x.nCols) throw new MatrixFormatError(`Count rows: expected ${n} × ${x.nCols} values, got ${x.values.length}.`);
  return minibatchOf(indices, tf.tensor2d(x.values.subarray(0, n * x.nCols), [n, x.nCols], 'float32'), inv, spur);
}

/**
 * The {@link Minibatch} of counts `xT` (on the engine; owned by the batch from here on, disposed on
 * failure, as is `known`: their non-zeros when already found, else they are found here) and host covariate rows.
 */
function minibatchOf(indices: Int32Array, xT: tf.Tensor2D, inv: RowMatrix | null, spur: RowMatrix | null, known: CountsCsr | null = null): Minibatch {
  const n = indices.length;
  const upload = (m: RowMatrix | null): tf.Tensor2D | null => {
    if (!m || m.nCols === 0) return null;
    if (m.nRows !== n || m.data.length < n * m.nCols) throw new MatrixFormatError(`Covariate rows: expected ${n} × ${m.nCols} values, got ${m.data.length}.`);
    return tf.tensor2d(m.data.subarray(0, n * m.nCols), [n, m.nCols], 'float32');
  };
  let invT: tf.Tensor2D | null = null;
  let spurT: tf.Tensor2D | null = null;
  try {
    invT = upload(inv);
    spurT = upload(spur);
    const nonZeros: CountsCsr | null = known ?? buildCountsCsr(xT);
    return { indices, x: xT, inv: invT, spur: spurT, nonZeros };
  } catch (e) {
    xT.dispose();
    known?.packed.dispose();
    invT?.dispose();
    spurT?.dispose();
    throw e;
  }
}

/** Disposes the tensors of a {@link Minibatch}. */
export function disposeBatch(batch: Minibatch): void {
  batch.x.dispose();
  batch.nonZeros?.packed.dispose();
  batch.inv?.dispose();
  batch.spur?.dispose();
}
