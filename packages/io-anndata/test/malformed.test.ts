/** Malformed inputs: each must give a typed AnnDataFormatError naming the file (and element), never an abort or hang. */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import {
  readH5ad,
  openH5ad,
  AnnDataFormatError,
  NotHdf5Error,
  TruncatedFileError,
  InconsistentDataError,
  CategoricalCodeError,
  MissingElementError,
} from '../src/index';
import { h5pyJudge, runPython, tmpDir } from './helpers';

let dir: string;

h5pyJudge.beforeAll(() => {
  dir = tmpDir('malformed');
  runPython('make_fixtures.py', [dir]);
});

async function expectError(file: string, cls: new (...a: never[]) => AnnDataFormatError, element?: string, opts = {}) {
  const err = await readH5ad(file, { onWarning: () => {}, ...opts }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `${path.basename(file)} should fail`).toBeInstanceOf(cls);
  const e = err as AnnDataFormatError;
  expect(e).toBeInstanceOf(AnnDataFormatError);
  expect(e.message).toContain(file);
  expect(e.file).toBe(file);
  expect(typeof e.code).toBe('string');
  expect(e.hint.length).toBeGreaterThan(0);
  if (element) expect(e.element).toBe(element);
  return e;
}

h5pyJudge.describe('malformed .h5ad inputs', () => {
  it('random bytes → NotHdf5Error', async () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 256;
    for (const size of [0, 7, 100, 5000]) {
      const f = path.join(dir, `random-${size}.h5ad`);
      fs.writeFileSync(f, Uint8Array.from({ length: size }, rnd));
      await expectError(f, NotHdf5Error);
    }
  });

  it('a missing file → AnnDataFormatError with a hint', async () => {
    const e = await expectError(path.join(dir, 'does-not-exist.h5ad'), AnnDataFormatError);
    expect(e.code).toBe('ANNDATA_NOT_FOUND');
  });

  it('files truncated at several offsets → TruncatedFileError / NotHdf5Error, never a wasm abort', async () => {
    const good = fs.readFileSync(path.join(dir, 'good.h5ad'));
    const cuts = [4, 8, 9, 20, 40, 60, 200, 1000, Math.floor(good.length / 2), good.length - 100, good.length - 1];
    for (const cut of cuts) {
      const f = path.join(dir, `trunc-${cut}.h5ad`);
      fs.writeFileSync(f, good.subarray(0, cut));
      const err = await readH5ad(f).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, `cut at ${cut}`).toBeInstanceOf(AnnDataFormatError);
      expect(err instanceof TruncatedFileError || err instanceof NotHdf5Error, `cut at ${cut}: ${String(err)}`).toBe(true);
    }
    // the same file, untruncated, reads fine
    const a = await readH5ad(path.join(dir, 'good.h5ad'));
    expect(a.nObs).toBe(12);
  });

  it('decreasing indptr → InconsistentDataError at X/indptr', async () => {
    await expectError(path.join(dir, 'bad-indptr.h5ad'), InconsistentDataError, '/X/indptr');
  });

  it('indptr of the wrong length → InconsistentDataError', async () => {
    await expectError(path.join(dir, 'short-indptr.h5ad'), InconsistentDataError, '/X/indptr');
  });

  it('column indices out of range → InconsistentDataError at X/indices', async () => {
    await expectError(path.join(dir, 'bad-indices.h5ad'), InconsistentDataError, '/X/indices');
  });

  it('shape attribute disagreeing with indptr → InconsistentDataError', async () => {
    await expectError(path.join(dir, 'bad-shape.h5ad'), InconsistentDataError);
  });

  it('categorical codes out of range → CategoricalCodeError at the codes', async () => {
    await expectError(path.join(dir, 'bad-codes.h5ad'), CategoricalCodeError, '/obs/ct/codes');
  });

  it('missing X when asked for → MissingElementError; otherwise reads annotations', async () => {
    await expectError(path.join(dir, 'no-x.h5ad'), MissingElementError, '/X', { requireX: true });
    const a = await readH5ad(path.join(dir, 'no-x.h5ad'));
    expect(a.X).toBeUndefined();
    expect(a.nObs).toBe(12);
  });

  it('backed row blocks validate indptr too', async () => {
    const b = await openH5ad(path.join(dir, 'bad-indptr.h5ad'));
    try {
      expect(() => [...b.rowBlocks('X', 4)]).toThrow(InconsistentDataError);
    } finally {
      b.close();
    }
  });
});

h5pyJudge.describe('corrupted file internals', () => {
  it('byte corruption gives a typed error or a successful read, and the library keeps working after a wasm abort', async () => {
    const good = fs.readFileSync(path.join(dir, 'good.h5ad'));
    // byte edits that (with h5py's current layout) make the HDF5 C library abort inside wasm
    const b = Buffer.from(good);
    for (const [p, v] of [
      [13159, 172],
      [14413, 186],
      [2182, 25],
    ] as const)
      if (p < b.length) b[p] = v;
    const f = path.join(dir, 'corrupt.h5ad');
    fs.writeFileSync(f, b);
    const err = await readH5ad(f, { onWarning: () => {} }).then(
      () => null,
      (e: unknown) => e,
    );
    if (err !== null) expect(err).toBeInstanceOf(AnnDataFormatError);
    const a = await readH5ad(path.join(dir, 'good.h5ad'));
    expect(a.nObs).toBe(12);
  });

  it('after an abort is detected, a fresh wasm instance is loaded for the next file', async () => {
    const { errText, wasmAborted } = await import('../src/h5');
    const msg = errText(new Error('Aborted(native code called abort())'));
    expect(msg).toContain('HDF5 library aborted');
    expect(wasmAborted()).toBe(true);
    const a = await readH5ad(path.join(dir, 'good.h5ad'));
    expect(wasmAborted()).toBe(false);
    expect(a.nObs).toBe(12);
    expect(a.X!.data.length).toBeGreaterThan(0);
  });
});

h5pyJudge.describe('corruption that makes the HDF5 library loop', () => {
  it('is stopped by the worker pre-scan with a typed ANNDATA_CORRUPT error, and later files still read', async () => {
    const prev = process.env.INVAE_H5AD_PRESCAN_TIMEOUT_MS;
    process.env.INVAE_H5AD_PRESCAN_TIMEOUT_MS = '2000';
    try {
      const b = Buffer.from(fs.readFileSync(path.join(dir, 'good.h5ad')));
      // byte edits to X's attribute messages that make HDF5 loop forever (h5py's layout of good.h5ad)
      for (const [p, v] of [
        [2904, 207],
        [13589, 234],
        [12063, 232],
      ] as const)
        b[p] = v;
      const f = path.join(dir, 'loops.h5ad');
      fs.writeFileSync(f, b);
      const t0 = Date.now();
      const err = await readH5ad(f).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AnnDataFormatError);
      expect((err as AnnDataFormatError).code).toBe('ANNDATA_CORRUPT');
      expect((err as Error).message).toContain('did not finish');
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      if (prev === undefined) delete process.env.INVAE_H5AD_PRESCAN_TIMEOUT_MS;
      else process.env.INVAE_H5AD_PRESCAN_TIMEOUT_MS = prev;
    }
    // with the default time limit: a loaded machine can take more than the 2 s above to start the pre-scan
    expect((await readH5ad(path.join(dir, 'good.h5ad'))).nObs).toBe(12);
  });

  it('random byte corruption (40 variants) always ends in a read or a typed error', async () => {
    const prev = process.env.INVAE_H5AD_PRESCAN_TIMEOUT_MS;
    process.env.INVAE_H5AD_PRESCAN_TIMEOUT_MS = '2000';
    try {
      const good = fs.readFileSync(path.join(dir, 'good.h5ad'));
      let seed = 99;
      const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const f = path.join(dir, 'fuzz.h5ad');
      for (let t = 0; t < 40; t++) {
        const b = Buffer.from(good);
        const n = 1 + Math.floor(rnd() * 8);
        for (let k = 0; k < n; k++) b[96 + Math.floor(rnd() * (b.length - 96))] = Math.floor(rnd() * 256);
        fs.writeFileSync(f, b);
        const err = await readH5ad(f, { onWarning: () => {} }).then(
          () => null,
          (e: unknown) => e,
        );
        if (err !== null) expect(err, `variant ${t}: ${String(err)}`).toBeInstanceOf(AnnDataFormatError);
      }
      expect((await readH5ad(path.join(dir, 'good.h5ad'))).nObs).toBe(12);
    } finally {
      if (prev === undefined) delete process.env.INVAE_H5AD_PRESCAN_TIMEOUT_MS;
      else process.env.INVAE_H5AD_PRESCAN_TIMEOUT_MS = prev;
    }
  });
});
