/** A small synthetic AnnData exercising every writable column/value kind. */
import * as aq from 'arquero';
import type { AnnData, Frame, SparseMatrix, DenseMatrix } from '../src/index';

/** Deterministic pseudo-random numbers in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Random CSR matrix with the given density. */
export function randomCsr(nr: number, nc: number, density: number, seed: number): SparseMatrix {
  const r = rng(seed);
  const data: number[] = [];
  const indices: number[] = [];
  const indptr = new Float64Array(nr + 1);
  for (let i = 0; i < nr; i++) {
    for (let j = 0; j < nc; j++) {
      if (r() < density) {
        indices.push(j);
        data.push(1 + Math.floor(r() * 20));
      }
    }
    indptr[i + 1] = indices.length;
  }
  return { kind: 'csr', shape: [nr, nc], dtype: 'float32', data: Float32Array.from(data), indices: Int32Array.from(indices), indptr };
}

/** Densifies a CSR matrix. */
export function csrToDense(m: SparseMatrix): Float32Array {
  const out = new Float32Array(m.shape[0] * m.shape[1]);
  for (let i = 0; i < m.shape[0]; i++) for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) out[i * m.shape[1] + m.indices[p]] = m.data[p];
  return out;
}

/** The synthetic dataset. */
export function syntheticAnnData(): AnnData {
  const nObs = 30;
  const nVars = 8;
  const r = rng(42);
  const X = randomCsr(nObs, nVars, 0.3, 7);
  const cellType = Array.from({ length: nObs }, (_, i) => (i === 3 ? null : ['B', 'T', 'NK'][i % 3]));
  const obs: Frame = {
    indexName: '_index',
    table: aq.table({
      _index: Array.from({ length: nObs }, (_, i) => `cell-${i}`),
      cell_type: cellType,
      stage: Array.from({ length: nObs }, (_, i) => ['low', 'mid', 'high'][i % 3]),
      batch_num: Array.from({ length: nObs }, (_, i) => [10, 20][i % 2]),
      donor: Array.from({ length: nObs }, (_, i) => `donor ${i % 5} é`),
      score: Float64Array.from({ length: nObs }, () => r() * 10 - 5),
      n_genes: Int32Array.from({ length: nObs }, (_, i) => i * 7),
      total: Float64Array.from({ length: nObs }, (_, i) => i * 1e9),
      is_doublet: Array.from({ length: nObs }, (_, i) => i % 4 === 0),
    }),
    columns: {
      cell_type: { kind: 'categorical', categories: ['B', 'T', 'NK'], ordered: false },
      stage: { kind: 'categorical', categories: ['low', 'mid', 'high'], ordered: true },
      batch_num: { kind: 'categorical', categories: [10, 20], ordered: false },
      donor: { kind: 'string' },
      score: { kind: 'numeric', dtype: 'float64' },
      n_genes: { kind: 'numeric', dtype: 'int32' },
      total: { kind: 'numeric', dtype: 'int64' },
      is_doublet: { kind: 'bool' },
    },
  };
  const vr: Frame = {
    indexName: 'gene_id',
    table: aq.table({
      gene_id: Array.from({ length: nVars }, (_, i) => `ENSG${i}`),
      symbol: Array.from({ length: nVars }, (_, i) => `G${i}`),
      mean: Float32Array.from({ length: nVars }, () => r()),
    }),
    columns: { symbol: { kind: 'string' }, mean: { kind: 'numeric', dtype: 'float32' } },
  };
  const latent: DenseMatrix = { kind: 'dense', shape: [nObs, 4], dtype: 'float32', data: Float32Array.from({ length: nObs * 4 }, () => r() - 0.5) };
  const counts: DenseMatrix = { kind: 'dense', shape: [nObs, nVars], dtype: 'float32', data: csrToDense(X) };
  return {
    nObs,
    nVars,
    X,
    obs,
    var: vr,
    layers: { counts, X_copy: { ...X } },
    obsm: { X_invae: latent },
    varm: { loadings: { kind: 'dense', shape: [nVars, 2], dtype: 'float64', data: Float64Array.from({ length: nVars * 2 }, () => r()) } },
    obsp: {},
    varp: {},
    uns: {
      invae: {
        params: { lr: 0.001, epochs: 10, name: 'invae', beta: 1.5 },
        history: Float64Array.from([3.5, 2.25, 1.125]),
        flags: [true, false, true],
        tags: ['a', 'b'],
      },
      cell_type_colors: ['#ff0000', '#00ff00', '#0000ff'],
    },
  };
}
