/** Backed access: obs/var and shapes without X, row blocks by indptr slicing equal to the full matrix. */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openH5ad, writeH5ad, readH5ad, AnnDataFormatError, type SparseMatrix, type DenseMatrix } from '../src/index';
import { needsShared, sharedDir, tmpDir } from './helpers';
import { syntheticAnnData, randomCsr, csrToDense } from './synthetic';

let dir: string;
beforeAll(() => {
  dir = tmpDir('backed');
});

describe('openH5ad / rowBlocks', () => {
  it('gives obs/var and shapes, and CSR row blocks that reassemble X exactly', async () => {
    const a = syntheticAnnData();
    const X = randomCsr(a.nObs, a.nVars, 0.4, 99);
    const f = path.join(dir, 'csr.h5ad');
    await writeH5ad(f, { ...a, X });
    const b = await openH5ad(f);
    try {
      expect([b.nObs, b.nVars]).toEqual([a.nObs, a.nVars]);
      expect(b.obs.table.array('_index')).toEqual(a.obs.table.array('_index'));
      expect(b.matrixInfo('X')).toMatchObject({ kind: 'csr', shape: [a.nObs, a.nVars], dtype: 'float32', nnz: X.data.length, filters: ['deflate'] });
      expect(b.layerNames().sort()).toEqual(['X_copy', 'counts']);
      expect(b.obsmShapes()).toEqual({ X_invae: [a.nObs, 4] });
      for (const bs of [1, 7, 4096]) {
        const data: number[] = [];
        const indices: number[] = [];
        const indptr = [0];
        let expectStart = 0;
        for (const blk of b.rowBlocks('X', bs)) {
          expect(blk.start).toBe(expectStart);
          expect(blk.end - blk.start).toBeLessThanOrEqual(bs);
          const m = blk.matrix as SparseMatrix;
          expect(m.kind).toBe('csr');
          expect(m.shape).toEqual([blk.end - blk.start, a.nVars]);
          expect(m.indptr[0]).toBe(0);
          for (let i = 1; i < m.indptr.length; i++) indptr.push(data.length + m.indptr[i]);
          data.push(...m.data);
          indices.push(...m.indices);
          expectStart = blk.end;
        }
        expect(expectStart).toBe(a.nObs);
        expect(data).toEqual(Array.from(X.data));
        expect(indices).toEqual(Array.from(X.indices));
        expect(indptr).toEqual(Array.from(X.indptr));
      }
      // dense layer streams too
      const rows: number[] = [];
      for (const blk of b.rowBlocks('counts', 4)) rows.push(...(blk.matrix as DenseMatrix).data);
      expect(rows).toEqual(Array.from(csrToDense(a.X as SparseMatrix)));
      expect(b.readMatrix('X').data).toEqual(X.data);
    } finally {
      b.close();
    }
  });

  needsShared('anndata-fixtures/csc-no-columns.h5ad').it('rejects CSC row blocks with a typed error and a hint', async () => {
    const b = await openH5ad(path.join(sharedDir, 'anndata-fixtures/csc-no-columns.h5ad'));
    try {
      expect(b.matrixInfo('X').kind).toBe('csc');
      let err: unknown;
      try {
        [...b.rowBlocks('X', 8)];
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AnnDataFormatError);
      expect((err as AnnDataFormatError).hint).toMatch(/tocsr/);
      const full = await readH5ad(path.join(sharedDir, 'anndata-fixtures/csc-no-columns.h5ad'));
      expect(b.readMatrix('X').data).toEqual(full.X!.data);
    } finally {
      b.close();
    }
  });

  it('writeH5ad streams X from row blocks (larger-than-memory writes) and validates the blocks', async () => {
    const a = syntheticAnnData();
    const X = a.X as SparseMatrix;
    const f = path.join(dir, 'streamed.h5ad');
    const blocks = function* () {
      for (let r = 0; r < a.nObs; r += 8) {
        const r1 = Math.min(a.nObs, r + 8);
        const s = X.indptr[r];
        const e = X.indptr[r1];
        yield {
          start: r,
          end: r1,
          matrix: {
            kind: 'csr' as const,
            shape: [r1 - r, a.nVars] as [number, number],
            dtype: 'float32',
            data: X.data.subarray(s, e),
            indices: X.indices.subarray(s, e),
            indptr: Float64Array.from(X.indptr.subarray(r, r1 + 1), (v) => v - s),
          },
        };
      }
    };
    await writeH5ad(f, { ...a, X: undefined }, { streamX: { shape: [a.nObs, a.nVars], blocks } });
    const back = await readH5ad(f);
    expect(back.X!.kind).toBe('csr');
    expect(Array.from(back.X!.data)).toEqual(Array.from(X.data));
    expect(Array.from((back.X as SparseMatrix).indptr)).toEqual(Array.from(X.indptr));
    const skipping = function* () {
      const all = [...blocks()];
      yield all[0];
      yield all[2];
    };
    await expect(writeH5ad(path.join(dir, 'bad-stream.h5ad'), { ...a, X: undefined }, { streamX: { shape: [a.nObs, a.nVars], blocks: skipping } })).rejects.toThrow(
      /expected a block starting at row 8/,
    );
  });

  it('writeH5ad writes layers given as row blocks (streamLayers), and checks their shape and names', async () => {
    const a = syntheticAnnData();
    const [n, m] = [a.nObs, a.nVars];
    const values = Float32Array.from({ length: n * m }, (_, k) => k / 7);
    const blocks = function* () {
      for (let s = 0; s < n; s += 4) {
        const e = Math.min(n, s + 4);
        yield { start: s, end: e, matrix: { kind: 'dense' as const, shape: [e - s, m] as [number, number], dtype: 'float32' as const, data: values.slice(s * m, e * m) } };
      }
    };
    const f = path.join(dir, 'stream-layer.h5ad');
    await writeH5ad(f, a, { streamLayers: { expr: { shape: [n, m], blocks } } });
    const back = await readH5ad(f);
    const layer = back.layers.expr as DenseMatrix;
    expect(layer.shape).toEqual([n, m]);
    expect(Array.from(layer.data)).toEqual(Array.from(values));
    expect(Object.keys(back.layers).sort()).toEqual([...Object.keys(a.layers), 'expr'].sort());
    await expect(writeH5ad(path.join(dir, 'bad-layer.h5ad'), a, { streamLayers: { expr: { shape: [n, m + 1], blocks } } })).rejects.toThrow(/streamed layer 'expr' has shape/);
    await expect(writeH5ad(path.join(dir, 'bad-name.h5ad'), a, { streamLayers: { 'a/b': { shape: [n, m], blocks } } })).rejects.toThrow();
  });

  it('rejects a missing layer with MissingElementError', async () => {
    const a = syntheticAnnData();
    const f = path.join(dir, 'x.h5ad');
    await writeH5ad(f, a);
    const b = await openH5ad(f);
    try {
      expect(() => b.matrixInfo('nope')).toThrow(/no matrix "nope"/);
      expect(() => [...b.rowBlocks('X', 0)]).toThrow(RangeError);
    } finally {
      b.close();
    }
  });
});
