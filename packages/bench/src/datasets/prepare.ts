import path from 'node:path';
import { cscToCsr, frameColumns, simulate, type CsrMatrix, type SimulateOptions } from '@invae/core';
import { frameIndex, openH5ad, readH5ad, type AnnData, type Frame, type Matrix as AnnMatrix } from '@invae/io-anndata';
import { BenchInputError } from '../errors';
// highlyVariableGenesSeuratV3: named in prepareDataset's documentation.
import { hvgOfBlocks, type CsrBlocks, type HvgResult, type highlyVariableGenesSeuratV3 } from '../preprocess/hvg';
import { DatasetError, fetchDataset } from './fetch';
import { defaultDataDir, findLocalFile } from './paths';
import { getDataset, type CountsLocation, type DatasetEntry } from './registry';

/** Options of {@link prepareDataset}. */
export interface PrepareDatasetOptions {
  /** Data folder (default {@link defaultDataDir}). */
  readonly dir?: string;
  /** Read this .h5ad instead of the registry's copy (any file with the entry's layout). */
  readonly file?: string;
  /** Highly variable genes to keep (default: the entry's, 2000 for real data; null keeps all). */
  readonly nTopGenes?: number | null;
  /** Rows per block when streaming the counts (default 4096). */
  readonly blockRows?: number;
  /** Simulator options for the `simulated` entry. */
  readonly simulate?: SimulateOptions;
  /** Progress messages. */
  readonly onProgress?: (message: string) => void;
}

/** A dataset ready to benchmark: raw counts of the selected genes and the cell annotations. */
export interface PreparedDataset {
  readonly entry: DatasetEntry;
  /** The .h5ad read (null for simulated data). */
  readonly file: string | null;
  /** Where the counts were found: `layers/<name>`, `X`, `raw.X` or `simulated`. */
  readonly countsLocation: string;
  /** Raw counts, cells × selected genes (gene order of the file): CSR, float32 values, int32 indices, float64 indptr. */
  readonly counts: CsrMatrix;
  readonly geneNames: string[];
  readonly cellNames: string[];
  /** obs columns as plain arrays (categoricals decoded, missing = null). */
  readonly obs: Record<string, unknown[]>;
  /** obs and var (selected genes, with the HVG statistics as columns) as AnnData frames; absent for simulated data. */
  readonly obsFrame?: Frame;
  readonly varFrame?: Frame;
  /** Dense obsm entries carried along (simulated: `X_true_inv`, `X_true_spur`). */
  readonly obsm: Record<string, { shape: [number, number]; data: Float32Array }>;
  /** Highly variable genes over the features kept by the entry's filter (null when all genes are kept). */
  readonly hvg: HvgResult | null;
  /** Number of features after the feature filter, before HVG selection. */
  readonly nFeatures: number;
}

function csrFromAnn(m: AnnMatrix): CsrMatrix {
  if (m.kind === 'csr') return m;
  if (m.kind === 'dense') {
    const [r, c] = m.shape as [number, number];
    const indptr = new Float64Array(r + 1);
    const idx: number[] = [];
    const val: number[] = [];
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < c; j++) {
        const v = m.data[i * c + j]!;
        if (v !== 0) {
          idx.push(j);
          val.push(v);
        }
      }
      indptr[i + 1] = idx.length;
    }
    return { kind: 'csr', shape: [r, c], indptr, indices: Int32Array.from(idx), data: Float64Array.from(val) };
  }
  return cscToCsr(m); // float32 values: counts are integers
}

/** Keeps the columns with `remap[j] ≥ 0`, renumbered to `remap[j]` (order preserved). */
function remapColumns(c: CsrMatrix, remap: Int32Array, nOut: number): CsrMatrix {
  const nRows = c.shape[0];
  const indptr = new Float64Array(nRows + 1);
  let nnz = 0;
  for (let p = 0; p < c.data.length; p++) if (remap[c.indices[p]!]! >= 0) nnz++;
  const indices = new Int32Array(nnz);
  const data = new Float32Array(nnz);
  let q = 0;
  for (let i = 0; i < nRows; i++) {
    for (let p = c.indptr[i]!; p < c.indptr[i + 1]!; p++) {
      const t = remap[c.indices[p]!]!;
      if (t >= 0) {
        indices[q] = t;
        data[q++] = c.data[p]!;
      }
    }
    indptr[i + 1] = q;
  }
  return { kind: 'csr', shape: [nRows, nOut], indptr, indices, data };
}

function locationName(loc: CountsLocation): string {
  return typeof loc === 'string' ? loc : `layers/${loc.layer}`;
}

function isIntegerBlock(c: CsrMatrix): boolean {
  const n = Math.min(c.data.length, 100_000);
  for (let p = 0; p < n; p++) if (c.data[p]! !== Math.round(c.data[p]!) || c.data[p]! < 0) return false;
  return true;
}

function requireColumn(obs: Record<string, unknown[]>, key: string, what: string, entry: DatasetEntry, file: string): unknown[] {
  const col = obs[key];
  if (!col) {
    throw new BenchInputError(what, `${file} has no obs column '${key}' (the ${what} key of ${entry.name}); obs has ${Object.keys(obs).join(', ') || 'no columns'}.`, {
      hint: 'The file does not have the layout the registry describes; check the dataset version.',
    });
  }
  return col;
}

/** Counts, features and the row source of a file, by the first counts location that is present and holds integers. */
async function openCounts(entry: DatasetEntry, file: string, blockRows: number) {
  const backed = await openH5ad(file, { onWarning: () => undefined });
  const tried: string[] = [];
  try {
    for (const loc of entry.preprocessing.counts) {
      const name = locationName(loc);
      if (loc === 'raw.X') {
        if (!backed.mappingShapes('raw').X) {
          tried.push(`${name} (absent)`);
          continue;
        }
        const ad = await readH5ad(file, { X: false, layers: false, rawX: true, onWarning: () => undefined });
        const m = csrFromAnn(ad.raw!.X!);
        if (!isIntegerBlock(m)) {
          tried.push(`${name} (not integer counts)`);
          continue;
        }
        return { backed, name, varFrame: ad.raw!.var, nRows: m.shape[0], nCols: m.shape[1], blocks: () => [{ start: 0, counts: m }] };
      }
      const key = loc === 'X' ? 'X' : loc.layer;
      if (loc === 'X' ? !backed.hasX() : !backed.layerNames().includes(key)) {
        tried.push(`${name} (absent)`);
        continue;
      }
      const blocks = function* (): Generator<{ start: number; counts: CsrMatrix }> {
        for (const b of backed.rowBlocks(key, blockRows)) yield { start: b.start, counts: csrFromAnn(b.matrix) };
      };
      const first = blocks().next();
      if (!first.done && !isIntegerBlock(first.value.counts)) {
        tried.push(`${name} (not integer counts)`);
        continue;
      }
      return { backed, name, varFrame: backed.var, nRows: backed.nObs, nCols: backed.nVars, blocks };
    }
  } catch (e) {
    backed.close();
    throw e;
  }
  backed.close();
  throw new BenchInputError('counts', `${file} has no raw counts where ${entry.name} keeps them: ${tried.join(', ')}.`, {
    hint: 'seurat_v3 highly variable genes and the models need raw integer counts.',
  });
}

function subsetFrame(frame: Frame, rows: Int32Array, extra: Record<string, Float64Array | Int32Array>): Frame {
  let table = frame.table.reify(Array.from(rows));
  if (Object.keys(extra).length) table = table.assign(Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, Array.from(v)])));
  const columns = { ...frame.columns };
  for (const [k, v] of Object.entries(extra)) columns[k] = { kind: 'numeric', dtype: v instanceof Int32Array ? 'int32' : 'float64' };
  return { table, indexName: frame.indexName, columns };
}

function prepareSimulated(entry: DatasetEntry, options: PrepareDatasetOptions): PreparedDataset {
  const sim = simulate({ ...(options.simulate ?? {}), format: 'csr' });
  if (sim.counts.kind !== 'csr') throw new Error('simulate returned dense counts');
  const c = sim.counts;
  const counts: CsrMatrix = {
    kind: 'csr',
    shape: [c.shape[0], c.shape[1]],
    dtype: 'float32',
    indptr: Float64Array.from(c.indptr),
    indices: Int32Array.from(c.indices),
    data: Float32Array.from(c.data),
  };
  const obsm: PreparedDataset['obsm'] = { X_true_inv: { shape: [sim.nCells, sim.latentDimInv], data: sim.zInv } };
  if (sim.latentDimSpur > 0) obsm.X_true_spur = { shape: [sim.nCells, sim.latentDimSpur], data: sim.zSpur };
  return {
    entry,
    file: null,
    countsLocation: 'simulated',
    counts,
    geneNames: sim.geneNames,
    cellNames: sim.cellNames,
    obs: { batch: sim.obs.batch, cell_type: sim.obs.cell_type, disease: sim.obs.disease, library_size: Array.from(sim.librarySize) },
    obsm,
    hvg: null,
    nFeatures: sim.nGenes,
  };
}

/**
 * Loads a registry dataset the way the benchmark uses it: the raw counts (the first of the entry's
 * count locations that is present and holds integers), only the features its filter keeps (e.g.
 * GEX of a multiome file), then the `nTopGenes` highly variable genes (seurat_v3 on counts, by the
 * entry's batch key; see {@link highlyVariableGenesSeuratV3}). The file is streamed in row blocks
 * twice for the gene statistics and once more for the selected genes, so memory holds only the
 * result. Remote datasets must have been fetched ({@link fetchDataset}); simulated data are
 * generated. The file is never modified.
 */
export async function prepareDataset(dataset: string | DatasetEntry, options: PrepareDatasetOptions = {}): Promise<PreparedDataset> {
  const entry = typeof dataset === 'string' ? getDataset(dataset) : dataset;
  if (entry.kind === 'simulated' && !options.file) return prepareSimulated(entry, options);
  const dir = path.resolve(options.dir ?? defaultDataDir());
  const log = options.onProgress ?? (() => undefined);
  let file = options.file ? path.resolve(options.file) : null;
  if (!file) {
    if (entry.kind === 'local') file = (await fetchDataset(entry, { dir })).path;
    else {
      const candidate = path.join(dir, entry.fileName);
      file = findLocalFile({ ...entry, sharedPath: undefined }, dir);
      if (!file) {
        throw new DatasetError('DATASET_MISSING', entry.name, `${entry.name} has not been fetched yet (no ${candidate}).`, {
          hint: `Run \`invae datasets fetch ${entry.name} --dir ${dir}\` first.`,
          destination: candidate,
        });
      }
    }
  }
  const blockRows = options.blockRows ?? 4096;
  const src = await openCounts(entry, file!, blockRows);
  try {
    log(`${entry.name}: counts from ${src.name} (${src.nRows} cells × ${src.nCols} features)`);
    const obs = frameColumns(src.backed.obs);
    // An empty key (an entry made by fileDatasetEntry without one) means none.
    const batches = entry.batchKey ? requireColumn(obs, entry.batchKey, 'batch', entry, file!) : null;
    if (entry.labelKey) requireColumn(obs, entry.labelKey, 'label', entry, file!);
    // Feature filter.
    const remap = new Int32Array(src.nCols);
    let kept = 0;
    const filter = entry.preprocessing.featureFilter;
    if (filter) {
      const col = src.varFrame.table.columnNames().includes(filter.column) ? (src.varFrame.table.array(filter.column) as unknown[]) : null;
      if (!col) throw new BenchInputError('var', `${file} has no var column '${filter.column}' to select ${filter.equals} features.`);
      for (let j = 0; j < src.nCols; j++) remap[j] = String(col[j]) === filter.equals ? kept++ : -1;
      if (kept === 0) throw new BenchInputError('var', `${file} has no features with ${filter.column} = '${filter.equals}'.`);
    } else for (let j = 0; j < src.nCols; j++) remap[j] = kept++;
    const featureIdx = new Int32Array(kept);
    for (let j = 0; j < src.nCols; j++) if (remap[j]! >= 0) featureIdx[remap[j]!] = j;
    const filtered: CsrBlocks = {
      nRows: src.nRows,
      nCols: kept,
      blocks: function* () {
        for (const b of src.blocks()) yield { start: b.start, counts: filter ? remapColumns(b.counts, remap, kept) : b.counts };
      },
    };
    const nTop = options.nTopGenes === undefined ? entry.preprocessing.nTopGenes : options.nTopGenes;
    let hvg: HvgResult | null = null;
    let selected: Int32Array; // indices into the filtered features
    if (nTop !== null && nTop < kept) {
      log(`${entry.name}: selecting ${nTop} highly variable genes of ${kept} (seurat_v3, ${entry.batchKey ? `batch key '${entry.batchKey}'` : 'one batch'})`);
      hvg = hvgOfBlocks(filtered, { nTopGenes: nTop, batches: batches ? batches.map((v) => (v === null || v === undefined ? '' : String(v))) : undefined });
      selected = hvg.selected;
    } else selected = Int32Array.from({ length: kept }, (_, t) => t);
    // Final pass: the selected genes only.
    const finalRemap = new Int32Array(src.nCols).fill(-1);
    selected.forEach((t, k) => (finalRemap[featureIdx[t]!] = k));
    const parts: CsrMatrix[] = [];
    for (const b of src.blocks()) parts.push(remapColumns(b.counts, finalRemap, selected.length));
    const nnz = parts.reduce((s, p) => s + p.data.length, 0);
    const indptr = new Float64Array(src.nRows + 1);
    const indices = new Int32Array(nnz);
    const data = new Float32Array(nnz);
    let row = 0;
    let q = 0;
    for (const p of parts) {
      indices.set(p.indices, q);
      data.set(p.data, q);
      for (let i = 0; i < p.shape[0]; i++) indptr[row + i + 1] = q + p.indptr[i + 1]!;
      row += p.shape[0];
      q += p.data.length;
    }
    const counts: CsrMatrix = { kind: 'csr', shape: [src.nRows, selected.length], dtype: 'float32', indptr, indices, data };
    const globalIdx = Int32Array.from(selected, (t) => featureIdx[t]!);
    const extra: Record<string, Float64Array | Int32Array> = {};
    if (hvg) {
      const pick = <T extends Float64Array | Int32Array>(a: T) => (a instanceof Int32Array ? Int32Array.from(selected, (t) => a[t]!) : Float64Array.from(selected, (t) => a[t]!)) as T;
      Object.assign(extra, {
        means: pick(hvg.means),
        variances: pick(hvg.variances),
        variances_norm: pick(hvg.variancesNorm),
        highly_variable_rank: pick(hvg.rank),
        highly_variable_nbatches: pick(hvg.nBatches),
      });
    }
    const varFrame = subsetFrame(src.varFrame, globalIdx, extra);
    const obsm: PreparedDataset['obsm'] = {};
    return {
      entry,
      file: file!,
      countsLocation: src.name,
      counts,
      geneNames: frameIndex(varFrame),
      cellNames: frameIndex(src.backed.obs),
      obs,
      obsFrame: src.backed.obs,
      varFrame,
      obsm,
      hvg,
      nFeatures: kept,
    };
  } finally {
    src.backed.close();
  }
}

/**
 * The prepared dataset as an AnnData (raw counts of the selected genes in X, CSR float32; obs as
 * read; var with the HVG statistics; `uns.invae_dataset` recording the name, source and
 * preprocessing), ready for `writeH5ad`. Needs the frames of a file-based dataset.
 */
export function preparedToAnnData(p: PreparedDataset): AnnData {
  if (!p.obsFrame || !p.varFrame) {
    throw new BenchInputError('dataset', `${p.entry.name} was not read from a file, so it has no AnnData frames; write simulated data with \`invae simulate\`.`);
  }
  const c = p.counts;
  const obsm: AnnData['obsm'] = {};
  for (const [k, v] of Object.entries(p.obsm)) obsm[k] = { kind: 'dense', shape: [...v.shape], dtype: 'float32', data: v.data };
  return {
    nObs: c.shape[0],
    nVars: c.shape[1],
    X: { kind: 'csr', shape: [c.shape[0], c.shape[1]], dtype: 'float32', data: c.data, indices: c.indices, indptr: c.indptr },
    obs: p.obsFrame,
    var: p.varFrame,
    layers: {},
    obsm,
    varm: {},
    obsp: {},
    varp: {},
    uns: {
      invae_dataset: {
        name: p.entry.name,
        source: p.file ?? 'simulated',
        counts: p.countsLocation,
        feature_filter: p.entry.preprocessing.featureFilter ? `${p.entry.preprocessing.featureFilter.column} == ${p.entry.preprocessing.featureFilter.equals}` : 'none',
        n_features: p.nFeatures,
        hvg: p.hvg ? { flavor: 'seurat_v3', n_top_genes: p.counts.shape[1], batch_key: p.entry.batchKey || 'none', span: 0.3 } : 'none',
      },
    },
  };
}

