/**
 * HDF5 compression filters of h5wasm-plugins (LZF, Blosc incl. its Zstd codec, LZ4, BZip2, …): files written by
 * Python h5py (+ hdf5plugin) are read and compared value by value with what Python anndata reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readH5ad, UnsupportedFilterError } from '../src/index';
import { anndataJudge, needsPython, runPython, tmpDir } from './helpers';
import { expectSameAsPython } from './py-compare';

const dir = tmpDir('filters');

/** Writes the test file for one filter; null when Python has no plugin for it (Debian's filter packages). */
function make(filter: string): string | null {
  const f = path.join(dir, `${filter}.h5ad`);
  const r = JSON.parse(runPython('make_filtered.py', [f, filter])) as { unavailable: string[] };
  return r.unavailable.length ? null : f;
}

// Python writes the filtered files (h5py, hdf5plugin) and is the judge of what they hold (anndata).
const judge = anndataJudge.and(needsPython('hdf5plugin'));

judge.describe('compression filters of h5wasm-plugins', () => {
  it('reads LZF (X, layers, obs/var, obsm, uns, raw) as Python anndata does', async () => {
    const f = make('lzf')!;
    expect(f).not.toBeNull();
    const a = await readH5ad(f);
    expect(a.nObs).toBe(40);
    expectSameAsPython(f, a, 'lzf');
  });

  it('refuses an LZF string array without a recorded chunk size with a typed error (the plugin would abort)', async () => {
    const f = make('lzf')!;
    const err = await readH5ad(`${f}.strings.h5ad`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedFilterError);
    const e = err as UnsupportedFilterError;
    expect(e.element).toBe('/uns/lzf_strings');
    expect(e.message).toMatch(/LZF/);
    expect(e.hint).toMatch(/gzip/);
    // the library still works afterwards (no wasm abort)
    expect((await readH5ad(f)).nObs).toBe(40);
  });

  for (const filter of ['blosc', 'blosc-zstd', 'lz4', 'bz2', 'zstd', 'bshuf']) {
    it(`reads ${filter} as Python anndata does (skipped when Python has no ${filter} plugin)`, async (ctx) => {
      const f = make(filter);
      if (!f) {
        ctx.skip(`python3-hdf5plugin has no ${filter} filter plugin installed (Debian: hdf5-filter-plugin*)`);
        return;
      }
      expect(fs.existsSync(f)).toBe(true);
      const a = await readH5ad(f);
      expect(a.nObs).toBe(40);
      expectSameAsPython(f, a, filter);
    });
  }
});
