/** Matrices are @invae/common's types, whose `dtype` is optional (core's constructors leave it out): the writers take it from the typed array. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readH5ad, updateH5ad, writeH5ad, type CsrMatrix, type DenseMatrix } from '../src/index';
import { tmpDir } from './helpers';
import { syntheticAnnData } from './synthetic';

describe('matrices without a dtype', () => {
  it('are written with the dtype of their typed array (X as CSR, obsm dense), and read back with it', async () => {
    const a = syntheticAnnData();
    const X = a.X as CsrMatrix;
    const { dtype: _x, ...csr } = X;
    const latent: DenseMatrix = { kind: 'dense', shape: [a.nObs, 3], data: Float64Array.from({ length: a.nObs * 3 }, (_, i) => i / 7) };
    const f = path.join(tmpDir('nodtype'), 'a.h5ad');
    await writeH5ad(f, { ...a, X: csr, obsm: { X_plain: latent } });
    const back = await readH5ad(f);
    expect(back.X!.kind).toBe('csr');
    expect(back.X!.dtype).toBe('float32');
    expect(Array.from(back.X!.data)).toEqual(Array.from(X.data));
    const got = back.obsm.X_plain as DenseMatrix;
    expect([got.dtype, got.shape]).toEqual(['float64', [a.nObs, 3]]);
    expect(Array.from(got.data)).toEqual(Array.from(latent.data));
  });

  it('updateH5ad replaces an obsm entry given without a dtype (a rebuild, not an in-place overwrite it cannot check)', async () => {
    const a = syntheticAnnData();
    const f = path.join(tmpDir('nodtype-update'), 'a.h5ad');
    const first: DenseMatrix = { kind: 'dense', shape: [a.nObs, 2], dtype: 'float32', data: new Float32Array(a.nObs * 2) };
    await writeH5ad(f, { ...a, obsm: { X_z: first } });
    const next: DenseMatrix = { kind: 'dense', shape: [a.nObs, 2], data: Float32Array.from({ length: a.nObs * 2 }, (_, i) => i) };
    const report = await updateH5ad(f, { obsm: { X_z: next } });
    expect(report.mode).toBe('rebuilt');
    const got = (await readH5ad(f)).obsm.X_z as DenseMatrix;
    expect(got.dtype).toBe('float32');
    expect(Array.from(got.data)).toEqual(Array.from(next.data));
  });
});
