/** Random access to row ranges of a backed file (readRowRange): equal to the same rows of the full matrix. */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openH5ad, writeH5ad, AnnDataFormatError, type SparseMatrix, type DenseMatrix } from '../src/index';
import { needsShared, sharedDir, tmpDir } from './helpers';
import { syntheticAnnData, randomCsr, csrToDense } from './synthetic';

let dir: string;
beforeAll(() => {
  dir = tmpDir('backed-range');
});

function denseRows(m: SparseMatrix | DenseMatrix, nCols: number): number[] {
  if (m.kind === 'dense') return Array.from(m.data);
  const out = new Array(m.shape[0] * nCols).fill(0);
  for (let r = 0; r < m.shape[0]; r++) for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) out[r * nCols + m.indices[k]] += m.data[k];
  return out;
}

describe('BackedAnnData.readRowRange', () => {
  it('reads any CSR or dense row range, in any order, equal to those rows of the whole matrix', async () => {
    const a = syntheticAnnData();
    const X = randomCsr(a.nObs, a.nVars, 0.3, 5);
    const f = path.join(dir, 'range.h5ad');
    await writeH5ad(f, { ...a, X });
    const full = csrToDense(X);
    const fullCounts = csrToDense(a.X as SparseMatrix);
    const b = await openH5ad(f);
    try {
      const ranges: [number, number][] = [
        [a.nObs - 3, a.nObs],
        [0, 4],
        [5, 5],
        [2, a.nObs - 1],
        [0, a.nObs],
      ];
      for (const [s, e] of ranges) {
        const blk = b.readRowRange(s, e);
        expect([blk.start, blk.end]).toEqual([s, e]);
        const m = blk.matrix as SparseMatrix;
        expect(m.kind).toBe('csr');
        expect(m.shape).toEqual([e - s, a.nVars]);
        expect(m.indptr[0]).toBe(0);
        expect(denseRows(m, a.nVars)).toEqual(Array.from(full.subarray(s * a.nVars, e * a.nVars)));
        const d = b.readRowRange(s, e, 'counts').matrix as DenseMatrix;
        expect(d.kind).toBe('dense');
        expect(Array.from(d.data)).toEqual(Array.from(fullCounts.subarray(s * a.nVars, e * a.nVars)));
      }
      expect(() => b.readRowRange(-1, 2)).toThrow(RangeError);
      expect(() => b.readRowRange(3, 2)).toThrow(RangeError);
      expect(() => b.readRowRange(0, a.nObs + 1)).toThrow(RangeError);
    } finally {
      b.close();
    }
  });

  needsShared('anndata-fixtures/csc-no-columns.h5ad').it('rejects CSC matrices with a typed error and a hint', async () => {
    const b = await openH5ad(path.join(sharedDir, 'anndata-fixtures/csc-no-columns.h5ad'));
    try {
      let err: unknown;
      try {
        b.readRowRange(0, 1);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AnnDataFormatError);
      expect((err as AnnDataFormatError).hint).toMatch(/tocsr/);
    } finally {
      b.close();
    }
  });
});
