import { csrMatrix, denseMatrix, InvalidOptionError, type CountMatrix, type InvaeDataset } from '@invae/core';
import { frameIndex, readH5ad, type AnnData, type Matrix } from '@invae/io-anndata';

/** Converts a CSC matrix (scipy layout) to CSR. */
function cscToCsr(m: Extract<Matrix, { kind: 'csc' }>): CountMatrix {
  const [nRows, nCols] = m.shape;
  const counts = new Float64Array(nRows + 1);
  for (let i = 0; i < m.indices.length; i++) counts[m.indices[i]! + 1]!++;
  for (let r = 0; r < nRows; r++) counts[r + 1]! += counts[r]!;
  const indptr = Float64Array.from(counts);
  const next = Float64Array.from(counts);
  const indices = new Int32Array(m.indices.length);
  const data = new Float32Array(m.indices.length);
  for (let c = 0; c < nCols; c++) {
    for (let p = m.indptr[c]!; p < m.indptr[c + 1]!; p++) {
      const r = m.indices[p]!;
      const q = next[r]!++;
      indices[q] = c;
      data[q] = m.data[p]!;
    }
  }
  return csrMatrix(nRows, nCols, indptr, indices, data);
}

/** The counts of an AnnData matrix as a core count matrix (CSR kept sparse, CSC converted to CSR). */
export function toCountMatrix(m: Matrix): CountMatrix {
  if (m.kind === 'dense') {
    if (m.shape.length !== 2) throw new InvalidOptionError('X', `expected a 2-D matrix, got shape [${m.shape.join(', ')}]`);
    return denseMatrix(m.shape[0]!, m.shape[1]!, m.data);
  }
  if (m.kind === 'csc') return cscToCsr(m);
  return csrMatrix(m.shape[0], m.shape[1], m.indptr, m.indices, m.data);
}

/** The obs columns of an AnnData as plain arrays (categoricals decoded, missing = null). */
export function obsColumns(adata: AnnData): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const name of Object.keys(adata.obs.columns)) out[name] = adata.obs.table.array(name) as unknown[];
  return out;
}

/** An AnnData read from disk plus the dataset view invae trains on. */
export interface LoadedDataset {
  adata: AnnData;
  data: InvaeDataset;
  cellNames: string[];
}

/**
 * Reads an .h5ad file and exposes X (or `layer`) with the var names and obs columns as an
 * {@link InvaeDataset}. Unknown layers are a clear error listing the available ones.
 */
export async function loadDataset(file: string, layer?: string | null): Promise<LoadedDataset> {
  const adata = await readH5ad(file, { X: !layer, requireX: !layer, layers: Boolean(layer) });
  let matrix: Matrix | undefined;
  if (layer) {
    matrix = adata.layers[layer];
    if (!matrix) {
      throw new InvalidOptionError('layer', `${file} has no layer '${layer}' (layers: ${Object.keys(adata.layers).join(', ') || 'none'}).`, {
        hint: 'omit --layer to use X',
      });
    }
  } else {
    matrix = adata.X!;
  }
  const data: InvaeDataset = { counts: toCountMatrix(matrix), geneNames: frameIndex(adata.var), obs: obsColumns(adata) as InvaeDataset['obs'] };
  return { adata, data, cellNames: frameIndex(adata.obs) };
}
