import path from 'node:path';
import { readH5ad } from '@invae/io-anndata';
import { benchmarkInputOf, type BenchmarkInput } from '@invae/bench';
import { loadDataset } from './dataset';

/**
 * The input of `invae bench` read from an .h5ad: the dataset (counts from X or `layer`) when methods
 * need it; otherwise obs, obsm and the counts if there are any (embeddings alone are scored without
 * them, so a file without X, or with 0 genes, is fine then).
 */
export async function readBenchInput(file: string, layer: string | undefined, needCounts: boolean): Promise<BenchmarkInput> {
  const name = path.basename(file);
  if (needCounts) {
    const { adata, data, cellNames } = await loadDataset(file, layer);
    return { data, obsm: adata.obsm, cellNames, name };
  }
  const adata = await readH5ad(file, { X: !layer, requireX: false, layers: Boolean(layer) });
  return benchmarkInputOf(adata, layer ?? null, name);
}

