import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DataValidationError,
  Invae,
  InvalidOptionError,
  MinibatchSampler,
  denseMatrix,
  initEngine,
  registerPrior,
  rowSource,
  simulate,
  unregisterPrior,
  type RowDataset,
  type RowSource,
} from '../src/index';
import { StandardNormalPrior } from './model-helpers';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  registerPrior({ name: 'test-normal-b', family: 'gaussian', create: (ctx) => new StandardNormalPrior(ctx.latentDim) });
  registerPrior({ name: 'test-deriving', family: 'gaussian', create: (ctx) => new StandardNormalPrior(ctx.latentDim), deriveColumns: () => ({}) });
});
afterAll(() => {
  unregisterPrior('test-normal-b');
  unregisterPrior('test-deriving');
});

const blockOf = (r: number, size: number) => Math.floor(r / size);

describe('block-shuffled minibatches', () => {
  it('permutes all rows, each window drawing from at most `window` blocks, reproducibly per epoch', () => {
    const s = new MinibatchSampler({ rows: 1000, batchSize: 50, seed: 3, blocks: { size: 64, window: 3 } });
    const e0 = s.epochOrder(0);
    expect(Array.from(e0).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(s.epochOrder(0))).toEqual(Array.from(e0));
    expect(Array.from(s.epochOrder(1))).not.toEqual(Array.from(e0));
    // consecutive windows of ≤ 3 blocks: walk the order and count distinct blocks per window
    const seen: Set<number>[] = [];
    let cur = new Set<number>();
    let rowsInWindow = 0;
    const windowRows: number[] = [];
    for (const r of e0) {
      cur.add(blockOf(r, 64));
      rowsInWindow++;
      if (cur.size > 3) throw new Error('window spans more than 3 blocks');
      // a window ends when it has used all rows of its blocks
      const full = [...cur].reduce((n, b) => n + Math.min(64, 1000 - b * 64), 0);
      if (rowsInWindow === full) {
        seen.push(cur);
        windowRows.push(rowsInWindow);
        cur = new Set();
        rowsInWindow = 0;
      }
    }
    expect(rowsInWindow).toBe(0);
    expect(seen.length).toBe(Math.ceil(Math.ceil(1000 / 64) / 3));
    // rows are mixed within a window (not left in block order)
    const firstWindow = Array.from(e0.subarray(0, windowRows[0]));
    expect(firstWindow).not.toEqual([...firstWindow].sort((a, b) => a - b));
    // every batch touches at most 2 windows' worth of blocks
    for (const batch of s.batches(0)) expect(new Set(Array.from(batch, (r) => blockOf(r, 64))).size).toBeLessThanOrEqual(6);
  });

  it('works on an explicit subset of rows and rejects bad block options', () => {
    const rows = Int32Array.from({ length: 300 }, (_, i) => i * 3);
    const s = new MinibatchSampler({ rows, batchSize: 32, seed: 1, blocks: { size: 100, window: 2 } });
    expect(Array.from(s.epochOrder(0)).sort((a, b) => a - b)).toEqual(Array.from(rows));
    expect(() => new MinibatchSampler({ rows: 10, batchSize: 2, blocks: { size: 0, window: 1 } })).toThrow(InvalidOptionError);
    expect(() => new MinibatchSampler({ rows: 10, batchSize: 2, blocks: { size: 4, window: 0 } })).toThrow(InvalidOptionError);
  });
});

const sim = simulate({ nCells: 400, nGenes: 25, nBatches: 2, nCellTypes: 3, nDiseases: 1, latentDimInv: 3, latentDimSpur: 1, seed: 9 });

/** A row source stored in blocks of 50 rows that records which blocks every read touches. */
function blockedSource(inner: RowSource, size: number): RowSource & { reads: number[][] } {
  const reads: number[][] = [];
  return {
    nRows: inner.nRows,
    nCols: inner.nCols,
    blockSize: size,
    reads,
    readRows(idx) {
      reads.push([...new Set(Array.from(idx as ArrayLike<number>, (r) => blockOf(r, size)))]);
      return inner.readRows(idx);
    },
  };
}

const setup = {
  invariant: { categorical: ['cell_type'] },
  spurious: { categorical: ['batch'] },
  options: { latentDimInv: 3, latentDimSpur: 1, hiddenDim: 16, seed: 4 },
  invPrior: { name: 'test-normal-b' },
  spurPrior: { name: 'test-normal-b' },
};

describe('training from a row-streamed dataset', () => {
  it('validates it in one pass, trains with block-local minibatches, and embeds it', async () => {
    const src = blockedSource(rowSource(sim.counts), 50);
    const data: RowDataset = { rows: src, geneNames: sim.geneNames, obs: sim.obs };
    const w = Invae.setup(data, setup, { warn: () => {} });
    const validationReads = src.reads.length;
    expect(validationReads).toBe(8); // 400 rows in blocks of 50, read once
    const h = await w.train(data, { epochs: 3, batchSize: 40, seed: 1, shuffleWindow: 2 });
    expect(h.epochs[2]!.loss).toBeLessThan(h.epochs[0]!.loss);
    const trainReads = src.reads.slice(validationReads); // no second validation pass
    expect(trainReads).toHaveLength(3 * 10);
    for (const blocks of trainReads) expect(blocks.length).toBeLessThanOrEqual(4);
    const z = w.latent(data);
    expect(z.nRows).toBe(400);
    expect(Array.from(z.data).every(Number.isFinite)).toBe(true);
    w.dispose();
  });

  it('rejects non-count values and priors that derive covariates from all counts', () => {
    const bad = Float32Array.from(rowSource(sim.counts).readRows(Int32Array.from({ length: 400 }, (_, i) => i)));
    bad[7 * 25 + 3] = 0.5;
    const data: RowDataset = { rows: rowSource(denseMatrix(400, 25, bad)), geneNames: sim.geneNames, obs: sim.obs };
    expect(() => Invae.setup(data, setup, { warn: () => {} })).toThrow(DataValidationError);
    const ok: RowDataset = { rows: rowSource(sim.counts), geneNames: sim.geneNames, obs: sim.obs };
    expect(() => Invae.setup(ok, { ...setup, invPrior: { name: 'test-deriving' } }, { warn: () => {} })).toThrow(/row-streamed/);
  });
});
