import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Invae, annDataDataset, csrToDense, initEngine, writeResults, type AnnDataLike, type BackedAnnDataLike, type CsrMatrix } from '@invae/core';
import { openH5ad, readH5ad, writeH5ad, type AnnData, type BackedAnnData, type CscMatrix } from '@invae/io-anndata';
import { registerBuiltinPriors } from '@invae/priors';
import type * as common from '@invae/common';
import type * as core from '@invae/core';
import type * as io from '@invae/io-anndata';
import { invae } from './helpers';

// The library's AnnData bridge against the real reader/writer: core declares the AnnData shape it
// reads structurally (it never imports @invae/io-anndata); io-anndata's types must keep satisfying it.

/** Compile-time: `npx nx run cli:typecheck` fails here if io-anndata's AnnData types drift from core's. */
type Assert<T extends true> = T;
export type AnnDataFitsCore = Assert<AnnData extends AnnDataLike ? true : false>;
export type BackedAnnDataFitsCore = Assert<BackedAnnData extends BackedAnnDataLike ? true : false>;
/** Compile-time: core and io-anndata hand out @invae/common's matrix types, not look-alikes of their own. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export type OneMatrixType = Assert<
  Same<core.Matrix, common.Matrix> extends true
    ? Same<io.Matrix, common.Matrix> extends true
      ? Same<core.DenseMatrix, io.DenseMatrix> extends true
        ? Same<core.CsrMatrix, io.CsrMatrix> extends true
          ? Same<core.CscMatrix, io.CscMatrix> extends true
            ? Same<core.AnnDataMatrix, io.Matrix>
            : false
          : false
        : false
      : false
    : false
>;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-bridge-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sim = path.join(dir, 'sim.h5ad');
const setup = { invariant: { categorical: ['cell_type'] }, spurious: { categorical: ['batch'] }, options: { latentDimInv: 3, latentDimSpur: 1, hiddenDim: 16, seed: 3 } };

beforeAll(async () => {
  const r = invae(['simulate', '--out', sim, '--cells', '200', '--genes', '30', '--batches', '2', '--cell-types', '3', '--seed', '4']);
  expect(r.code, r.stderr).toBe(0);
  await initEngine({ backend: 'wasm', report: null });
  registerBuiltinPriors();
});

/** scipy's tocsc of a CSR matrix (the test's own; the library only converts CSC → CSR). */
function toCsc(m: CsrMatrix): CscMatrix {
  const [nRows, nCols] = m.shape;
  const d = csrToDense(m).data;
  const indptr = new Float64Array(nCols + 1);
  const indices: number[] = [];
  const data: number[] = [];
  for (let c = 0; c < nCols; c++) {
    for (let r = 0; r < nRows; r++) {
      const v = d[r * nCols + c]!;
      if (v !== 0) {
        indices.push(r);
        data.push(v);
      }
    }
    indptr[c + 1] = indices.length;
  }
  return { kind: 'csc', shape: [nRows, nCols], dtype: 'float32', indptr, indices: Int32Array.from(indices), data: Float32Array.from(data) };
}

describe('AnnData in, AnnData out, from code', () => {
  it('io-anndata AnnData → setup/train/latent/predict → writeResults → writeH5ad → read back', async () => {
    const adata = await readH5ad(sim);
    const model = Invae.setup(adata, setup);
    try {
      await model.train(adata, { epochs: 2, batchSize: 64, seed: 1 });
      const latent = model.latent(adata);
      model.trainPredictor(adata, 'cell_type');
      const prediction = model.predict(adata);
      writeResults(adata, { latent, prediction, predictionKey: 'cell_type_pred' });
      const out = path.join(dir, 'annotated.h5ad');
      await writeH5ad(out, adata);
      const back = await readH5ad(out);
      const z = back.obsm.X_inVAE;
      expect(z && 'kind' in z && z.kind).toBe('dense');
      expect(z && 'shape' in z && z.shape).toEqual([200, 3]);
      expect(Array.from((z as { data: Float32Array }).data)).toEqual(Array.from(latent.data));
      expect(back.obs.table.array('cell_type_pred')).toEqual(prediction.labels);
      expect(back.obs.columns.cell_type_pred).toMatchObject({ kind: 'categorical', categories: [...new Set(prediction.labels)].sort() });
      const conf = back.obs.table.array('cell_type_pred_confidence') as Float32Array;
      expect(conf.length).toBe(200);
      expect(Array.from(conf).every((p) => p > 0 && p <= 1)).toBe(true);
      // the input's other elements are carried over
      expect(back.obs.table.array('batch')).toEqual(adata.obs.table.array('batch'));
    } finally {
      model.dispose();
    }
  });

  it('a backed AnnData (openH5ad) streams rows and gives the latent of the in-memory one', async () => {
    const adata = await readH5ad(sim);
    const backed = await openH5ad(sim);
    const model = Invae.setup(adata, setup);
    try {
      await model.train(backed, { epochs: 1, batchSize: 64, seed: 1 });
      expect(Array.from(model.latent(backed).data)).toEqual(Array.from(model.latent(adata).data));
    } finally {
      model.dispose();
      backed.close();
    }
  });

  it('a CSC X and a named layer read the same counts as the CSR X; a missing layer lists the layers', async () => {
    const adata = await readH5ad(sim);
    const csr = annDataDataset(adata).counts as CsrMatrix;
    expect(csr.kind).toBe('csr');
    const cscFile = path.join(dir, 'csc.h5ad');
    await writeH5ad(cscFile, { ...adata, X: toCsc(csr), layers: { counts: adata.X! } });
    const c = await readH5ad(cscFile);
    expect(c.X!.kind).toBe('csc');
    const fromCsc = annDataDataset(c).counts as CsrMatrix;
    expect(Array.from(csrToDense(fromCsc).data)).toEqual(Array.from(csrToDense(csr).data));
    expect(Array.from(csrToDense(annDataDataset(c, { layer: 'counts' }).counts as CsrMatrix).data)).toEqual(Array.from(csrToDense(csr).data));
    expect(() => annDataDataset(c, { layer: 'raw' })).toThrow(/has no layer 'raw' \(layers: counts\)/);
  });
});
