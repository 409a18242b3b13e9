import path from 'node:path';
import { InvalidOptionError } from '@invae/core';
import { frameIndex, readH5ad } from '@invae/io-anndata';
import type { BenchmarkInput } from '@invae/bench';
import { loadDataset, obsColumns, toCountMatrix } from './dataset';

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
  const matrix = layer ? adata.layers[layer] : adata.X;
  if (layer && !matrix) throw new InvalidOptionError('layer', `${file} has no layer '${layer}' (layers: ${Object.keys(adata.layers).join(', ') || 'none'}).`, { hint: 'omit --layer to use X' });
  const obs = obsColumns(adata) as NonNullable<BenchmarkInput['obs']>;
  const counts = matrix && matrix.shape.length === 2 && matrix.shape[1]! > 0 ? toCountMatrix(matrix) : null;
  return { data: counts ? { counts, geneNames: frameIndex(adata.var), obs } : null, obs, obsm: adata.obsm, cellNames: frameIndex(adata.obs), name };
}

