import { backedAnnDataDataset, type BackedRowSource, type BackedRowsOptions, type RowDataset } from '@invae/core';
import { frameIndex, openH5ad } from '@invae/io-anndata';

/** A backed .h5ad opened for training: the row-streamed dataset, the cell names and the file to close. */
export interface BackedDataset {
  data: RowDataset;
  rows: BackedRowSource;
  cellNames: string[];
  /** Closes the file (call when done). */
  close: () => void;
}

/**
 * Opens an .h5ad without loading X: obs and var are read now, X (or `layer`) is streamed by row
 * blocks as training reads it (core's `backedAnnDataDataset`). Unknown layers are a clear error
 * listing the available ones.
 */
export async function openBackedDataset(file: string, layer?: string | null, options: BackedRowsOptions = {}): Promise<BackedDataset> {
  const backed = await openH5ad(file);
  try {
    const data = backedAnnDataDataset(backed, { ...options, layer: layer ?? null, source: file });
    return { data, rows: data.rows, cellNames: frameIndex(backed.obs), close: () => backed.close() };
  } catch (e) {
    backed.close();
    throw e;
  }
}
