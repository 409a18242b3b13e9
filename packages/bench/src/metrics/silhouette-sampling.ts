import { Rng } from '@invae/core';
import { BenchInputError } from '../errors';
import type { Embedding } from '../internal/matrix';
import { wasmClusterSums } from '../neighbors/cluster-sums-wasm';
import type { DistanceMetric } from '../neighbors/distances';
import { wasmSearchAvailable } from '../neighbors/knn-wasm';
import { silhouetteFromSums, type BetweenClusterDistances } from '../neighbors/silhouette-samples';

/** Above this many cells the silhouettes are estimated from a sample by default (see {@link SilhouetteSamplingOptions}). */
export const SILHOUETTE_EXACT_MAX_CELLS = 200_000;
/** Default number of sampled cells of a subsampled silhouette. */
export const SILHOUETTE_SAMPLE_SIZE = 20_000;

/** How the silhouettes were computed. */
export type SilhouetteSampling =
  | { readonly mode: 'exact' }
  | {
      readonly mode: 'subsampled';
      /** Cells whose silhouette was computed (exactly, against all cells). */
      readonly cells: number;
      readonly seed: number;
      /** Standard error of the estimated metric (stratified, finite-population corrected). */
      readonly se: number;
    };

/** When and how the silhouettes are subsampled. */
export interface SilhouetteSamplingOptions {
  /** Compute exactly up to this many cells (default {@link SILHOUETTE_EXACT_MAX_CELLS}). */
  readonly maxExactCells?: number;
  /** Cells sampled above it (default {@link SILHOUETTE_SAMPLE_SIZE}). */
  readonly sampleSize?: number;
  /** Seed of the sample (default 0). */
  readonly seed?: number;
}

/** A one-line statement of a sampling choice, for reports: `exact` or `subsampled (n=…, seed …, SE …)`. */
export function describeSampling(s: SilhouetteSampling): string {
  return s.mode === 'exact' ? 'exact' : `subsampled (n=${s.cells} cells stratified by label, seed ${s.seed}, SE ${s.se.toPrecision(2)})`;
}

/** Checks the sampling options. */
export function checkSamplingOptions(o: SilhouetteSamplingOptions): void {
  for (const [k, v] of [['maxExactCells', o.maxExactCells], ['sampleSize', o.sampleSize], ['seed', o.seed]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new BenchInputError(k, `${k} must be a non-negative integer, got ${v}.`);
  }
}

/** Whether a silhouette over `n` cells is subsampled under these options. */
export function isSubsampled(n: number, o: SilhouetteSamplingOptions): boolean {
  return n > (o.maxExactCells ?? SILHOUETTE_EXACT_MAX_CELLS) && (o.sampleSize ?? SILHOUETTE_SAMPLE_SIZE) < n;
}

/**
 * A stratified sample of the cells `0 … codes.length − 1` (ascending): from each stratum (code) of
 * size n_l, max(min(n_l, 2), round(size · n_l / n)) cells at most n_l, drawn without replacement by a
 * seeded partial Fisher–Yates shuffle.
 */
export function stratifiedSample(codes: Int32Array, nStrata: number, size: number, seed: number): Int32Array {
  const members: number[][] = Array.from({ length: nStrata }, () => []);
  for (let i = 0; i < codes.length; i++) members[codes[i]!]!.push(i);
  const rng = new Rng(seed);
  const out: number[] = [];
  for (const list of members) {
    const nl = list.length;
    const ml = Math.min(nl, Math.max(Math.min(nl, 2), Math.round((size * nl) / codes.length)));
    for (let t = 0; t < ml; t++) {
      const u = t + rng.int(nl - t);
      const v = list[u]!;
      list[u] = list[t]!;
      list[t] = v;
      out.push(v);
    }
  }
  return Int32Array.from(out).sort();
}

/**
 * Stratified estimate of the mean of per-cell values over all cells from the sampled cells (values
 * NaN elsewhere): Σ_l (n_l / n) · mean_l, with its standard error
 * √(Σ_l (n_l / n)² (1 − m_l / n_l) s_l² / m_l). With every cell sampled, the plain mean and SE 0.
 */
export function stratifiedMean(values: Float64Array, codes: Int32Array, nStrata: number, weightOf?: (l: number, nl: number) => number): { mean: number; se: number } {
  const n = codes.length;
  const nl = new Float64Array(nStrata);
  const ml = new Float64Array(nStrata);
  const sum = new Float64Array(nStrata);
  const sq = new Float64Array(nStrata);
  for (let i = 0; i < n; i++) {
    const l = codes[i]!;
    nl[l]++;
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    ml[l]++;
    sum[l] += v;
    sq[l] += v * v;
  }
  let mean = 0;
  let var_ = 0;
  for (let l = 0; l < nStrata; l++) {
    if (nl[l] === 0) continue;
    const w = weightOf ? weightOf(l, nl[l]!) : nl[l]! / n;
    if (w === 0) continue;
    if (ml[l] === 0) return { mean: NaN, se: NaN };
    const m = sum[l]! / ml[l]!;
    mean += w * m;
    if (ml[l]! > 1 && ml[l]! < nl[l]!) {
      const s2 = (sq[l]! - ml[l]! * m * m) / (ml[l]! - 1);
      var_ += w * w * (1 - ml[l]! / nl[l]!) * Math.max(0, s2) / ml[l]!;
    }
  }
  return { mean, se: Math.sqrt(var_) };
}

/**
 * Silhouettes of the cells `rows` with clusters `codes` over the cells `cols` (all cells of `x` when
 * omitted), each computed exactly against all of `cols` by the WebAssembly cluster-sums kernel.
 * Returns one value per row.
 */
export function silhouettesOfRows(
  x: Embedding,
  cols: Int32Array | null,
  codes: Int32Array,
  nClusters: number,
  rows: Int32Array,
  metric: DistanceMetric,
  between: BetweenClusterDistances,
): Float64Array {
  const allCols = cols ?? Int32Array.from({ length: x.nRows }, (_, i) => i);
  // Rows are given as cell indices; their positions among cols give their own clusters.
  const pos = new Map<number, number>();
  allCols.forEach((c, t) => pos.set(c, t));
  const rowPos = Int32Array.from(rows, (r) => {
    const p = pos.get(r);
    if (p === undefined) throw new Error(`silhouettesOfRows: row cell ${r} is not among the columns.`);
    return p;
  });
  const sums = wasmClusterSums(x, allCols, codes, nClusters, rows, metric);
  return silhouetteFromSums(sums, codes, nClusters, between, rowPos);
}

/** Whether the WebAssembly silhouette kernels run here. */
export function wasmSilhouettesAvailable(): boolean {
  return wasmSearchAvailable();
}
