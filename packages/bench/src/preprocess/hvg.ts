import { denseToCsr, type RowSource } from '@invae/core';
import { encodeCategorical, type Categorical } from '../internal/categories';
import { BenchInputError } from '../errors';
import { loess } from './hvg-loess';
import type { CsrMatrix } from '@invae/core';
import { isCsr, type Embedding } from '../internal/matrix';

/**
 * Counts as consecutive CSR row blocks, the form the statistics' two passes read (internal: callers
 * pass a matrix or a core `RowSource`; bench's dataset loader streams a file's CSR blocks directly).
 * `blocks()` is called once per pass and must yield the same rows in the same order each time.
 */
export interface CsrBlocks {
  readonly nRows: number;
  readonly nCols: number;
  blocks(): Iterable<{ readonly start: number; readonly counts: CsrMatrix }>;
}

/** Rows read at a time from a {@link RowSource} without blocks of its own. */
const ROW_SOURCE_BLOCK = 1024;

/** Options of {@link highlyVariableGenesSeuratV3}. */
export interface HvgOptions {
  /** Genes to select (default 2000; all genes when there are fewer). */
  readonly nTopGenes?: number;
  /** Batch of every cell: genes are ranked within each batch, then combined (scanpy's `batch_key`). */
  readonly batches?: Categorical;
  /** Span of the loess of log variance on log mean (default 0.3, as scanpy). */
  readonly span?: number;
  /**
   * `seurat_v3` (default, scanpy's): order by median rank among the batches, ties by the number of
   * batches in which the gene is highly variable; `seurat_v3_paper`: by that number first, then the
   * median rank (Seurat v3's SelectIntegrationFeatures).
   */
  readonly flavor?: 'seurat_v3' | 'seurat_v3_paper';
  /** Loess surface (default `interpolate`, as scikit-misc's loess that scanpy calls). */
  readonly surface?: 'interpolate' | 'direct';
}

/** Result of {@link highlyVariableGenesSeuratV3}; arrays are per gene, in input order. */
export interface HvgResult {
  /** Indices of the selected genes, ascending (the column order of a subset). */
  readonly selected: Int32Array;
  /** The selected genes from most to least variable (scanpy's sort order). */
  readonly ranking: Int32Array;
  /** 1 for a selected gene, else 0 (`highly_variable`). */
  readonly highlyVariable: Uint8Array;
  /** Mean count over all cells (`means`). */
  readonly means: Float64Array;
  /** Variance over all cells, n − 1 denominator (`variances`). */
  readonly variances: Float64Array;
  /** Standardised variance (clipped at √N), averaged over batches (`variances_norm`). */
  readonly variancesNorm: Float64Array;
  /** Median rank among the batches where the gene is in the top nTopGenes, else NaN (`highly_variable_rank`). */
  readonly rank: Float64Array;
  /** In how many batches the gene is in the top nTopGenes (`highly_variable_nbatches`). */
  readonly nBatches: Int32Array;
  /** Batch names in the order the per-batch statistics were computed. */
  readonly batchNames: readonly (string | number)[];
  /** True when some count was not an integer (scanpy warns: seurat_v3 expects raw counts). */
  readonly nonInteger: boolean;
}

function isRowSource(x: CsrMatrix | Embedding | RowSource): x is RowSource {
  return typeof (x as RowSource).readRows === 'function';
}

/**
 * A core {@link RowSource} as CSR blocks of consecutive rows (its own `blockSize` if it has one, else
 * {@link ROW_SOURCE_BLOCK} rows), densified one block at a time.
 */
function rowSourceBlocks(src: RowSource): CsrBlocks {
  const { nRows, nCols } = src;
  const step = Math.max(1, Math.floor(src.blockSize ?? ROW_SOURCE_BLOCK));
  return {
    nRows,
    nCols,
    *blocks() {
      for (let start = 0; start < nRows; start += step) {
        const end = Math.min(nRows, start + step);
        const dense = src.readRows(Int32Array.from({ length: end - start }, (_, i) => start + i));
        yield { start, counts: denseToCsr({ kind: 'dense', shape: [end - start, nCols], data: dense }) };
      }
    },
  };
}

/** An in-memory CSR or dense matrix as one block; a row source as blocks of its rows. */
function asBlocks(x: CsrMatrix | Embedding | RowSource): CsrBlocks {
  if (isRowSource(x)) return rowSourceBlocks(x);
  if (isCsr(x)) return { nRows: x.shape[0], nCols: x.shape[1], blocks: () => [{ start: 0, counts: x }] };
  const m = x as Embedding;
  if (m.data.length !== m.nRows * m.nCols) throw new BenchInputError('counts', `counts has ${m.data.length} values but shape ${m.nRows} × ${m.nCols}.`);
  // A dense matrix visits its zeros too; its "CSR" view lists every entry.
  const indptr = Float64Array.from({ length: m.nRows + 1 }, (_, i) => i * m.nCols);
  const indices = Int32Array.from({ length: m.nRows * m.nCols }, (_, p) => p % m.nCols);
  const csr: CsrMatrix = { kind: 'csr', shape: [m.nRows, m.nCols], indptr, indices, data: m.data };
  return { nRows: m.nRows, nCols: m.nCols, blocks: () => [{ start: 0, counts: csr }] };
}

function checkBlock(b: { start: number; counts: CsrMatrix }, expectedStart: number, nCols: number): void {
  const [rows, cols] = b.counts.shape;
  if (b.start !== expectedStart || cols !== nCols || b.counts.indptr.length !== rows + 1) {
    throw new BenchInputError('counts', `counts block at row ${b.start} (expected ${expectedStart}) has shape ${rows} × ${cols}, expected … × ${nCols}.`);
  }
}

/**
 * Highly variable genes as scanpy's `highly_variable_genes(flavor='seurat_v3')` (Stuart et al. 2019),
 * computed on raw counts: in every batch, a loess (span 0.3, degree 2; see {@link loess}) of
 * log10 variance on log10 mean over the non-constant genes gives each gene an expected standard
 * deviation σ̂; counts are clipped at mean + σ̂·√N and the variance of the clipped counts divided by
 * σ̂² is the standardised variance. Genes are ranked by it within each batch and the batches combined
 * by the number of batches where a gene is in the top `nTopGenes` and its median rank there.
 *
 * `counts` is an in-memory CSR or dense matrix, or a core `RowSource` (e.g. the rows of a backed
 * dataset), read in blocks of consecutive rows (its `blockSize`, else 1024) so it is never held whole.
 * Ties in a batch's ranking are broken by gene order (numpy's unstable argsort may break them
 * otherwise). Inputs are never modified. Throws {@link BenchInputError} for negative or non-finite
 * counts, a batch with fewer than two cells, or a batch with too few non-constant genes for loess.
 */
export function highlyVariableGenesSeuratV3(counts: CsrMatrix | Embedding | RowSource, options: HvgOptions = {}): HvgResult {
  return hvgOfBlocks(asBlocks(counts), options);
}

/** {@link highlyVariableGenesSeuratV3} on counts given as CSR row blocks (streamed twice). */
export function hvgOfBlocks(src: CsrBlocks, options: HvgOptions = {}): HvgResult {
  const { nRows: n, nCols: g } = src;
  if (!Number.isInteger(n) || !Number.isInteger(g) || n < 1 || g < 1) throw new BenchInputError('counts', `counts has invalid shape ${n} × ${g}.`);
  const nTop = Math.min(options.nTopGenes ?? 2000, g);
  if (!Number.isInteger(nTop) || nTop < 1) throw new BenchInputError('nTopGenes', `nTopGenes must be a positive integer, got ${options.nTopGenes}.`);
  const flavor = options.flavor ?? 'seurat_v3';
  if (flavor !== 'seurat_v3' && flavor !== 'seurat_v3_paper') {
    throw new BenchInputError('flavor', `Unknown flavor '${String(flavor)}'.`, { hint: "Use 'seurat_v3' or 'seurat_v3_paper'." });
  }
  const span = options.span ?? 0.3;
  const batchCodes = options.batches ? encodeCategorical(options.batches, 'batches', n) : { codes: new Int32Array(n), categories: [0], counts: Int32Array.of(n) };
  const nb = batchCodes.categories.length;
  for (let b = 0; b < nb; b++) {
    if (batchCodes.counts[b]! < 2) {
      throw new BenchInputError('batches', `Batch '${String(batchCodes.categories[b])}' has ${batchCodes.counts[b]} cell; seurat_v3 needs at least 2 cells per batch.`, {
        hint: 'Drop or merge batches with a single cell.',
      });
    }
  }
  const codes = batchCodes.codes;

  // Pass 1: per-batch sums and sums of squares (two-pass variance would need the means first; the
  // sums are exact enough in float64 for counts), and totals over all cells.
  const sum = new Float64Array(nb * g);
  const sumSq = new Float64Array(nb * g);
  let nonInteger = false;
  let expected = 0;
  for (const blk of src.blocks()) {
    checkBlock(blk, expected, g);
    const c = blk.counts;
    for (let r = 0; r < c.shape[0]; r++) {
      const off = codes[blk.start + r]! * g;
      for (let p = c.indptr[r]!; p < c.indptr[r + 1]!; p++) {
        const v = c.data[p]!;
        const j = c.indices[p]!;
        if (!(v >= 0) || !Number.isFinite(v)) {
          throw new BenchInputError('counts', `counts has an invalid value ${v} at row ${blk.start + r}, column ${j} (counts must be finite and non-negative).`);
        }
        if (!(j >= 0 && j < g)) throw new BenchInputError('counts', `counts has column index ${j} outside [0, ${g}) at row ${blk.start + r}.`);
        if (v !== Math.round(v)) nonInteger = true;
        sum[off + j] += v;
        sumSq[off + j] += v * v;
      }
    }
    expected += c.shape[0];
  }
  if (expected !== n) throw new BenchInputError('counts', `counts blocks cover ${expected} rows, expected ${n}.`);

  const means = new Float64Array(g);
  const variances = new Float64Array(g);
  {
    const s = new Float64Array(g);
    const s2 = new Float64Array(g);
    for (let b = 0; b < nb; b++) for (let j = 0; j < g; j++) {
      s[j] += sum[b * g + j]!;
      s2[j] += sumSq[b * g + j]!;
    }
    for (let j = 0; j < g; j++) {
      means[j] = s[j]! / n;
      variances[j] = n > 1 ? Math.max(0, (s2[j]! - n * means[j]! ** 2) / (n - 1)) : NaN;
    }
  }

  // Per batch: loess of log10 var on log10 mean, then the clipping values.
  const batchMean = new Float64Array(nb * g);
  const regStd = new Float64Array(nb * g);
  const clip = new Float64Array(nb * g);
  for (let b = 0; b < nb; b++) {
    const N = batchCodes.counts[b]!;
    const xs: number[] = [];
    const ys: number[] = [];
    const genes: number[] = [];
    for (let j = 0; j < g; j++) {
      const m = sum[b * g + j]! / N;
      const v = Math.max(0, (sumSq[b * g + j]! - N * m * m) / (N - 1));
      batchMean[b * g + j] = m;
      if (v > 0) {
        xs.push(Math.log10(m));
        ys.push(Math.log10(v));
        genes.push(j);
      }
    }
    if (genes.length < 4 || Math.floor(genes.length * span + 1e-5) < 4) {
      throw new BenchInputError('counts', `Batch '${String(batchCodes.categories[b])}' has only ${genes.length} non-constant genes, too few for the loess of seurat_v3 (span ${span}).`, {
        hint: 'Use more genes, fewer batches, or a larger span.',
      });
    }
    const fit = loess(xs, ys, { span, degree: 2, surface: options.surface ?? 'interpolate' });
    for (let j = 0; j < g; j++) regStd[b * g + j] = 1; // constant genes: estimate 0 → σ̂ = 1
    genes.forEach((j, t) => {
      regStd[b * g + j] = Math.sqrt(10 ** fit.fitted[t]!);
    });
    const vmax = Math.sqrt(N);
    for (let j = 0; j < g; j++) clip[b * g + j] = regStd[b * g + j]! * vmax + batchMean[b * g + j]!;
  }

  // Pass 2: sums and sums of squares of the clipped counts.
  const cSum = new Float64Array(nb * g);
  const cSumSq = new Float64Array(nb * g);
  for (const blk of src.blocks()) {
    const c = blk.counts;
    for (let r = 0; r < c.shape[0]; r++) {
      const off = codes[blk.start + r]! * g;
      for (let p = c.indptr[r]!; p < c.indptr[r + 1]!; p++) {
        const j = c.indices[p]!;
        const v = Math.min(c.data[p]!, clip[off + j]!);
        cSum[off + j] += v;
        cSumSq[off + j] += v * v;
      }
    }
  }

  const normVar = new Float64Array(nb * g);
  for (let b = 0; b < nb; b++) {
    const N = batchCodes.counts[b]!;
    for (let j = 0; j < g; j++) {
      const t = b * g + j;
      const m = batchMean[t]!;
      normVar[t] = (N * m * m + cSumSq[t]! - 2 * cSum[t]! * m) / ((N - 1) * regStd[t]! ** 2);
    }
  }

  // Ranks per batch (0 = most variable), then the number of batches in the top and the median rank.
  const nBatches = new Int32Array(g);
  const rankLists: number[][] = Array.from({ length: g }, () => []);
  const order = new Int32Array(g);
  for (let b = 0; b < nb; b++) {
    for (let j = 0; j < g; j++) order[j] = j;
    const off = b * g;
    order.sort((a, c) => normVar[off + c]! - normVar[off + a]! || a - c);
    for (let r = 0; r < nTop; r++) {
      const j = order[r]!;
      nBatches[j]!++;
      rankLists[j]!.push(r);
    }
  }
  const rank = new Float64Array(g).fill(NaN);
  const variancesNorm = new Float64Array(g);
  for (let j = 0; j < g; j++) {
    const l = rankLists[j]!.sort((a, c) => a - c);
    if (l.length) rank[j] = l.length % 2 ? l[(l.length - 1) / 2]! : (l[l.length / 2 - 1]! + l[l.length / 2]!) / 2;
    let s = 0;
    for (let b = 0; b < nb; b++) s += normVar[b * g + j]!;
    variancesNorm[j] = s / nb;
  }
  const byRank = (a: number, c: number) => {
    const ra = rank[a]!;
    const rc = rank[c]!;
    if (Number.isNaN(ra) || Number.isNaN(rc)) return Number.isNaN(ra) ? (Number.isNaN(rc) ? 0 : 1) : -1;
    return ra - rc;
  };
  const sorted = Array.from({ length: g }, (_, j) => j).sort((a, c) => {
    const byN = nBatches[c]! - nBatches[a]!;
    const r = flavor === 'seurat_v3' ? byRank(a, c) || byN : byN || byRank(a, c);
    return r || a - c;
  });
  const ranking = Int32Array.from(sorted.slice(0, nTop));
  const highlyVariable = new Uint8Array(g);
  for (const j of ranking) highlyVariable[j] = 1;
  const selected = Int32Array.from(ranking).sort();
  return { selected, ranking, highlyVariable, means, variances, variancesNorm, rank, nBatches, batchNames: batchCodes.categories, nonInteger };
}

/**
 * The columns `genes` (ascending or not; kept in the given order) of a CSR count matrix, as a new
 * CSR matrix with float32 values and int32 indices. The input is not modified.
 */
export function subsetColumns(counts: CsrMatrix, genes: ArrayLike<number>): CsrMatrix {
  const [nRows, nCols] = counts.shape;
  const map = new Int32Array(nCols).fill(-1);
  for (let t = 0; t < genes.length; t++) {
    const j = genes[t]!;
    if (!Number.isInteger(j) || j < 0 || j >= nCols) throw new BenchInputError('genes', `Gene index ${j} is outside [0, ${nCols}).`);
    if (map[j] !== -1) throw new BenchInputError('genes', `Gene index ${j} is listed twice.`);
    map[j] = t;
  }
  let nnz = 0;
  for (let p = 0; p < counts.data.length; p++) if (map[counts.indices[p]!] !== -1) nnz++;
  const indptr = new Float64Array(nRows + 1);
  const indices = new Int32Array(nnz);
  const data = new Float32Array(nnz);
  let q = 0;
  const rowBuf: [number, number][] = [];
  for (let i = 0; i < nRows; i++) {
    rowBuf.length = 0;
    for (let p = counts.indptr[i]!; p < counts.indptr[i + 1]!; p++) {
      const t = map[counts.indices[p]!]!;
      if (t !== -1) rowBuf.push([t, counts.data[p]!]);
    }
    rowBuf.sort((a, b) => a[0] - b[0]);
    for (const [t, v] of rowBuf) {
      indices[q] = t;
      data[q++] = v;
    }
    indptr[i + 1] = q;
  }
  return { kind: 'csr', shape: [nRows, genes.length], indptr, indices, data };
}
