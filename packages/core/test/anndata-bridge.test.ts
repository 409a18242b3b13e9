import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BackedRowSource,
  Invae,
  InvalidOptionError,
  MatrixFormatError,
  annDataCounts,
  annDataDataset,
  backedAnnDataDataset,
  cscToCsr,
  csrToDense,
  denseToCsr,
  frameColumns,
  initEngine,
  registerPrior,
  resolveDataset,
  simulate,
  unregisterPrior,
  writeResults,
  withConfidence,
  type CscMatrix,
  type CsrMatrix,
  type AnnDataFrame,
  type AnnDataLike,
  type AnnDataMatrix,
  type AnnDataTable,
  type BackedAnnDataLike,
  type InvaeDataset,
  type Prediction,
} from '../src/index';
import { StandardNormalPrior } from './model-helpers';

// The AnnData bridge of the library: the structural AnnData types core reads (satisfied by
// @invae/io-anndata's AnnData/BackedAnnData, checked in the CLI's tests), built here by hand.

/** A column table with the three methods core uses (arquero's ColumnTable in io-anndata). */
class Table implements AnnDataTable {
  constructor(readonly cols: Record<string, ArrayLike<unknown>>) {}
  array(name: string): ArrayLike<unknown> {
    return Array.from(this.cols[name]!);
  }
  numRows(): number {
    return Object.values(this.cols)[0]?.length ?? 0;
  }
  assign(columns: Record<string, ArrayLike<unknown>>): Table {
    return new Table({ ...this.cols, ...columns });
  }
}

function frame(index: readonly string[], cols: Record<string, ArrayLike<unknown>> = {}): AnnDataFrame {
  return { table: new Table({ _index: index, ...cols }), indexName: '_index', columns: Object.fromEntries(Object.keys(cols).map((k) => [k, { kind: 'categorical' }])) };
}

/** The CSC form of a CSR matrix (scipy's tocsc). */
function toCsc(m: CsrMatrix): CscMatrix {
  const [nRows, nCols] = m.shape;
  const perCol: [number, number][][] = Array.from({ length: nCols }, () => []);
  for (let r = 0; r < nRows; r++) for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) perCol[m.indices[p]!]!.push([r, m.data[p]!]);
  const indptr = new Float64Array(nCols + 1);
  const indices: number[] = [];
  const data: number[] = [];
  perCol.forEach((col, c) => {
    for (const [r, v] of col) {
      indices.push(r);
      data.push(v);
    }
    indptr[c + 1] = indices.length;
  });
  return { kind: 'csc', shape: [nRows, nCols], indptr, indices: Int32Array.from(indices), data: Float32Array.from(data) };
}

const sim = simulate({ nCells: 240, nGenes: 24, nBatches: 2, nCellTypes: 3, nDiseases: 1, latentDimInv: 3, latentDimSpur: 1, seed: 5 });
const data: InvaeDataset = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
const cellNames = Array.from({ length: sim.nCells }, (_, i) => `cell${i}`);
const csr = sim.counts.kind === 'csr' ? sim.counts : denseToCsr(sim.counts);
const dense = csrToDense(csr);

/** The simulated data as an in-memory AnnData: X dense (scaled, so not counts), raw counts in layers (CSC). */
function adataOf(): AnnDataLike & { obsm: Record<string, unknown> } {
  const scaled = Float32Array.from(dense.data, (v) => v / 2 + 0.25);
  return {
    X: { kind: 'dense', shape: [sim.nCells, sim.nGenes], data: scaled },
    layers: { counts: toCsc(csr) },
    obs: frame(cellNames, { cell_type: sim.obs.cell_type as ArrayLike<unknown>, batch: sim.obs.batch as ArrayLike<unknown> }),
    var: frame(sim.geneNames),
    obsm: {},
  };
}

/** A backed AnnData over CSR counts in memory, counting row-range reads. */
function backedOf(m: AnnDataMatrix, reads: { n: number }): BackedAnnDataLike {
  return {
    file: 'mem.h5ad',
    obs: frame(cellNames, { cell_type: sim.obs.cell_type as ArrayLike<unknown>, batch: sim.obs.batch as ArrayLike<unknown> }),
    var: frame(sim.geneNames),
    hasX: () => true,
    layerNames: () => ['counts'],
    matrixInfo: () => ({ kind: m.kind, shape: m.shape }),
    readRowRange(start, end) {
      reads.n++;
      if (m.kind !== 'csr') throw new Error('test backed reader: CSR only');
      const a = m.indptr[start]!;
      const b = m.indptr[end]!;
      const indptr = Float64Array.from({ length: end - start + 1 }, (_, i) => m.indptr[start + i]! - a);
      return { matrix: { kind: 'csr', shape: [end - start, m.shape[1]], indptr, indices: m.indices.slice(a, b), data: m.data.slice(a, b) } };
    },
  };
}

const setup = {
  invariant: { categorical: ['cell_type'] },
  spurious: { categorical: ['batch'] },
  options: { latentDimInv: 3, latentDimSpur: 1, hiddenDim: 16, seed: 4 },
  invPrior: { name: 'test-normal' },
  spurPrior: { name: 'test-normal' },
};
const quiet = { warn: () => {} };

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  registerPrior({ name: 'test-normal', family: 'gaussian', create: (ctx) => new StandardNormalPrior(ctx.latentDim) });
});
afterAll(() => unregisterPrior('test-normal'));

describe('AnnData matrices and frames', () => {
  it('cscToCsr gives the CSR of the same matrix; annDataCounts wraps dense and CSR as they are', () => {
    const back = cscToCsr(toCsc(csr));
    expect(back.kind).toBe('csr');
    expect(Array.from(csrToDense(back).data)).toEqual(Array.from(dense.data));
    expect(Array.from(back.indptr)).toEqual(Array.from(csr.indptr));
    const d = annDataCounts({ kind: 'dense', shape: dense.shape, data: dense.data });
    expect(d.kind === 'dense' && d.data).toBe(dense.data);
    const c = annDataCounts({ kind: 'csr', shape: csr.shape, indptr: csr.indptr, indices: csr.indices, data: csr.data });
    expect(c.kind === 'csr' && c.indices).toBe(csr.indices);
  });

  it('rejects malformed CSC and non-2-D matrices with typed errors', () => {
    const bad: CscMatrix = { kind: 'csc', shape: [2, 2], indptr: Float64Array.of(0, 1, 2), indices: Int32Array.of(0, 5), data: Float32Array.of(1, 1) };
    expect(() => cscToCsr(bad)).toThrow(MatrixFormatError);
    expect(() => cscToCsr(bad)).toThrow(/row index 5 at position 1 is outside \[0, 2\)/);
    expect(() => cscToCsr({ ...bad, indptr: Float64Array.of(0, 2) })).toThrow(/indptr has length 2, expected nCols \+ 1 = 3/);
    expect(() => annDataCounts({ kind: 'dense', shape: [2, 2, 2], data: new Float32Array(8) }, 'counts')).toThrow(InvalidOptionError);
  });

  it('frameColumns returns the data columns (not the index) as arrays', () => {
    const f = frame(['a', 'b'], { x: ['u', 'v'], y: Float32Array.of(1, 2) });
    expect(frameColumns(f)).toEqual({ x: ['u', 'v'], y: [1, 2] });
  });

  it('annDataDataset reads X or a layer, and names the available layers when one is missing', () => {
    const adata = adataOf();
    const x = annDataDataset(adata);
    expect(x.counts.kind).toBe('dense');
    expect(x.geneNames).toEqual(sim.geneNames);
    expect(x.obs.cell_type).toEqual(Array.from(sim.obs.cell_type as ArrayLike<unknown>));
    const counts = annDataDataset(adata, { layer: 'counts' });
    expect(counts.counts.kind).toBe('csr');
    expect(Array.from(csrToDense(counts.counts as typeof csr).data)).toEqual(Array.from(dense.data));
    // converted once per matrix
    expect(annDataDataset(adata, { layer: 'counts' }).counts).toBe(counts.counts);
    expect(() => annDataDataset(adata, { layer: 'raw', source: 'cells.h5ad' })).toThrow(/cells\.h5ad has no layer 'raw' \(layers: counts\)/);
    expect(() => annDataDataset({ ...adata, X: undefined })).toThrow(/has no X matrix/);
    expect(() => resolveDataset({} as InvaeDataset)).toThrow(InvalidOptionError);
  });
});

describe('Invae on an AnnData', () => {
  it('setup/train/latent/predict/covariates take an AnnData at the layer set up with, as they take the dataset', async () => {
    const adata = adataOf();
    const a = Invae.setup(adata, { ...setup, layer: 'counts' }, quiet);
    const b = Invae.setup(data, setup, quiet);
    try {
      expect(a.layer).toBe('counts');
      // same seed, same data: same model; the AnnData's counts layer is read by default
      expect(Array.from(a.latent(adata).data)).toEqual(Array.from(b.latent(data).data));
      expect(a.covariates(adata).inv!.data).toEqual(b.covariates(data).inv!.data);
      const h = await a.train(adata, { epochs: 2, batchSize: 64, seed: 1 });
      expect(h.epochs).toHaveLength(2);
      // X holds scaled values, not counts: reading it for training is refused, naming the problem
      await expect(a.train(adata, { epochs: 1, layer: null })).rejects.toThrow(/non-negative integer counts/);
      const z = a.latent(adata, { part: 'full' });
      expect([z.nRows, z.nCols]).toEqual([sim.nCells, 4]);
      expect(Array.from(a.latent(data, { part: 'full' }).data)).toEqual(Array.from(z.data));
      a.trainPredictor(adata, 'cell_type');
      expect(a.predict(adata).labels).toEqual(a.predict(data).labels);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('streams a backed AnnData by row blocks, one row source per file and matrix across calls', async () => {
    const reads = { n: 0 };
    const backed = backedOf({ kind: 'csr', shape: csr.shape, indptr: Float64Array.from(csr.indptr), indices: Int32Array.from(csr.indices), data: Float32Array.from(csr.data) }, reads);
    const ds = resolveDataset(backed);
    expect('rows' in ds && ds.rows).toBeInstanceOf(BackedRowSource);
    expect(resolveDataset(backed)).not.toBe(ds);
    expect((resolveDataset(backed) as { rows: unknown }).rows).toBe((ds as { rows: unknown }).rows);
    const m = Invae.setup(backed, setup, quiet);
    const ref = Invae.setup(data, setup, quiet);
    try {
      expect(reads.n).toBe(1); // setup validated the counts: the one block (240 rows < 1024) was read
      expect(Array.from(m.latent(backed).data)).toEqual(Array.from(ref.latent(data).data));
      const h = await m.train(backed, { epochs: 1, batchSize: 64, seed: 1 });
      expect(h.epochs).toHaveLength(1);
      // one row source per file and matrix: its block cache served the latent and training
      expect(reads.n).toBe(1);
      expect(() => Invae.setup(backed, { ...setup, layer: 'nope' }, quiet)).toThrow(/mem\.h5ad has no layer 'nope' \(layers: counts\)/);
      const csc = backedOf(toCsc(csr), { n: 0 });
      expect(() => Invae.setup(csc, setup, quiet)).toThrow(/stored as CSC, which cannot be read by rows/);
    } finally {
      m.dispose();
      ref.dispose();
    }
  });
});

describe('BackedRowSource.readRowRange', () => {
  it('hands out row ranges as stored (CSR, not densified): whole blocks through the cache, other ranges read at once', () => {
    const reads = { n: 0 };
    const backed = backedOf({ kind: 'csr', shape: csr.shape, indptr: Float64Array.from(csr.indptr), indices: Int32Array.from(csr.indices), data: Float32Array.from(csr.data) }, reads);
    const src = new BackedRowSource(backed, 'X', { blockSize: 100 });
    const rowsOf = (m: AnnDataMatrix, from: number) => {
      if (m.kind !== 'csr') throw new Error('expected CSR');
      const out = new Float32Array(m.shape[0] * m.shape[1]);
      for (let r = 0; r < m.shape[0]; r++) for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) out[r * m.shape[1] + m.indices[p]!] += m.data[p]!;
      return Array.from(out).map((v, i) => [from + Math.floor(i / m.shape[1]), v]);
    };
    const expectRows = (m: AnnDataMatrix, start: number, end: number) => {
      expect(m.shape).toEqual([end - start, sim.nGenes]);
      const want = Array.from(dense.data.subarray(start * sim.nGenes, end * sim.nGenes)).map((v, i) => [start + Math.floor(i / sim.nGenes), v]);
      expect(rowsOf(m, start)).toEqual(want);
    };
    // the last block (rows 200-239) is shorter than blockSize
    for (const [a, b] of [[0, 100], [100, 200], [200, 240]] as const) expectRows(src.readRowRange(a, b), a, b);
    expect(reads.n).toBe(3);
    expect(src.readRowRange(100, 200).kind).toBe('csr');
    expect(reads.n).toBe(3); // cached block, not read again
    expect(src.readRows([150, 5]).length).toBe(2 * sim.nGenes);
    expect(reads.n).toBe(3); // readRows shares the cache
    expectRows(src.readRowRange(50, 130), 50, 130);
    expect(reads.n).toBe(4); // not a block: read directly
    expect(src.blocksRead).toBe(3);
    expect(() => src.readRowRange(-1, 5)).toThrow(MatrixFormatError);
    expect(() => src.readRowRange(10, 241)).toThrow(/not within \[0, 240\]/);
  });

  it('validates a backed file from its stored values (setup never densifies the rows) and names the bad cell', () => {
    const reads = { n: 0 };
    const bad = Float32Array.from(csr.data);
    const p = csr.indptr[130]!; // a stored value of cell 130
    bad[p] = 2.5;
    const backed = backedOf({ kind: 'csr', shape: csr.shape, indptr: Float64Array.from(csr.indptr), indices: Int32Array.from(csr.indices), data: bad }, reads);
    const densified = { n: 0 };
    const readRows = BackedRowSource.prototype.readRows;
    BackedRowSource.prototype.readRows = function (this: BackedRowSource, idx: ArrayLike<number>) {
      densified.n++;
      return readRows.call(this, idx);
    };
    try {
      const ds = backedAnnDataDataset(backed, { blockSize: 100 });
      expect(() => Invae.setup(ds, setup, quiet)).toThrow(new RegExp(`cell 130, gene '${sim.geneNames[csr.indices[p]!]}' holds 2\\.5`));
      const good = backedAnnDataDataset(backedOf({ kind: 'csr', shape: csr.shape, indptr: Float64Array.from(csr.indptr), indices: Int32Array.from(csr.indices), data: Float32Array.from(csr.data) }, reads), { blockSize: 100 });
      reads.n = 0;
      const m = Invae.setup(good, setup, quiet);
      m.dispose();
      expect(reads.n).toBe(3); // one pass, block by block
      expect(densified.n).toBe(0);
    } finally {
      BackedRowSource.prototype.readRows = readRows;
    }
  });
});

describe('writeResults', () => {
  const k = 3;
  const prediction: Prediction = {
    classes: ['a', 'b', 'c'],
    labels: Array.from({ length: sim.nCells }, (_, i) => ['c', 'a', 'b'][i % 3]!),
    probabilities: Float32Array.from({ length: sim.nCells * k }, (_, p) => (p % k === [2, 0, 1][Math.floor(p / k) % 3] ? 0.8 : 0.1)),
  };
  const latent = { nRows: sim.nCells, nCols: 2, data: Float32Array.from({ length: sim.nCells * 2 }, (_, i) => i / 10) };

  it('puts the latent into obsm and the labels (categorical) and their confidence into obs', () => {
    const adata = adataOf();
    const before = adata.obs.table;
    expect(writeResults(adata, { latent, prediction, predictionKey: 'cell_type_pred' })).toBe(adata);
    expect(adata.obsm.X_inVAE).toEqual({ kind: 'dense', shape: [sim.nCells, 2], dtype: 'float32', data: latent.data });
    expect(adata.obs.table).not.toBe(before);
    expect(Array.from(adata.obs.table.array('cell_type_pred'))).toEqual(prediction.labels);
    expect(Array.from(adata.obs.table.array('cell_type_pred_confidence'))).toEqual(Array.from({ length: sim.nCells }, () => Math.fround(0.8)));
    expect(adata.obs.columns.cell_type_pred).toEqual({ kind: 'categorical', categories: ['a', 'b', 'c'], ordered: false });
    expect(adata.obs.columns.cell_type_pred_confidence).toEqual({ kind: 'numeric', dtype: 'float32' });
    expect(Object.keys(adata.obs.columns)).toEqual(['cell_type', 'batch', 'cell_type_pred', 'cell_type_pred_confidence']);
    // before.assign did not change the old table
    expect(() => before.array('cell_type_pred')).toThrow();
  });

  it("writes a prediction's own confidence, also for cells marked unknown (withConfidence)", () => {
    const adata = adataOf();
    const marked = withConfidence({ ...prediction, probabilities: prediction.probabilities.map((p, j) => (Math.floor(j / k) === 0 ? 1 / 3 : p)) }, 0.5);
    expect(marked.labels[0]).toBe('unknown');
    writeResults(adata, { prediction: marked, predictionKey: 'cell_type_pred' });
    const conf = Array.from(adata.obs.table.array('cell_type_pred_confidence') as Float32Array);
    expect(conf[0]).toBe(Math.fround(1 / 3));
    expect(conf.slice(1)).toEqual(Array.from({ length: sim.nCells - 1 }, () => Math.fround(0.8)));
    expect(adata.obs.columns.cell_type_pred).toEqual({ kind: 'categorical', categories: ['a', 'b', 'c', 'unknown'], ordered: false });
  });

  it('uses the default keys, leaves confidence out on request, and writes nothing when a result does not fit', () => {
    const adata = adataOf();
    writeResults(adata, { prediction, confidenceKey: null });
    expect(Object.keys(adata.obs.columns)).toEqual(['cell_type', 'batch', 'inVAE_pred']);
    const other = adataOf();
    expect(() => writeResults(other, { latent, prediction: { ...prediction, labels: prediction.labels.slice(1) } })).toThrow(/the prediction has 239 labels .* 240 cells/);
    expect(other.obsm).toEqual({});
    expect(Object.keys(other.obs.columns)).toEqual(['cell_type', 'batch']);
    expect(() => writeResults(other, { latent: { ...latent, nRows: 10 } })).toThrow(InvalidOptionError);
    expect(() => writeResults(other, { latent, latentKey: 'a/b' })).toThrow(/latentKey must be a non-empty name/);
    expect(other.obsm).toEqual({});
  });
});
