import { writeFileContentAtomic } from '@invae/common';
import { aggregateScores, minMaxScale, type Aggregates, type MetricType } from './aggregate';
import { encodeCategorical, type Categorical } from '../internal/categories';
import { BenchInputError } from '../errors';
import { checkMatrix, type Embedding } from '../internal/matrix';
import { clisiKnn, ilisiKnn, lisiWeights, type LisiWeights } from './lisi';
import { graphConnectivity } from './graph-connectivity';
import { isolatedLabels } from './isolated-labels';
import { kbetPerLabel } from './kbet';
import { nmiAriClusterLabelsKmeans } from './nmi-ari-kmeans';
import { pcrComparison } from './pcr-comparison';
import { brasEstimate, silhouetteBatchEstimate, silhouetteLabel } from './silhouette';
import { describeSampling, type SilhouetteSampling, type SilhouetteSamplingOptions } from './silhouette-sampling';
import { labelBatchLayout, layoutNanReasons, type NanReason } from './nan-reasons';
import { exactNeighbors, neighborsAndSilhouette, subsetNeighbors, type NeighborsResult } from '../neighbors/neighbors';

/** Column names of the results table, exactly as scib-metrics' cleaned names. */
export const METRIC_NAMES = {
  isolatedLabels: 'Isolated labels',
  kmeansNmi: 'KMeans NMI',
  kmeansAri: 'KMeans ARI',
  silhouetteLabel: 'Silhouette label',
  clisi: 'cLISI',
  silhouetteBatch: 'Silhouette batch',
  bras: 'BRAS',
  ilisi: 'iLISI',
  kbet: 'KBET',
  graphConnectivity: 'Graph connectivity',
  pcrComparison: 'PCR comparison',
} as const;

/** A metric of the results table, by its scib-metrics name. */
export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

/** The family of every metric. */
export const METRIC_TYPES: Readonly<Record<MetricName, MetricType>> = {
  'Isolated labels': 'Bio conservation',
  'KMeans NMI': 'Bio conservation',
  'KMeans ARI': 'Bio conservation',
  'Silhouette label': 'Bio conservation',
  cLISI: 'Bio conservation',
  'Silhouette batch': 'Batch correction',
  BRAS: 'Batch correction',
  iLISI: 'Batch correction',
  KBET: 'Batch correction',
  'Graph connectivity': 'Batch correction',
  'PCR comparison': 'Batch correction',
};

/** Which metrics run (defaults: scib-metrics 0.6's `BioConservation()` and `BatchCorrection()`). */
export interface MetricSelection {
  readonly isolatedLabels?: boolean;
  readonly nmiAriKmeans?: boolean;
  readonly silhouetteLabel?: boolean;
  readonly clisi?: boolean;
  /** Classic silhouette batch (off by default: scib-metrics 0.6 replaced it by BRAS). */
  readonly silhouetteBatch?: boolean;
  readonly bras?: boolean;
  readonly ilisi?: boolean;
  readonly kbet?: boolean;
  readonly graphConnectivity?: boolean;
  /** PCR comparison (needs `unintegrated`). */
  readonly pcrComparison?: boolean;
}

const DEFAULT_SELECTION: Required<MetricSelection> = {
  isolatedLabels: true,
  nmiAriKmeans: true,
  silhouetteLabel: true,
  clisi: true,
  silhouetteBatch: false,
  bras: true,
  ilisi: true,
  kbet: true,
  graphConnectivity: true,
  pcrComparison: true,
};

/** Inputs of the {@link Benchmarker}. */
export interface BenchmarkerInput {
  /** Embeddings by method name (cells × dims, same cells in the same order). */
  readonly embeddings: Readonly<Record<string, Embedding>>;
  /** Cell-type label per cell. */
  readonly labels: Categorical;
  /** Batch per cell. */
  readonly batches: Categorical;
  /** Unintegrated embedding for PCR comparison (scib-metrics: `sc.tl.pca` of the normalised data; see `pca`). */
  readonly unintegrated?: Embedding;
  /** Metrics to run. */
  readonly metrics?: MetricSelection;
  /** Seed of k-means and of the kBET diffusion solver (default 0). */
  readonly seed?: number;
  /** Called after each metric (for progress output); `error` is set when the metric failed and became NaN. */
  readonly onProgress?: (event: { embedding: string; metric: string; seconds: number; error?: string }) => void;
  /**
   * Called with each embedding's exact 90-neighbour graph (self first) once computed, e.g. to reuse
   * it for a UMAP (`subsetNeighbors(nn, 15)`) instead of searching again.
   */
  readonly onNeighbors?: (embedding: string, neighbors: NeighborsResult) => void;
  /**
   * When the silhouettes (label, isolated labels, batch, BRAS) are estimated from a sample instead
   * of exactly: above `maxExactCells` cells (default 200,000) a seeded stratified sample of
   * `sampleSize` cells (default 20,000), each scored exactly against all cells. The choice is
   * recorded per metric in the results (`sampling`). `{ maxExactCells: Infinity }`: always exact.
   */
  readonly silhouetteSampling?: SilhouetteSamplingOptions;
}

/** One embedding's row of the results table. */
export interface MethodResults {
  readonly embedding: string;
  /** Metric values by scib-metrics name; null where not computable (e.g. iLISI with one batch). */
  readonly metrics: Partial<Record<MetricName, number | null>>;
  readonly aggregates: { readonly [K in keyof Aggregates]: number | null };
  /** Seconds spent per step (neighbours and every metric), unscaled runs only. */
  readonly seconds: Readonly<Record<string, number>>;
  /**
   * Why metrics are NaN (null in `metrics`) or skipped labels, by metric name: `label: null` for the
   * whole metric, else the label whose part was skipped (e.g. kBET skips labels with < 10 cells).
   */
  readonly nanReasons: Partial<Record<MetricName, readonly NanReason[]>>;
  /**
   * How the silhouette metrics were computed, by metric name: `exact`, or `subsampled (n=…, seed …,
   * SE …)` (see `BenchmarkerInput.silhouetteSampling`). Absent in results made before it was recorded.
   */
  readonly sampling?: Partial<Record<MetricName, string>>;
}

/** The serialisable results table (results.json). */
export interface BenchmarkResults {
  readonly schema: 'invae.bench.results/1';
  /** The scib-metrics version whose definitions are followed. */
  readonly scibMetrics: '0.6';
  readonly scale: 'none' | 'minmax';
  readonly nCells: number;
  readonly nLabels: number;
  readonly nBatches: number;
  /** Metric name → family, for the metrics present. */
  readonly metricTypes: Partial<Record<MetricName, MetricType>>;
  readonly methods: readonly MethodResults[];
}

const NEIGHBOR_VALUES = [15, 50, 90] as const;

/** Metrics each Benchmarker step computes (a step not listed computes the metric of its own name). */
const STEP_METRICS: Readonly<Record<string, readonly MetricName[]>> = { 'KMeans NMI/ARI': ['KMeans NMI', 'KMeans ARI'] };

function jsonNumber(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/**
 * Orchestrates the pure metric functions over several embeddings, as scib-metrics' `Benchmarker`:
 * exact neighbours are computed once per embedding (90, subset to 50 and 15), the silhouette of the
 * labels once (shared by isolated labels and silhouette label), then every selected metric runs.
 * `getResults({ scale })` returns the table; `writeResultsJson` stores it.
 *
 * ```ts
 * await initEngine({ backend: 'wasm' });
 * const bm = new Benchmarker({ embeddings: { invae: z, pca: pcs }, labels, batches, unintegrated: pcs });
 * bm.benchmark();
 * await writeResultsJson('results.json', bm.getResults({ scale: 'none' }));
 * ```
 */
export class Benchmarker {
  private readonly input: BenchmarkerInput;
  private readonly selection: Required<MetricSelection>;
  private readonly nCells: number;
  private raw:
    | {
        embedding: string;
        metrics: Partial<Record<MetricName, number>>;
        seconds: Record<string, number>;
        nanReasons: Partial<Record<MetricName, NanReason[]>>;
        sampling: Partial<Record<MetricName, string>>;
      }[]
    | null = null;
  private readonly nLabels: number;
  private readonly nBatches: number;

  constructor(input: BenchmarkerInput) {
    const names = Object.keys(input.embeddings ?? {});
    if (names.length === 0) throw new BenchInputError('embeddings', 'No embeddings to benchmark.', { hint: 'Pass { name: matrix } for at least one method.' });
    const n = input.embeddings[names[0]!]!.nRows;
    for (const name of names) checkMatrix(input.embeddings[name]!, `embeddings.${name}`, n);
    const lab = encodeCategorical(input.labels, 'labels', n);
    const bat = encodeCategorical(input.batches, 'batches', n);
    if (input.unintegrated) checkMatrix(input.unintegrated, 'unintegrated', n);
    this.selection = { ...DEFAULT_SELECTION, ...(input.metrics ?? {}) };
    if (this.selection.pcrComparison && !input.unintegrated) {
      throw new BenchInputError('unintegrated', 'PCR comparison needs the unintegrated embedding.', {
        hint: 'Pass unintegrated: pca(logNormalize(counts), 50).coordinates, or disable metrics.pcrComparison.',
      });
    }
    const maxK = Math.max(...NEIGHBOR_VALUES);
    if (n < maxK) throw new BenchInputError('embeddings', `The Benchmarker needs at least ${maxK} cells (90 neighbours), got ${n}.`);
    this.input = input;
    this.nCells = n;
    this.nLabels = lab.counts.length;
    this.nBatches = bat.counts.length;
  }

  /**
   * Runs every selected metric on every embedding (synchronous; call `initEngine` first). A metric
   * that cannot be computed is NaN with its reason recorded (`nanReasons`), never an exception: the
   * scib-metrics definitions skip labels (see `layoutNanReasons`), and a metric that throws is
   * recorded as NaN with the error message.
   */
  benchmark(): void {
    const { labels, batches, unintegrated, onProgress, onNeighbors } = this.input;
    const sel = this.selection;
    const seed = this.input.seed ?? 0;
    const samplingOptions = this.input.silhouetteSampling;
    const lab = encodeCategorical(labels, 'labels', this.nCells);
    const layoutReasons = layoutNanReasons(labelBatchLayout(labels, batches));
    const singleLabel = lab.counts.length === 1;
    const raw: NonNullable<Benchmarker['raw']> = [];
    for (const [name, x] of Object.entries(this.input.embeddings)) {
      const metrics: Partial<Record<MetricName, number>> = {};
      const seconds: Record<string, number> = {};
      const nanReasons: Partial<Record<MetricName, NanReason[]>> = {};
      for (const [m, r] of Object.entries(layoutReasons)) nanReasons[m as MetricName] = [...r];
      const step = <T>(label: string, fn: () => T, fallback?: T): T => {
        const t0 = performance.now();
        let r: T;
        let error: string | undefined;
        if (fallback === undefined) r = fn();
        else {
          try {
            r = fn();
          } catch (e) {
            error = e instanceof Error ? e.message : String(e);
            r = fallback;
          }
        }
        seconds[label] = (performance.now() - t0) / 1000;
        onProgress?.({ embedding: name, metric: label, seconds: seconds[label]!, ...(error ? { error } : {}) });
        if (error) for (const m of STEP_METRICS[label] ?? [label]) (nanReasons[m as MetricName] ??= []).push({ label: null, reason: `failed: ${error}` });
        return r;
      };
      // One pass over the pairwise distances gives the 90 neighbours and the label silhouettes.
      const needSil = sel.isolatedLabels || sel.silhouetteLabel;
      const sampling: Partial<Record<MetricName, string>> = {};
      let labelSampling: SilhouetteSampling = { mode: 'exact' };
      const { nn90, samples } = step('neighbors + label silhouettes', () => {
        if (!needSil) return { nn90: exactNeighbors(x, 90), samples: undefined };
        const r = neighborsAndSilhouette(x, 90, lab.codes, lab.counts.length, { sampling: samplingOptions });
        labelSampling = r.sampling;
        return { nn90: r.neighbors, samples: r.silhouette as Float64Array | undefined };
      });
      // The stated choice: the label silhouette's SE is that of the mean silhouette, halved by the (s + 1) / 2 rescaling.
      const ls = labelSampling as SilhouetteSampling; // set inside the step above
      if (sel.silhouetteLabel) sampling['Silhouette label'] = describeSampling(ls.mode === 'exact' ? ls : { ...ls, se: ls.se / 2 });
      if (sel.isolatedLabels) sampling['Isolated labels'] = ls.mode === 'exact' ? 'exact' : `subsampled (the sampled cells of each isolated label; n=${ls.cells}, seed ${ls.seed})`;
      onNeighbors?.(name, nn90);
      const nn50 = subsetNeighbors(nn90, 50);
      const nn15 = subsetNeighbors(nn90, 15);
      // With a single label the label silhouettes and the k-means agreement are undefined: NaN (reason recorded above).
      if (sel.isolatedLabels) metrics['Isolated labels'] = singleLabel ? NaN : step('Isolated labels', () => isolatedLabels(x, labels, batches, { samples }), NaN);
      if (sel.nmiAriKmeans) {
        const r = singleLabel ? { nmi: NaN, ari: NaN } : step('KMeans NMI/ARI', () => nmiAriClusterLabelsKmeans(x, labels, { seed }), { nmi: NaN, ari: NaN });
        metrics['KMeans NMI'] = r.nmi;
        metrics['KMeans ARI'] = r.ari;
      }
      if (sel.silhouetteLabel) metrics['Silhouette label'] = singleLabel ? NaN : step('Silhouette label', () => silhouetteLabel(x, labels, { samples }), NaN);
      // cLISI and iLISI share the perplexity calibration of the 90-neighbour distances.
      let lisiW: LisiWeights | undefined;
      const weights90 = (): LisiWeights => (lisiW ??= lisiWeights(nn90));
      if (sel.clisi) metrics.cLISI = step('cLISI', () => clisiKnn(nn90, labels, { weights: weights90() }), NaN);
      if (sel.silhouetteBatch) {
        metrics['Silhouette batch'] = step('Silhouette batch', () => {
          const r = silhouetteBatchEstimate(x, labels, batches, { sampling: samplingOptions });
          sampling['Silhouette batch'] = describeSampling(r.sampling);
          return r.score;
        }, NaN);
      }
      if (sel.bras) {
        metrics.BRAS = step('BRAS', () => {
          const r = brasEstimate(x, labels, batches, { sampling: samplingOptions });
          sampling.BRAS = describeSampling(r.sampling);
          return r.score;
        }, NaN);
      }
      if (sel.ilisi) metrics.iLISI = step('iLISI', () => ilisiKnn(nn90, batches, { weights: weights90() }), NaN);
      if (sel.kbet) metrics.KBET = step('KBET', () => kbetPerLabel(nn50, batches, labels, { seed }).score, NaN);
      if (sel.graphConnectivity) metrics['Graph connectivity'] = step('Graph connectivity', () => graphConnectivity(nn15, labels), NaN);
      if (sel.pcrComparison) metrics['PCR comparison'] = step('PCR comparison', () => pcrComparison(unintegrated!, x, batches), NaN);
      // Keep only the reasons of the metrics that ran; explain any other NaN.
      for (const m of Object.keys(nanReasons) as MetricName[]) if (!(m in metrics)) delete nanReasons[m];
      for (const [m, v] of Object.entries(metrics) as [MetricName, number][]) {
        const reasons = nanReasons[m] ?? [];
        if (Number.isNaN(v) && !reasons.some((r) => r.label === null)) {
          reasons.push({ label: null, reason: reasons.length ? 'no label could be scored (see above)' : 'the metric is undefined for this embedding (e.g. a constant embedding: 0/0)' });
          nanReasons[m] = reasons;
        }
      }
      raw.push({ embedding: name, metrics, seconds, nanReasons, sampling });
    }
    this.raw = raw;
  }

  /**
   * The results table: per embedding every metric and the aggregates (Batch correction, Bio
   * conservation, Total). `scale: 'minmax'` min-max scales each metric across embeddings first
   * (scib-metrics' `min_max_scale=True`); default `'none'`.
   */
  getResults(options: { scale?: 'none' | 'minmax' } = {}): BenchmarkResults {
    if (!this.raw) throw new BenchInputError('benchmarker', 'getResults() was called before benchmark().', { hint: 'Call benchmark() first.' });
    const scale = options.scale ?? 'none';
    if (scale !== 'none' && scale !== 'minmax') throw new BenchInputError('scale', `Unknown scale '${String(scale)}'.`, { hint: "Use 'none' or 'minmax'." });
    return resultsTable(this.raw, { scale, nCells: this.nCells, nLabels: this.nLabels, nBatches: this.nBatches });
  }
}

/** The raw metrics of one embedding (NaN where not computable), as {@link resultsTable} reads them. */
export interface RawMethodMetrics {
  readonly embedding: string;
  readonly metrics: Partial<Record<MetricName, number>>;
  readonly seconds: Readonly<Record<string, number>>;
  readonly nanReasons: Partial<Record<MetricName, readonly NanReason[]>>;
  /** How the silhouette metrics were computed (see {@link MethodResults.sampling}). */
  readonly sampling?: Partial<Record<MetricName, string>>;
}

/**
 * The results table of raw metrics (what {@link Benchmarker.getResults} returns): per embedding the
 * metrics (min-max scaled across embeddings with `scale: 'minmax'`) and the aggregates. Also builds
 * the table of metrics computed separately (one seed of a seeded benchmark, or merged shards).
 */
export function resultsTable(raw: readonly RawMethodMetrics[], o: { scale: 'none' | 'minmax'; nCells: number; nLabels: number; nBatches: number }): BenchmarkResults {
  const table: Record<string, Record<string, number>> = {};
  for (const r of raw) table[r.embedding] = { ...(r.metrics as Record<string, number>) };
  const values = o.scale === 'minmax' ? minMaxScale(table) : table;
  const metricTypes: Partial<Record<MetricName, MetricType>> = {};
  for (const r of raw) for (const m of Object.keys(r.metrics) as MetricName[]) metricTypes[m] = METRIC_TYPES[m];
  const methods = raw.map((r) => {
    const v = values[r.embedding]!;
    const agg = aggregateScores(v, METRIC_TYPES);
    const metrics: Partial<Record<MetricName, number | null>> = {};
    for (const [m, val] of Object.entries(v)) metrics[m as MetricName] = jsonNumber(val);
    return {
      embedding: r.embedding,
      metrics,
      aggregates: {
        'Batch correction': jsonNumber(agg['Batch correction']),
        'Bio conservation': jsonNumber(agg['Bio conservation']),
        Total: jsonNumber(agg.Total),
      },
      seconds: { ...r.seconds },
      nanReasons: r.nanReasons,
      ...(r.sampling && Object.keys(r.sampling).length ? { sampling: { ...r.sampling } } : {}),
    };
  });
  return {
    schema: 'invae.bench.results/1',
    scibMetrics: '0.6',
    scale: o.scale,
    nCells: o.nCells,
    nLabels: o.nLabels,
    nBatches: o.nBatches,
    metricTypes,
    methods,
  };
}

/** Writes `results` as pretty JSON to `file` atomically (temporary file in the same folder, then rename). */
export async function writeResultsJson(file: string, results: BenchmarkResults): Promise<void> {
  await writeFileContentAtomic(file, JSON.stringify(results, null, 2) + '\n');
}
