import { InvalidOptionError } from '../errors';
import type { CovariateColumns } from '../covariates/composite';
import type { CountMatrix } from '../data/matrix';
import { annDataCounts, frameColumns, frameNames, isAnnDataLike, isBackedAnnDataLike, type AnnDataLike, type AnnDataMatrix, type BackedAnnDataLike } from '../data/anndata';
import { BackedRowSource, type BackedRowsOptions } from '../data/backed-rows';
import type { AnyDataset, InvaeDataset, RowDataset } from './dataset';

/** What the workflow reads: an {@link InvaeDataset}, a {@link RowDataset}, or an in-memory or backed AnnData. */
export type DatasetInput = AnyDataset | AnnDataLike | BackedAnnDataLike;

/** Which matrix of an AnnData holds the counts. */
export interface AnnDataReadOptions {
  /** Read this layer instead of X (null or absent: X). */
  layer?: string | null;
  /** Names the AnnData in errors (e.g. its file). */
  source?: string;
}

/** Count matrices already converted, by the AnnData matrix they came from (a CSC matrix is converted once). */
const converted = new WeakMap<AnnDataMatrix, CountMatrix>();

function layerList(names: readonly string[]): string {
  return names.join(', ') || 'none';
}

/**
 * The dataset view of an in-memory AnnData (`readH5ad` of `@invae/io-anndata`): X (or `layer`) as
 * counts (dense and CSR as they are, CSC converted to CSR), the var index as gene names and the obs
 * columns as plain arrays. The AnnData is only read.
 * @throws InvalidOptionError naming the available layers when `layer` is absent, or when there is no X.
 */
export function annDataDataset(adata: AnnDataLike, options: AnnDataReadOptions = {}): InvaeDataset {
  const what = options.source ?? 'the AnnData';
  const layer = options.layer ?? null;
  let matrix: AnnDataMatrix | undefined;
  if (layer) {
    matrix = adata.layers?.[layer];
    if (!matrix) {
      throw new InvalidOptionError('layer', `${what} has no layer '${layer}' (layers: ${layerList(Object.keys(adata.layers ?? {}))}).`, {
        hint: 'name one of its layers, or leave the layer out to read X',
      });
    }
  } else {
    matrix = adata.X;
    if (!matrix) throw new InvalidOptionError('X', `${what} has no X matrix (X was not read, or the file has none).`, { hint: `name a layer to read (layers: ${layerList(Object.keys(adata.layers ?? {}))})` });
  }
  let counts = converted.get(matrix);
  if (!counts) {
    counts = annDataCounts(matrix, layer ?? 'X');
    converted.set(matrix, counts);
  }
  return { counts, geneNames: frameNames(adata.var), obs: frameColumns(adata.obs) as CovariateColumns };
}

/** A row-streamed dataset over a backed AnnData, with its row source. */
export interface BackedAnnDataDataset extends RowDataset {
  /** The rows, read from the file by blocks. */
  rows: BackedRowSource;
}

/**
 * The row-streamed dataset view of a backed AnnData (`openH5ad` of `@invae/io-anndata`): X (or `layer`)
 * read in blocks of rows as training reads it ({@link BackedRowSource}), the var index as gene names and
 * the obs columns as plain arrays. The file is only read; the caller closes it when done.
 * @throws InvalidOptionError naming the available layers when `layer` is absent, when there is no X,
 * or when the matrix is stored as CSC.
 */
export function backedAnnDataDataset(backed: BackedAnnDataLike, options: AnnDataReadOptions & BackedRowsOptions = {}): BackedAnnDataDataset {
  const what = options.source ?? backed.file;
  const layer = options.layer ?? null;
  if (layer) {
    if (!backed.layerNames().includes(layer)) {
      throw new InvalidOptionError('layer', `${what} has no layer '${layer}' (layers: ${layerList(backed.layerNames())}).`, { hint: 'name one of its layers, or leave the layer out to read X' });
    }
  } else if (!backed.hasX()) {
    throw new InvalidOptionError('X', `${what} has no X matrix.`, { hint: `name a layer to read (layers: ${layerList(backed.layerNames())})` });
  }
  const rows = new BackedRowSource(backed, layer ?? 'X', options);
  return { rows, geneNames: frameNames(backed.var), obs: frameColumns(backed.obs) as CovariateColumns };
}

/** Row sources of backed AnnData objects passed to the workflow directly, by matrix (one block cache and one validation per file and matrix). */
const backedSources = new WeakMap<BackedAnnDataLike, Map<string, BackedRowSource>>();

/**
 * The dataset a workflow input stands for: datasets as they are; an AnnData read at `layer` (X when
 * null or absent) with {@link annDataDataset}; a backed AnnData streamed with {@link backedAnnDataDataset}
 * (default block size; one row source per file and matrix, reused across calls).
 */
export function resolveDataset(input: DatasetInput, options: AnnDataReadOptions = {}): AnyDataset {
  if (isBackedAnnDataLike(input)) {
    const name = options.layer ?? 'X';
    let byMatrix = backedSources.get(input);
    const cached = byMatrix?.get(name);
    if (cached) return { rows: cached, geneNames: frameNames(input.var), obs: frameColumns(input.obs) as CovariateColumns };
    const ds = backedAnnDataDataset(input, options);
    if (!byMatrix) backedSources.set(input, (byMatrix = new Map()));
    byMatrix.set(name, ds.rows);
    return ds;
  }
  if (isAnnDataLike(input)) return annDataDataset(input, options);
  const d = input as Partial<InvaeDataset & RowDataset>;
  if (typeof input !== 'object' || input === null || (d.counts === undefined && d.rows === undefined)) {
    throw new InvalidOptionError('data', 'expected an InvaeDataset ({ counts, geneNames, obs }), a RowDataset ({ rows, geneNames, obs }) or an AnnData (readH5ad / openH5ad of @invae/io-anndata).');
  }
  return input as AnyDataset;
}
