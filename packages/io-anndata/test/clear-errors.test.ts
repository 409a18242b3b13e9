/**
 * Clear errors: bad element names, failed writes (a full disk), HDF5 files that are not AnnData and folders give
 * typed errors naming the user's file, never HDF5-DIAG stacks, temporary names, or partial files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AnnDataFormatError,
  AnnDataWriteError,
  NotAnnDataError,
  openH5ad,
  readH5ad,
  summarizeH5ad,
  updateH5ad,
  writeH5ad,
  type DenseMatrix,
} from '../src/index';
import { condenseHdf5Error } from '../src/hdf5-diag';
import { runPython, tmpDir } from './helpers';
import { syntheticAnnData } from './synthetic';

afterEach(() => {
  vi.restoreAllMocks();
});

const latent = (n: number): DenseMatrix => ({ kind: 'dense', shape: [n, 2], dtype: 'float32', data: new Float32Array(n * 2) });

/** Every error message a user sees stays short and HDF5-internals-free. */
function expectClean(e: unknown, file: string): void {
  const err = e as Error;
  expect(err.message).not.toMatch(/HDF5-DIAG|#00\d|\.tmp|__w\/libhdf5/);
  expect(err.message.length).toBeLessThan(400);
  expect(err.message).toContain(file);
}

describe('bad element names', () => {
  it('updateH5ad refuses obsm/uns keys that are not HDF5 names before writing, leaving the file as it was', async () => {
    const dir = tmpDir('names');
    const f = path.join(dir, 'a.h5ad');
    const a = syntheticAnnData();
    await writeH5ad(f, a);
    const before = fs.readFileSync(f);
    for (const key of ['a/b', '', '.', 'X_invae/sub']) {
      const err = await updateH5ad(f, { obsm: { [key]: latent(a.nObs) } }).catch((e: unknown) => e);
      expect(err, key).toBeInstanceOf(AnnDataWriteError);
      expectClean(err, f);
      expect((err as AnnDataWriteError).hint).toMatch(/'\/'/);
    }
    const err = await updateH5ad(f, { uns: { run: { 'x/y': 1 } } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AnnDataWriteError);
    expect((err as Error).message).toContain('"x/y"');
    expect(fs.readFileSync(f).equals(before)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['a.h5ad']);
  });

  it('writeH5ad refuses an obs column named with a slash, creating no file', async () => {
    const dir = tmpDir('names-w');
    const f = path.join(dir, 'b.h5ad');
    const a = syntheticAnnData();
    const obs = { ...a.obs, columns: { ...a.obs.columns, 'bad/name': { kind: 'numeric' as const, dtype: 'float64' } } };
    const err = await writeH5ad(f, { ...a, obs }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AnnDataWriteError);
    expectClean(err, f);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('condenses an HDF5-DIAG stack to the outer message and its innermost cause', () => {
    const dump = [
      'HDF5-DIAG: Error detected in HDF5 (2.0.0):',
      '  #000: /__w/libhdf5-wasm/src/H5D.c line 189 in H5Dcreate2(): unable to synchronously create dataset',
      '    major: Dataset',
      '    minor: Unable to create file',
      '  #001: /__w/libhdf5-wasm/src/H5Gtraverse.c line 741 in H5G__traverse_real(): component not found',
      '    major: Symbol table',
      '    minor: Object not found',
    ].join('\n');
    expect(condenseHdf5Error(dump)).toBe('unable to synchronously create dataset: component not found');
    expect(condenseHdf5Error('plain message')).toBe('plain message');
  });
});

describe('failed writes', () => {
  it('a full disk during the write names the output file, with a hint, and leaves no partial file', async () => {
    const dir = tmpDir('enospc');
    const f = path.join(dir, 'out.h5ad');
    // writes to the temporary output file fail with ENOSPC after a few succeed (other files, e.g. stdio, work)
    const realOpen = fs.openSync;
    const realWrite = fs.writeSync;
    const outFds = new Set<number>();
    vi.spyOn(fs, 'openSync').mockImplementation(((p: fs.PathLike, ...rest: unknown[]) => {
      const fd = (realOpen as (...a: unknown[]) => number)(p, ...rest);
      if (String(p).startsWith(path.join(dir, '.out.h5ad.'))) outFds.add(fd);
      return fd;
    }) as typeof fs.openSync);
    let writes = 0;
    vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, ...rest: unknown[]) => {
      if (outFds.has(fd) && ++writes > 3) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
      return (realWrite as (...a: unknown[]) => number)(fd, ...rest);
    }) as typeof fs.writeSync);
    const err = await writeH5ad(f, syntheticAnnData()).catch((e: unknown) => e);
    vi.restoreAllMocks();
    expect(writes).toBeGreaterThan(3);
    expect(err).toBeInstanceOf(AnnDataWriteError);
    expectClean(err, f);
    expect((err as AnnDataWriteError).hint).toMatch(/disk is full/);
    expect((err as Error).message).toContain('No space left on device');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a failed rename names the output file, not the temporary one, and removes the temporary file', async () => {
    const dir = tmpDir('rename');
    const f = path.join(dir, 'out.h5ad');
    vi.spyOn(fs.promises, 'rename').mockImplementation(async (from) => {
      throw Object.assign(new Error(`ENOSPC: no space left on device, rename '${String(from)}' -> '${f}'`), { code: 'ENOSPC' });
    });
    const err = await writeH5ad(f, syntheticAnnData()).catch((e: unknown) => e);
    vi.restoreAllMocks();
    expect(err).toBeInstanceOf(AnnDataWriteError);
    expectClean(err, f);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('inputs that are not AnnData files', () => {
  it('an HDF5 file without X, obs, var or anndata attributes gives NotAnnDataError from every reader', async () => {
    const f = path.join(tmpDir('plain'), 'plain.h5');
    runPython('make_plain_h5.py', [f]);
    for (const read of [() => readH5ad(f), () => openH5ad(f), () => summarizeH5ad(f)]) {
      const err = await read().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotAnnDataError);
      expect((err as NotAnnDataError).code).toBe('ANNDATA_NOT_ANNDATA');
      expect((err as Error).message).toContain('measurements');
      expectClean(err, f);
    }
  });

  it('a directory gives a typed "is a directory" error', async () => {
    const d = tmpDir('isdir');
    for (const read of [() => readH5ad(d), () => openH5ad(d), () => summarizeH5ad(d)]) {
      const err = await read().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AnnDataFormatError);
      expect((err as AnnDataFormatError).code).toBe('ANNDATA_IS_DIRECTORY');
      expect((err as Error).message).toMatch(/is a directory/);
      expect((err as AnnDataFormatError).hint).toMatch(/not of a folder/);
    }
  });
});
