import { InvalidOptionError, annDataDataset, csrMatrix, denseToCsr, frameColumns, frameNames, isAnnDataLike, type AnnDataLike, type InvaeDataset } from '@invae/core';
import type { AnnData } from '@invae/io-anndata';
import type { Embedding } from '../internal/matrix';

/**
 * The data the methods train on: counts (CSR or dense), gene names and obs columns. Today core's
 * {@link InvaeDataset}; the alias is where it widens to whatever `Invae.setup` accepts.
 */
export type BenchmarkDataset = InvaeDataset;

/** An obsm entry: as `@invae/io-anndata` reads it (a dense 2-D array), or a row-major {@link Embedding}. */
export type ObsmEntry = AnnData['obsm'][string] | Embedding;

/** The cells of a benchmark. */
export interface BenchmarkInput {
  /**
   * Counts, gene names and obs. Needed to train methods and to compute PCA; without it (only
   * obsm embeddings scored, as scib-metrics does) give `obs`.
   */
  data?: BenchmarkDataset | null;
  /** obs columns when there is no `data` (ignored otherwise). */
  obs?: InvaeDataset['obs'];
  /** Embeddings computed elsewhere, true latents and the unintegrated embedding, by key (one row per cell). */
  obsm?: Readonly<Record<string, ObsmEntry>>;
  /** Cell names, in row order (their count is the number of cells when there is no `data`). */
  cellNames?: readonly string[];
  /** Name of the data set in titles and in results.json (e.g. the file's base name; default `dataset`). */
  name?: string;
}

/**
 * The benchmark input of an in-memory AnnData (as `readH5ad` of `@invae/io-anndata` returns it): counts
 * from X or `layer` (CSC converted to CSR), gene and cell names, obs and obsm. A file without X (or with
 * 0 genes) still gives obs and obsm, so that embeddings computed elsewhere can be scored.
 */
export function benchmarkInputOf(adata: AnnDataLike, layer: string | null = null, name?: string): BenchmarkInput {
  const obs = frameColumns(adata.obs) as InvaeDataset['obs'];
  const matrix = layer ? adata.layers?.[layer] : adata.X;
  const hasCounts = Boolean(matrix && matrix.shape.length === 2 && matrix.shape[1]! > 0);
  // annDataDataset names a missing layer with the layers there are
  const data = layer || hasCounts ? annDataDataset(adata, { layer, source: name }) : null;
  return { data, obs, obsm: (adata.obsm ?? {}) as BenchmarkInput['obsm'], cellNames: frameNames(adata.obs), name };
}

/** Whether a benchmark input is an AnnData rather than a {@link BenchmarkInput}. */
export function isAnnDataInput(input: BenchmarkInput | AnnDataLike): input is AnnDataLike {
  return isAnnDataLike(input);
}

/** The values of obs[`key`] as strings; a typed error naming `option` for a missing column or missing values. */
export function obsStrings(obs: InvaeDataset['obs'], key: string, option: string): string[] {
  const col = obs[key];
  if (!col) throw new InvalidOptionError(option, `obs has no column '${key}' (available: ${Object.keys(obs).join(', ')}).`);
  const values = Array.from(col as ArrayLike<unknown>, (v) => (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v)) ? '' : String(v)));
  const missing = values.reduce((n, v) => n + (v === '' ? 1 : 0), 0);
  if (missing) {
    throw new InvalidOptionError(option, `obs['${key}'] has ${missing} missing value${missing === 1 ? '' : 's'} (first at cell ${values.indexOf('')}).`, {
      hint: 'drop those cells or fill them in before benchmarking',
    });
  }
  return values;
}

/** A dense 2-D obsm entry as a float matrix, checked against the number of cells and for non-finite values. */
export function obsmMatrix(obsm: Readonly<Record<string, ObsmEntry>>, key: string, nCells: number, option: string): Embedding {
  const m = obsm[key];
  let rows: number;
  let cols: number;
  let source: ArrayLike<number>;
  if (m && 'nRows' in m) [rows, cols, source] = [m.nRows, m.nCols, m.data];
  else if (m && 'kind' in m && m.kind === 'dense' && m.shape.length === 2) [rows, cols, source] = [m.shape[0]!, m.shape[1]!, m.data as ArrayLike<number>];
  else throw new InvalidOptionError(option, `obsm has no dense 2-D embedding '${key}' (obsm: ${Object.keys(obsm).join(', ') || 'none'}).`);
  if (rows !== nCells) throw new InvalidOptionError(option, `obsm['${key}'] has ${rows} rows but the data has ${nCells} cells.`, { hint: 'an embedding needs one row per cell, in obs order' });
  const data = Float32Array.from(source);
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new InvalidOptionError(option, `obsm['${key}'] has a non-finite value (${data[bad]}) at cell ${Math.floor(bad / cols)}, dimension ${bad % cols}.`, {
      hint: 'impute or drop those cells, or leave the embedding out',
    });
  }
  return { data, nRows: rows, nCols: cols };
}

/** The rows `idx` of a dataset (counts as CSR, every obs column). */
export function subsetDataset(data: InvaeDataset, idx: readonly number[]): InvaeDataset {
  const m = data.counts.kind === 'csr' ? data.counts : denseToCsr(data.counts);
  let nnz = 0;
  for (const r of idx) nnz += m.indptr[r + 1]! - m.indptr[r]!;
  const indptr = new Float64Array(idx.length + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let q = 0;
  idx.forEach((r, i) => {
    for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) {
      indices[q] = m.indices[p]!;
      values[q++] = m.data[p]!;
    }
    indptr[i + 1] = q;
  });
  const obs: Record<string, unknown[]> = {};
  for (const [k, col] of Object.entries(data.obs)) if (col) obs[k] = idx.map((i) => (col as ArrayLike<unknown>)[i]);
  return { counts: csrMatrix(idx.length, m.shape[1], indptr, indices, values), geneNames: data.geneNames, obs: obs as InvaeDataset['obs'] };
}

/** The dataset without the obs columns `keys` (a held-out encoding that must not read them). */
export function withoutColumns(data: InvaeDataset, keys: readonly string[]): InvaeDataset {
  const obs = { ...data.obs };
  for (const k of keys) delete (obs as Record<string, unknown>)[k];
  return { ...data, obs };
}
