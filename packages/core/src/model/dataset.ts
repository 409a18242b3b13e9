import { InvaeError, InvalidOptionError } from '../errors';
import { countShape, type CountMatrix } from '../data/matrix';
import { rowSource, type RowSource } from '../data/row-source';
import type { CovariateColumns } from '../covariates/composite';
import { UNIQUE_GENES_HINT, duplicateNames, nameList } from '../data/names';

/**
 * The data a workflow reads, independent of any file format (io-anndata turns an AnnData into one):
 * counts (cells × genes, dense or CSR), gene names, and the per-cell columns (obs) covariates and
 * labels come from.
 */
export interface InvaeDataset {
  /** Counts (or, with the normal decoder, scaled values), cells × genes. */
  counts: CountMatrix;
  /** Gene (var) names, one per column. */
  geneNames: readonly string[];
  /** Per-cell columns by name (e.g. the obs table). */
  obs: CovariateColumns;
}

/**
 * A dataset whose counts are read by rows on demand (e.g. a backed .h5ad: rows streamed from disk),
 * so that they are never held in memory whole. Accepted wherever the workflow takes a dataset, except
 * by priors that derive covariates from all counts (e.g. gene-program scores).
 */
export interface RowDataset {
  /** Counts (or scaled values), cells × genes, read by rows. */
  rows: RowSource;
  /** Gene (var) names, one per column. */
  geneNames: readonly string[];
  /** Per-cell columns by name (e.g. the obs table). */
  obs: CovariateColumns;
}

/** An in-memory or a row-streamed dataset. */
export type AnyDataset = InvaeDataset | RowDataset;

/** Whether the dataset streams its rows (a {@link RowDataset}). */
export function isRowDataset(data: AnyDataset): data is RowDataset {
  return (data as Partial<RowDataset>).rows !== undefined && (data as Partial<InvaeDataset>).counts === undefined;
}

/** The data does not fit the model or the likelihood. */
export class DataValidationError extends InvaeError {
  constructor(message: string, options: { hint?: string } = {}) {
    super('DATA_INVALID', message, options);
  }
}

/**
 * Refuses gene names that occur more than once: genes are matched to a model's by name, and a
 * duplicated name makes that match ambiguous (one of the columns would be picked silently).
 * @throws DataValidationError naming the first duplicates and their number.
 */
export function checkUniqueGeneNames(names: readonly string[], what = 'The data'): void {
  const dups = duplicateNames(names);
  if (dups.length) {
    throw new DataValidationError(`${what} has ${dups.length} duplicated gene (var) name(s): ${nameList(dups)}; genes are matched by name, so each must be unique.`, {
      hint: UNIQUE_GENES_HINT,
    });
  }
}

/** Rows of a dataset, cells × genes. */
export function nCellsOf(data: AnyDataset): number {
  return isRowDataset(data) ? data.rows.nRows : countShape(data.counts)[0];
}

/** Width (genes) of a dataset's counts. */
export function nGenesOf(data: AnyDataset): number {
  return isRowDataset(data) ? data.rows.nCols : countShape(data.counts)[1];
}

/**
 * Checks that counts suit the decoder: finite everywhere; for `nb`, non-negative integers and no cell
 * with a zero total (the NB likelihood scales by library size).
 * @throws DataValidationError naming the first offending cell and gene.
 */
export function validateCounts(data: AnyDataset, decoder: 'nb' | 'normal'): void {
  if (isRowDataset(data)) {
    validateRows(data, decoder);
    return;
  }
  const [, nCols] = countShape(data.counts);
  if (data.geneNames.length !== nCols) {
    throw new InvalidOptionError('geneNames', `${data.geneNames.length} gene names for ${nCols} columns.`);
  }
  const empty = new EmptyCells();
  checkValues(data.counts, 0, data.geneNames, decoder, empty);
  empty.throwIfAny(decoder);
}

/** Cells with a zero total, counted across chunks (the first five kept for the message). */
class EmptyCells {
  count = 0;
  readonly first: number[] = [];
  add(row: number): void {
    this.count++;
    if (this.first.length < 5) this.first.push(row);
  }
  throwIfAny(decoder: 'nb' | 'normal'): void {
    if (decoder === 'nb' && this.count > 0) {
      throw new DataValidationError(`${this.count} cell(s) have no counts at all (first: ${this.first.join(', ')}).`, {
        hint: 'filter empty cells first (scanpy: sc.pp.filter_cells(adata, min_counts=1))',
      });
    }
  }
}

/**
 * Checks the stored values of `m` (rows `offset` + 0… of the data; CSR: only its stored values) and
 * records the rows with a zero total.
 */
function checkValues(m: CountMatrix, offset: number, geneNames: readonly string[], decoder: 'nb' | 'normal', empty: EmptyCells): void {
  const [nRows, nCols] = countShape(m);
  const where = (row: number, col: number) => `cell ${offset + row}, gene '${geneNames[col] ?? col}'`;
  const check = (v: number, row: number, col: number) => {
    if (!Number.isFinite(v)) throw new DataValidationError(`The data has a non-finite value (${v}) at ${where(row, col)}.`, { hint: 'remove or impute NaN/Inf values before training' });
    if (decoder === 'nb' && (v < 0 || !Number.isInteger(v))) {
      throw new DataValidationError(`The negative-binomial decoder needs non-negative integer counts, but ${where(row, col)} holds ${v}.`, {
        hint: 'pass raw counts (e.g. --layer counts), or use the normal decoder for normalised data',
      });
    }
  };
  const { data } = m;
  for (let r = 0; r < nRows; r++) {
    let total = 0;
    if (m.kind === 'csr') {
      for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) {
        const v = data[p]!;
        check(v, r, m.indices[p]!);
        total += v;
      }
    } else {
      for (let c = 0; c < nCols; c++) {
        const v = data[r * nCols + c]!;
        if (v === 0) continue;
        check(v, r, c);
        total += v;
      }
    }
    if (total === 0) empty.add(offset + r);
  }
}

/** Row sources already validated per decoder (a backed file is read once, not at setup and again at train). */
const validatedSources = new WeakMap<RowSource, Set<string>>();

/**
 * {@link validateCounts} for a row-streamed dataset: reads the rows once, in consecutive chunks (its
 * blocks when it has them), as stored when the source reads row ranges (CSR not densified).
 */
function validateRows(data: RowDataset, decoder: 'nb' | 'normal'): void {
  const src = data.rows;
  if (data.geneNames.length !== src.nCols) {
    throw new InvalidOptionError('geneNames', `${data.geneNames.length} gene names for ${src.nCols} columns.`);
  }
  if (validatedSources.get(src)?.has(decoder)) return;
  const nCols = src.nCols;
  const chunk = Math.max(1, src.blockSize ?? Math.max(1, Math.floor(4_000_000 / Math.max(1, nCols))));
  const empty = new EmptyCells();
  for (let start = 0; start < src.nRows; start += chunk) {
    const end = Math.min(src.nRows, start + chunk);
    const m: CountMatrix = src.readRowRange
      ? src.readRowRange(start, end)
      : { kind: 'dense', shape: [end - start, nCols], data: src.readRows(Int32Array.from({ length: end - start }, (_, i) => start + i)) };
    checkValues(m, start, data.geneNames, decoder, empty);
  }
  empty.throwIfAny(decoder);
  const done = validatedSources.get(src) ?? new Set<string>();
  done.add(decoder);
  validatedSources.set(src, done);
}

/**
 * Row source of the dataset's counts with columns in the model's gene order. Identical gene lists
 * are used as they are; otherwise every model gene must be present (columns are then selected, and
 * reordered with a warning when the data has them in another order); missing genes, and model genes named more than once in the data, are
 * errors naming them.
 */
export function alignedRows(data: AnyDataset, modelGenes: readonly string[], warn: (m: string) => void): RowSource {
  const source = isRowDataset(data) ? data.rows : rowSource(data.counts);
  const same = modelGenes.length === data.geneNames.length && modelGenes.every((g, i) => g === data.geneNames[i]);
  if (same) return source;
  const index = new Map<string, number>();
  const wanted = new Set(modelGenes);
  const ambiguous = new Set<string>();
  data.geneNames.forEach((g, i) => {
    if (!index.has(g)) index.set(g, i);
    else if (wanted.has(g)) ambiguous.add(g);
  });
  // a model gene named twice in the data: which column is meant is unknown, so refuse
  if (ambiguous.size) {
    throw new DataValidationError(`The data has ${ambiguous.size} duplicated gene (var) name(s) among the model's genes: ${nameList([...ambiguous])}; genes are matched to the model's by name, so each must be unique.`, {
      hint: UNIQUE_GENES_HINT,
    });
  }
  const missing = modelGenes.filter((g) => !index.has(g));
  if (missing.length) {
    throw new DataValidationError(`${missing.length} of the model's ${modelGenes.length} genes are missing from the data (e.g. ${missing.slice(0, 5).join(', ')}).`, {
      hint: 'use data with the genes the model was trained on (same var names)',
    });
  }
  const cols = Int32Array.from(modelGenes, (g) => index.get(g)!);
  // The model's genes in the data's order (e.g. the highly variable genes `train` selected from this very
  // file) is the expected case and needs no word; another order is worth one.
  const inOrder = cols.every((c, j) => j === 0 || c > cols[j - 1]!);
  if (!inOrder) warn(`the data's genes are in another order than the model's; its ${modelGenes.length} genes are selected by name.`);
  const width = source.nCols;
  return {
    nRows: source.nRows,
    nCols: cols.length,
    ...(source.blockSize !== undefined ? { blockSize: source.blockSize } : {}),
    readRows(rows) {
      const full = source.readRows(rows);
      const out = new Float32Array(rows.length * cols.length);
      for (let i = 0; i < rows.length; i++) for (let j = 0; j < cols.length; j++) out[i * cols.length + j] = full[i * width + cols[j]!]!;
      return out;
    },
  };
}
