import { alignedRows, csrMatrix, denseToCsr, isRowDataset, nGenesOf, type AnyDataset, type CsrMatrix, type InvaeDataset, type RowDataset, type RowSource } from '@invae/core';
import { BenchInputError } from '../errors';
import { highlyVariableGenesSeuratV3, subsetColumns, type HvgResult } from './hvg';

/** Genes kept by default: scanpy's and Seurat's customary 2000 highly variable genes. */
export const DEFAULT_N_TOP_GENES = 2000;

/** Options of {@link selectHighlyVariableGenes}. */
export interface SelectHvgOptions {
  /**
   * Genes to keep (default {@link DEFAULT_N_TOP_GENES}). `0`, or a number at least the data's gene
   * count, keeps every gene and returns the dataset unchanged.
   */
  readonly nTopGenes?: number;
  /** obs key of the batches: genes are ranked within each batch and combined (scanpy's `batch_key`). None: one batch. */
  readonly batchKey?: string | null;
  /** Rows read at a time from a row-streamed dataset (default 1024). */
  readonly blockRows?: number;
}

/** Result of {@link selectHighlyVariableGenes}. */
export interface SelectedGenes<D extends AnyDataset> {
  /** The dataset restricted to the selected genes (file order), or the input itself when every gene is kept. */
  readonly data: D;
  /** Names of the kept genes, in the data's order. */
  readonly genes: string[];
  /** Indices of the kept genes in the input, ascending. */
  readonly selected: Int32Array;
  /** The seurat_v3 statistics, null when every gene was kept (nothing computed). */
  readonly hvg: HvgResult | null;
  /** The options as applied: genes asked for, the batch key used (null: none), the flavour. */
  readonly settings: { readonly nTopGenes: number; readonly batchKey: string | null; readonly flavor: 'seurat_v3'; readonly genesIn: number };
}

/** The dataset's row source, read by the gene statistics `blockRows` consecutive rows at a time. */
function inBlocks(data: RowDataset, blockRows: number): RowSource {
  const rows = data.rows;
  return { nRows: rows.nRows, nCols: rows.nCols, blockSize: blockRows, readRows: (indices) => rows.readRows(indices) };
}

function batchColumn(data: AnyDataset, key: string): string[] {
  const col = data.obs[key] as ArrayLike<unknown> | undefined;
  if (!col) {
    throw new BenchInputError('batchKey', `obs has no column '${key}' to select highly variable genes by batch (obs: ${Object.keys(data.obs).join(', ') || 'no columns'}).`, {
      hint: 'name an existing obs column as the batch key, or select genes without batches',
    });
  }
  const out = Array.from(col, (v) => (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v)) ? '' : String(v)));
  const missing = out.indexOf('');
  if (missing >= 0) {
    throw new BenchInputError('batchKey', `obs['${key}'] has a missing value at cell ${missing}; every cell needs a batch for the batch-aware gene selection.`, {
      hint: 'fill in or drop those cells first',
    });
  }
  return out;
}

/**
 * Keeps the `nTopGenes` highly variable genes of a dataset: seurat_v3 on its raw counts as scanpy's
 * `highly_variable_genes(flavor='seurat_v3', batch_key=…)` (see {@link highlyVariableGenesSeuratV3}:
 * per-batch loess of log variance on log mean, clipped standardised variance, genes ordered by their
 * median rank over the batches, then by the number of batches where they are highly variable).
 *
 * In-memory datasets come back with CSR counts of the kept genes; row-streamed ones are read twice
 * in blocks for the statistics and come back as a row source that selects the kept columns. Gene
 * order is the input's. With `nTopGenes` 0 or at least the gene count the input is returned as is.
 * The input is never modified. Throws {@link BenchInputError} for a bad `nTopGenes`, an unknown or
 * incomplete batch column, and the errors of {@link highlyVariableGenesSeuratV3} (e.g. a batch of one cell).
 */
export function selectHighlyVariableGenes<D extends AnyDataset>(data: D, options: SelectHvgOptions = {}): SelectedGenes<D> {
  const nTop = options.nTopGenes ?? DEFAULT_N_TOP_GENES;
  if (!Number.isSafeInteger(nTop) || nTop < 0) {
    throw new BenchInputError('nTopGenes', `nTopGenes must be a non-negative integer (0 keeps every gene), got ${options.nTopGenes}.`);
  }
  const blockRows = options.blockRows ?? 1024;
  if (!Number.isSafeInteger(blockRows) || blockRows < 1) throw new BenchInputError('blockRows', `blockRows must be a positive integer, got ${options.blockRows}.`);
  const batchKey = options.batchKey ?? null;
  const nGenes = nGenesOf(data);
  if (data.geneNames.length !== nGenes) throw new BenchInputError('geneNames', `${data.geneNames.length} gene names for ${nGenes} columns.`);
  const batches = batchKey !== null ? batchColumn(data, batchKey) : undefined;
  const settings = { nTopGenes: nTop, batchKey, flavor: 'seurat_v3' as const, genesIn: nGenes };
  if (nTop === 0 || nTop >= nGenes) {
    return { data, genes: [...data.geneNames], selected: Int32Array.from({ length: nGenes }, (_, j) => j), hvg: null, settings };
  }
  let hvg: HvgResult;
  let out: AnyDataset;
  if (isRowDataset(data)) {
    if (new Set(data.geneNames).size !== data.geneNames.length) {
      throw new BenchInputError('geneNames', 'The gene names are not unique, so the selected genes cannot be kept by name in a row-streamed dataset.', { hint: 'make the var names unique' });
    }
    hvg = highlyVariableGenesSeuratV3(inBlocks(data, blockRows), { nTopGenes: nTop, batches });
    const genes = Array.from(hvg.selected, (j) => data.geneNames[j]!);
    out = { ...data, rows: alignedRows(data, genes, () => undefined), geneNames: genes } satisfies RowDataset;
  } else {
    const csr: CsrMatrix = data.counts.kind === 'csr' ? data.counts : denseToCsr(data.counts);
    hvg = highlyVariableGenesSeuratV3(csr, { nTopGenes: nTop, batches });
    const sub = subsetColumns(csr, hvg.selected);
    const counts = csrMatrix(...sub.shape, sub.indptr, sub.indices, sub.data);
    out = { ...data, counts, geneNames: Array.from(hvg.selected, (j) => data.geneNames[j]!) } satisfies InvaeDataset;
  }
  return { data: out as D, genes: [...out.geneNames], selected: hvg.selected, hvg, settings };
}
