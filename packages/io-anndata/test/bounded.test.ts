/** Backed row blocks of a dense X read hyperslabs of the rows asked for, never the whole dataset. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openH5ad } from '../src/index';
import { loadH5 } from '../src/h5';
import { runPython, tmpDir } from './helpers';

describe('dense X in row blocks', () => {
  it('rowBlocks and readRowRange request row slices only, and the blocks reassemble X exactly', async () => {
    const [n, m, block] = [57, 9, 10];
    const f = path.join(tmpDir('dense-blocks'), 'dense.h5ad');
    const X = JSON.parse(runPython('make_dense.py', [f, String(n), String(m)])) as number[];
    const lib = await loadH5();
    const proto = lib.Dataset.prototype as unknown as { slice: (r: number[][]) => unknown };
    const valueDesc = Object.getOwnPropertyDescriptor(lib.Dataset.prototype, 'value')!;
    const slices: number[][][] = [];
    const wholeReads: string[] = [];
    const origSlice = proto.slice;
    proto.slice = function (this: { path: string }, ranges: number[][]) {
      if (this.path === '/X') slices.push(ranges);
      return origSlice.call(this, ranges);
    };
    Object.defineProperty(lib.Dataset.prototype, 'value', {
      configurable: true,
      get(this: { path: string }) {
        if (this.path === '/X') wholeReads.push(this.path);
        return valueDesc.get!.call(this);
      },
    });
    const b = await openH5ad(f);
    try {
      const rows: number[] = [];
      for (const blk of b.rowBlocks('X', block)) {
        expect(blk.matrix.kind).toBe('dense');
        expect(blk.matrix.shape).toEqual([blk.end - blk.start, m]);
        rows.push(...Array.from(blk.matrix.data as Float32Array));
      }
      expect(rows).toEqual(X);
      const r = b.readRowRange(20, 23);
      expect(Array.from(r.matrix.data as Float32Array)).toEqual(X.slice(20 * m, 23 * m));
    } finally {
      b.close();
      proto.slice = origSlice;
      Object.defineProperty(lib.Dataset.prototype, 'value', valueDesc);
    }
    expect(wholeReads).toEqual([]);
    // one slice per block, each over at most `block` rows (and all columns)
    expect(slices.length).toBe(Math.ceil(n / block) + 1);
    for (const s of slices) {
      expect(s.length).toBe(1);
      expect(s[0][1] - s[0][0]).toBeLessThanOrEqual(block);
    }
  }, 60_000);
});
