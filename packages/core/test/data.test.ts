import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  InvalidOptionError,
  MatrixFormatError,
  MinibatchSampler,
  Rng,
  csrMatrix,
  countShape,
  csrToDense,
  denseMatrix,
  denseShape,
  denseToCsr,
  disposeBatch,
  gatherBatch,
  gatherRows,
  initEngine,
  poisson,
  rowSource,
  trainValidationSplit,
} from '../src/index';
import { knownNonZeros, nonZeroStats } from '../src/nn/counts-csr';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

/** A random sparse count matrix (about 70% zeros). */
function randomCounts(nRows: number, nCols: number, seed: number): Float32Array {
  const r = new Rng(seed);
  const out = new Float32Array(nRows * nCols);
  for (let i = 0; i < out.length; i++) out[i] = r.uniform() < 0.7 ? 0 : poisson(r, 3);
  return out;
}

describe('matrices', () => {
  it('dense ↔ CSR round-trips and validates structure', () => {
    const data = randomCounts(13, 7, 1);
    const dense = denseMatrix(13, 7, data);
    const csr = denseToCsr(dense);
    expect(csr.indptr[13]).toBe(csr.data.length);
    expect(csrToDense(csr).data).toEqual(data);
    expect(() => csrMatrix(...csr.shape, csr.indptr, csr.indices, csr.data)).not.toThrow();
  });

  it('rejects malformed CSR and dense input with MatrixFormatError', () => {
    const ok = { indptr: new Int32Array([0, 1, 2]), indices: new Int32Array([0, 2]), data: new Float32Array([1, 2]) };
    expect(() => csrMatrix(2, 3, new Int32Array([0, 1]), ok.indices, ok.data)).toThrow(MatrixFormatError);
    expect(() => csrMatrix(2, 3, new Int32Array([0, 3, 2]), ok.indices, ok.data)).toThrow(/decreases/);
    expect(() => csrMatrix(2, 2, ok.indptr, ok.indices, ok.data)).toThrow(/outside \[0, 2\)/);
    expect(() => csrMatrix(2, 3, new Int32Array([1, 1, 2]), ok.indices, ok.data)).toThrow(/start at 0/);
    expect(() => csrMatrix(2, 3, ok.indptr, ok.indices, new Float32Array(3))).toThrow(MatrixFormatError);
    expect(() => denseMatrix(2, 3, new Float32Array(5))).toThrow(MatrixFormatError);
  });

  it('holds the shared anndata layout (shape [nRows, nCols]) and rejects a dense matrix that is not 2-D or does not fit its shape', () => {
    const dense = denseMatrix(2, 3, new Float32Array(6));
    expect(dense).toEqual({ kind: 'dense', shape: [2, 3], data: new Float32Array(6) });
    expect(denseToCsr(dense).shape).toEqual([2, 3]);
    expect(countShape(denseToCsr(dense))).toEqual([2, 3]);
    expect(denseShape(dense)).toEqual([2, 3]);
    const cube = { kind: 'dense' as const, shape: [2, 3, 1], data: new Float32Array(6) };
    expect(() => denseShape(cube)).toThrow(/2-D dense matrix, got shape \[2, 3, 1\]/);
    expect(() => rowSource(cube)).toThrow(MatrixFormatError);
    expect(() => rowSource({ kind: 'dense', shape: [2, 3], data: new Float32Array(5) })).toThrow(/5 values, expected 2 × 3/);
    expect(() => denseToCsr({ kind: 'dense', shape: [6], data: new Float32Array(6) })).toThrow(MatrixFormatError);
  });

  it('CSR rows read through a RowSource equal the dense rows (any order, repeats, duplicates summed)', () => {
    const data = randomCounts(50, 20, 2);
    const dense = rowSource(denseMatrix(50, 20, data));
    const csr = rowSource(denseToCsr(denseMatrix(50, 20, data)));
    const idx = [49, 0, 7, 7, 23];
    expect(csr.readRows(idx)).toEqual(dense.readRows(idx));
    expect(Array.from(dense.readRows([3]))).toEqual(Array.from(data.subarray(60, 80)));
    // duplicate column entries are summed as scipy does
    const dup = rowSource(csrMatrix(1, 2, new Int32Array([0, 2]), new Int32Array([1, 1]), new Float32Array([2, 3])));
    expect(Array.from(dup.readRows([0]))).toEqual([0, 5]);
    // float64 / int data is converted
    const d64 = rowSource(denseMatrix(2, 2, new Float64Array([1, 2, 3, 4])));
    expect(Array.from(d64.readRows([1]))).toEqual([3, 4]);
    expect(() => csr.readRows([50])).toThrow(MatrixFormatError);
    expect(() => csr.readRows([1.5])).toThrow(MatrixFormatError);
  });
});

describe('MinibatchSampler', () => {
  it('covers every row exactly once per epoch, deterministically per (seed, epoch)', () => {
    const s = new MinibatchSampler({ rows: 103, batchSize: 10, seed: 4 });
    expect(s.batchesPerEpoch).toBe(11);
    const e0 = [...s.batches(0)];
    expect(e0.map((b) => b.length)).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
    const seen = e0.flatMap((b) => Array.from(b)).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 103 }, (_, i) => i));
    const again = new MinibatchSampler({ rows: 103, batchSize: 10, seed: 4 });
    expect([...again.batches(0)].map((b) => Array.from(b))).toEqual(e0.map((b) => Array.from(b)));
    expect(Array.from(s.epochOrder(1))).not.toEqual(Array.from(s.epochOrder(0)));
    const other = new MinibatchSampler({ rows: 103, batchSize: 10, seed: 5 });
    expect(Array.from(other.epochOrder(0))).not.toEqual(Array.from(s.epochOrder(0)));
    // resuming at epoch 3 directly gives the same order as after epochs 0..2
    expect(Array.from(again.epochOrder(3))).toEqual(Array.from(s.epochOrder(3)));
  });

  it('honours explicit rows, dropLast and shuffle: false', () => {
    const s = new MinibatchSampler({ rows: [5, 9, 2, 7, 1], batchSize: 2, shuffle: false, dropLast: true });
    expect([...s.batches(0)].map((b) => Array.from(b))).toEqual([
      [5, 9],
      [2, 7],
    ]);
    const sh = new MinibatchSampler({ rows: [5, 9, 2, 7, 1], batchSize: 2, seed: 1 });
    expect(Array.from(sh.epochOrder(0)).sort((a, b) => a - b)).toEqual([1, 2, 5, 7, 9]);
  });

  it('rejects bad options', () => {
    expect(() => new MinibatchSampler({ rows: 10, batchSize: 0 })).toThrow(InvalidOptionError);
    expect(() => new MinibatchSampler({ rows: -1, batchSize: 2 })).toThrow(InvalidOptionError);
    expect(() => new MinibatchSampler({ rows: [0, 1.5], batchSize: 2 })).toThrow(InvalidOptionError);
    expect(() => new MinibatchSampler({ rows: 4, batchSize: 2, seed: -3 })).toThrow(InvalidOptionError);
    expect(() => new MinibatchSampler({ rows: 4, batchSize: 2 }).epochOrder(-1)).toThrow(InvalidOptionError);
  });
});

describe('trainValidationSplit', () => {
  it('partitions rows into sorted, disjoint sets of the requested size, reproducibly', () => {
    const sp = trainValidationSplit({ nRows: 1000, validationFraction: 0.1, seed: 3 });
    expect(sp.validation.length).toBe(100);
    expect(sp.train.length).toBe(900);
    const all = [...sp.train, ...sp.validation].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    for (let i = 1; i < sp.train.length; i++) expect(sp.train[i]!).toBeGreaterThan(sp.train[i - 1]!);
    expect(trainValidationSplit({ nRows: 1000, validationFraction: 0.1, seed: 3 })).toEqual(sp);
    expect(Array.from(trainValidationSplit({ nRows: 1000, validationFraction: 0.1, seed: 4 }).validation)).not.toEqual(Array.from(sp.validation));
    expect(trainValidationSplit({ nRows: 10, validationFraction: 0 }).validation.length).toBe(0);
  });

  it('rejects fractions outside [0, 1) and splits with no training rows', () => {
    expect(() => trainValidationSplit({ nRows: 10, validationFraction: 1 })).toThrow(InvalidOptionError);
    expect(() => trainValidationSplit({ nRows: 10, validationFraction: -0.1 })).toThrow(InvalidOptionError);
    expect(() => trainValidationSplit({ nRows: 1, validationFraction: 0.6 })).toThrow(/no training rows/);
  });
});

describe('gatherBatch', () => {
  it('builds x and covariate tensors for the batch rows (CSR == dense) without leaking', async () => {
    const data = randomCounts(40, 6, 5);
    const csr = denseToCsr(denseMatrix(40, 6, data));
    const inv = { nRows: 40, nCols: 2, data: Float32Array.from({ length: 80 }, (_, i) => i) };
    const spur = { nRows: 40, nCols: 1, data: Float32Array.from({ length: 40 }, (_, i) => -i) };
    const before = tf.memory().numTensors;
    const idx = [3, 39, 0];
    const b = gatherBatch(rowSource(csr), idx, { inv, spur });
    expect(b.x.shape).toEqual([3, 6]);
    expect(b.x.dtype).toBe('float32');
    expect(Array.from(await b.x.data())).toEqual([...data.subarray(18, 24), ...data.subarray(234, 240), ...data.subarray(0, 6)]);
    expect(Array.from(await b.inv!.data())).toEqual([6, 7, 78, 79, 0, 1]);
    expect(Array.from(await b.spur!.data())).toEqual([-3, -39, -0]);
    const d = gatherBatch(rowSource(denseMatrix(40, 6, data)), idx);
    expect(await d.x.data()).toEqual(await b.x.data());
    expect(d.inv).toBeNull();
    expect(d.spur).toBeNull();
    disposeBatch(b);
    disposeBatch(d);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads the rows straight into the engine tensor where the source writes into an array (readRowsInto), else through readRows; the same batch either way', async () => {
    const data = randomCounts(30, 7, 9);
    const idx = [29, 4, 4, 0];
    for (const matrix of [denseToCsr(denseMatrix(30, 7, data)), denseMatrix(30, 7, data)]) {
      const src = rowSource(matrix);
      let intoCalls = 0;
      let readCalls = 0;
      const counted = { nRows: src.nRows, nCols: src.nCols, readRowsInto: (i: ArrayLike<number>, out: Float32Array) => (intoCalls++, src.readRowsInto!(i, out)), readRows: (i: ArrayLike<number>) => (readCalls++, src.readRows(i)) };
      const arrayOnly = { nRows: src.nRows, nCols: src.nCols, readRows: (i: ArrayLike<number>) => src.readRows(i) };
      const before = tf.memory().numTensors;
      const direct = gatherBatch(counted, idx);
      expect([intoCalls, readCalls]).toEqual([1, 0]);
      const viaArray = gatherBatch(arrayOnly, idx);
      const want = idx.flatMap((r) => Array.from(data.subarray(r * 7, r * 7 + 7)));
      expect(Array.from(await direct.x.data())).toEqual(want);
      expect(Array.from(await viaArray.x.data())).toEqual(want);
      expect(direct.nonZeros?.nnz).toBe(want.filter((v) => v !== 0).length);
      const used = idx.length + 1 + direct.nonZeros!.nnz;
      expect(Array.from(await direct.nonZeros!.packed.data()).slice(0, used)).toEqual(Array.from(await viaArray.nonZeros!.packed.data()).slice(0, used));
      disposeBatch(direct);
      disposeBatch(viaArray);
      // a failing source leaves no tensor behind
      const failing = { ...counted, readRowsInto: () => { throw new MatrixFormatError('broken source'); } };
      expect(() => gatherBatch(failing, idx)).toThrow('broken source');
      expect(tf.memory().numTensors).toBe(before);
    }
    expect(() => rowSource(denseMatrix(2, 2, new Float32Array(4))).readRowsInto!([0], new Float32Array(3))).toThrow(/holds 3 values, expected 1 × 2/);
  });

  it('reads a sparse source\'s stored entries into the engine and lists the non-zeros as it writes them: the batch and non-zeros of the dense path, for any CSR', async () => {
    /** The packed non-zeros' used words, as numbers. */
    const words = async (b: { nonZeros?: { nnz: number; packed: tf.Tensor } | null }, rows: number) => {
      const f = (await b.nonZeros!.packed.data()) as Float32Array;
      return Array.from(new Int32Array(f.buffer, f.byteOffset, rows + 1 + b.nonZeros!.nnz));
    };
    const data = randomCounts(30, 9, 4);
    const canonical = denseToCsr(denseMatrix(30, 9, data));
    // rows 1 and 2 as a CSR may hold them: a repeated column (summed), unordered columns, stored zeros
    // (one of them a -0), an entry that cancels to 0; float64 values, Uint32 indices
    const odd = csrMatrix(3, 9, Uint32Array.from([0, 2, 8, 8]), Uint32Array.from([4, 1, 7, 2, 7, 0, 5, 5]), Float64Array.from([2, 3, 1.5, 0, 2.25, -0, 1, -1]));
    for (const [name, matrix, idx] of [['canonical', canonical, [29, 4, 4, 0, 17]], ['unordered, repeated, stored zeros', odd, [1, 2, 0, 1]]] as const) {
      const src = rowSource(matrix);
      let entryCalls = 0;
      const counted = { ...src, nRows: src.nRows, nCols: src.nCols, readRows: src.readRows.bind(src), readRowsInto: src.readRowsInto!.bind(src), storedEntryCount: src.storedEntryCount!.bind(src), readStoredEntries: (...a: Parameters<NonNullable<typeof src.readStoredEntries>>) => (entryCalls++, src.readStoredEntries!(...a)) };
      const dense = { nRows: src.nRows, nCols: src.nCols, readRows: src.readRows.bind(src), readRowsInto: src.readRowsInto!.bind(src) };
      const before = tf.memory().numTensors;
      const builds = nonZeroStats.builds;
      const viaEntries = gatherBatch(counted, idx);
      expect(entryCalls, name).toBe(1);
      expect(nonZeroStats.builds - builds, 'one non-zero list per batch').toBe(1);
      const viaRows = gatherBatch(dense, idx);
      expect(Array.from(await viaEntries.x.data()), name).toEqual(Array.from(await viaRows.x.data()));
      expect(viaEntries.nonZeros!.nnz, name).toBe(viaRows.nonZeros!.nnz);
      expect(await words(viaEntries, idx.length), name).toEqual(await words(viaRows, idx.length));
      expect(knownNonZeros(viaEntries.x)?.csr, 'recorded for the counts').toBe(viaEntries.nonZeros);
      disposeBatch(viaEntries);
      disposeBatch(viaRows);
      expect(tf.memory().numTensors).toBe(before);
    }
    // a third-party source with a column index out of range, or row starts out of order: a clear error, nothing left behind
    const src = rowSource(canonical);
    const before = tf.memory().numTensors;
    const badColumn = { nRows: 30, nCols: 9, readRows: src.readRows.bind(src), storedEntryCount: () => 2, readStoredEntries: (_: ArrayLike<number>, starts: Int32Array, cols: Int32Array, values: Float32Array) => (starts.set([0, 2]), cols.set([3, 9]), values.set([1, 1])) };
    expect(() => gatherBatch(badColumn, [0])).toThrow(/column index is outside \[0, 9\)/);
    const badStarts = { ...badColumn, readStoredEntries: (_: ArrayLike<number>, starts: Int32Array) => starts.set([0, 3]) };
    expect(() => gatherBatch(badStarts, [0])).toThrow(/rows span 0 … 3, expected 0 … at most 2/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks covariate row counts and indices, leaking nothing on error', () => {
    const src = rowSource(denseMatrix(4, 2, new Float32Array(8)));
    const before = tf.memory().numTensors;
    const inv = { nRows: 4, nCols: 1, data: new Float32Array(4) };
    expect(() => gatherBatch(src, [0], { inv, spur: { nRows: 3, nCols: 1, data: new Float32Array(3) } })).toThrow(InvalidOptionError);
    expect(() => gatherBatch(src, [4])).toThrow(MatrixFormatError);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(gatherRows({ nRows: 2, nCols: 2, data: new Float32Array([1, 2, 3, 4]) }, [1, 1]))).toEqual([3, 4, 3, 4]);
  });
});
