import { annDataDataset, type InvaeDataset } from '@invae/core';
import { frameIndex, readH5ad, type AnnData } from '@invae/io-anndata';

/** An AnnData read from disk plus the dataset view invae trains on. */
export interface LoadedDataset {
  adata: AnnData;
  data: InvaeDataset;
  cellNames: string[];
}

/**
 * Reads an .h5ad file and exposes X (or `layer`) with the var names and obs columns as an
 * {@link InvaeDataset} (core's `annDataDataset`). Unknown layers are a clear error listing the available ones.
 */
export async function loadDataset(file: string, layer?: string | null): Promise<LoadedDataset> {
  const adata = await readH5ad(file, { X: !layer, requireX: !layer, layers: Boolean(layer) });
  const data = annDataDataset(adata, { layer: layer ?? null, source: file });
  return { adata, data, cellNames: frameIndex(adata.obs) };
}
