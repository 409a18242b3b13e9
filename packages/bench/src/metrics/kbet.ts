import { encodeCategorical, indicesOf, type Categorical } from '../internal/categories';
import { subgraph, umapConnectivities, type NeighborGraph } from '../neighbors/connectivities';
import { Rng } from '@invae/core';
import { diffusionEmbedding } from '../embedding/diffusion';
import { scanThreads } from '../neighbors/fold-worker';
import { EmbeddingHelper, type EmbeddingReply } from './kbet-helper';
import type { Embedding } from '../internal/matrix';
import { BenchInputError } from '../errors';
import { UnionFind } from './graph-connectivity';
import { checkNeighbors, exactNeighbors, type NeighborsResult } from '../neighbors/neighbors';
import { chiSquareSurvival } from '../internal/special-functions';

/** Result of {@link kbet}. */
export interface KbetResult {
  /** Fraction of cells whose neighbourhood test is not rejected (p ≥ alpha). */
  readonly acceptanceRate: number;
  /** Chi-square statistic per cell. */
  readonly statistics: Float64Array;
  /** p-value per cell. */
  readonly pValues: Float64Array;
}

/**
 * scib-metrics `kbet` (Büttner et al. 2018, Pegasus-style): for each cell, the batch counts among
 * its neighbours (all listed neighbours, self included) are compared with the global batch
 * frequencies by a chi-square test with (batches − 1) degrees of freedom; the acceptance rate is the
 * fraction of cells with p ≥ `alpha`.
 */
export function kbet(nn: NeighborsResult, batches: Categorical, options: { alpha?: number } = {}): KbetResult {
  const enc = encodeCategorical(batches, 'batches', nn.nObs);
  checkNeighbors(nn, enc.codes.length);
  const alpha = options.alpha ?? 0.05;
  const B = enc.counts.length;
  const k = nn.nNeighbors;
  const expected = Float64Array.from(enc.counts, (c) => (c / nn.nObs) * k);
  const statistics = new Float64Array(nn.nObs);
  const pValues = new Float64Array(nn.nObs);
  const observed = new Float64Array(B);
  let accepted = 0;
  for (let i = 0; i < nn.nObs; i++) {
    observed.fill(0);
    for (let j = 0; j < k; j++) observed[enc.codes[nn.indices[i * k + j]!]!]++;
    let stat = 0;
    for (let b = 0; b < B; b++) stat += (observed[b]! - expected[b]!) ** 2 / expected[b]!;
    statistics[i] = stat;
    // With a single batch the statistic is 0 and dof 0; scib-metrics gets p = 1 − gammainc(0, 0) = NaN.
    const p = B > 1 ? chiSquareSurvival(stat, B - 1) : NaN;
    pValues[i] = p;
    if (p >= alpha) accepted++;
  }
  return { acceptanceRate: accepted / nn.nObs, statistics, pValues };
}

/** Options of {@link kbetPerLabel}. */
export interface KbetPerLabelOptions {
  /** Significance level (default 0.05). */
  readonly alpha?: number;
  /** Diffusion components (default 100, capped at label size − 1). */
  readonly diffusionNComps?: number;
  /** Seed of the Lanczos start vectors (default 0). */
  readonly seed?: number;
  /**
   * Threads for the diffusion embeddings: 2 lets a helper worker thread embed labels while the main
   * thread does others (default: `INVAE_BENCH_THREADS`, else the available parallelism, at most 2;
   * by default only with ≥ 2 labels to embed holding ≥ 4000 cells). Results do not depend on it.
   */
  readonly threads?: number;
  /**
   * Wait up to this many milliseconds for the helper thread to start before embedding (default 0).
   * For tests.
   * @internal
   */
  readonly waitForHelperMs?: number;
}

/** Cells (over all labels to embed) from which kBET starts its helper thread by default. */
const MIN_CELLS_FOR_HELPER = 4000;
/** Longest wait for the helper's embedding before the main thread computes it instead. */
const HELPER_TIMEOUT_MS = 600_000;

/**
 * The uniforms the Lanczos start vectors of a diffusion embedding draw (`new Rng(seed)`, as
 * `diffusionEmbedding` uses): one start vector of `n` values and room for two restarts.
 */
function startUniforms(seed: number, n: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(3 * n);
  for (let i = 0; i < out.length; i++) out[i] = rng.uniform();
  return out;
}

/** Per-label details of {@link kbetPerLabel}. */
export interface KbetPerLabelResult {
  /** Mean of the per-label scores, NaN labels skipped. */
  readonly score: number;
  /** Score per label (NaN: fewer than 10 cells or a single batch). */
  readonly perLabel: { label: string | number; kbet: number }[];
  /** Labels whose diffusion embedding the helper thread computed (0 without one). */
  readonly helperLabels: number;
}

/**
 * scib-metrics `kbet_per_label` (scIB's kBET, approximated as in scib-metrics): UMAP connectivities of
 * the (50-)neighbour graph; per label, the connectivity subgraph of its cells; labels with < 10 cells
 * or one batch are skipped (NaN); k0 = min(70, max(10, ⌊mean cells per batch / 4⌋)); if the subgraph is
 * connected, kBET runs on the k0 + 1 exact nearest neighbours in its multiscale diffusion-map
 * embedding (diffusion distance); with several components, the components of ≥ 3·k0 cells are used if
 * they hold ≥ 75 % of the cells, else the label scores 0; a failed diffusion (too few cells for k0 + 1
 * neighbours) scores 0. The score is the mean acceptance rate over labels. Higher is better.
 *
 * Differences from scib-metrics: eigenpairs by Lanczos instead of ARPACK, exact neighbours in the
 * diffusion space instead of pynndescent; both only change approximation error.
 */
export function kbetPerLabel(nn: NeighborsResult, batches: Categorical, labels: Categorical, options: KbetPerLabelOptions = {}): KbetPerLabelResult {
  const bat = encodeCategorical(batches, 'batches', nn.nObs);
  const lab = encodeCategorical(labels, 'labels', nn.nObs);
  checkNeighbors(nn, bat.codes.length, 2);
  const alpha = options.alpha ?? 0.05;
  let nComps = options.diffusionNComps ?? 100;
  if (!Number.isInteger(nComps) || nComps < 1) {
    throw new BenchInputError('diffusionNComps', `diffusionNComps must be a positive integer, got ${nComps}.`);
  }
  const conn = umapConnectivities(nn);
  const seed = options.seed ?? 0;
  // Pass 1, in label order: which labels are scored, their kept subgraph, k0 and components.
  const scores = new Float64Array(lab.counts.length);
  const tasks: { label: number; graph: NeighborGraph; nComps: number; k0: number; batches: number[] }[] = [];
  for (let l = 0; l < lab.counts.length; l++) {
    const idx = indicesOf(lab.codes, l);
    const nObs = idx.length;
    const subBatches = Array.from(idx, (i) => bat.codes[i]!);
    const subEnc = encodeCategorical(subBatches, 'batches');
    if (nObs < 10 || subEnc.counts.length === 1) {
      scores[l] = NaN;
      continue;
    }
    let meanPerBatch = 0;
    for (const c of subEnc.counts) meanPerBatch += c;
    meanPerBatch /= subEnc.counts.length;
    let k0 = Math.min(70, Math.max(10, Math.floor(meanPerBatch / 4)));
    if (k0 * nObs >= 2 ** 31 - 1) k0 = Math.floor((2 ** 31 - 1) / nObs);
    const g = subgraph(conn, idx);
    const uf = new UnionFind(nObs);
    for (let i = 0; i < nObs; i++) for (let p = g.indptr[i]!; p < g.indptr[i + 1]!; p++) uf.union(i, g.indices[p]!);
    const compSize = new Map<number, number>();
    for (let i = 0; i < nObs; i++) compSize.set(uf.find(i), (compSize.get(uf.find(i)) ?? 0) + 1);
    let keep: number[];
    if (compSize.size === 1) keep = Array.from({ length: nObs }, (_, i) => i);
    else {
      keep = [];
      for (let i = 0; i < nObs; i++) if (compSize.get(uf.find(i))! >= 3 * k0) keep.push(i);
      if (keep.length / nObs < 0.75) keep = [];
    }
    if (keep.length === 0 || k0 + 1 > keep.length) {
      // No usable component, or too few cells for k0 + 1 neighbours (a failed diffusion): 0.
      scores[l] = 0;
      continue;
    }
    const gg = keep.length === nObs ? g : subgraph(g, keep);
    // scib-metrics lowers its `diffusion_n_comps` variable in place, so a small label also caps
    // the components of every later label; kept for parity.
    nComps = Math.min(nComps, keep.length - 1);
    tasks.push({ label: l, graph: gg, nComps, k0, batches: keep.map((i) => subBatches[i]!) });
  }
  // Pass 2: the diffusion embeddings (the costly part), shared with a helper thread when there is
  // enough work; then kBET on the exact neighbours in each embedding, on the main thread.
  const finish = (t: (typeof tasks)[number], emb: Embedding) => {
    // One connected label in the diffusion space's many dimensions: block pruning rules out almost
    // nothing there, so each pair is computed once for both cells (same neighbours, ~half the work).
    const dnn = exactNeighbors(emb, t.k0 + 1, { symmetric: true });
    scores[t.label] = kbet(dnn, t.batches, { alpha }).acceptanceRate;
  };
  const threads = options.threads ?? scanThreads();
  let cells = 0;
  for (const t of tasks) cells += t.graph.n;
  const explicit = options.threads !== undefined;
  const helper = threads > 1 && tasks.length >= 2 && (explicit || cells >= MIN_CELLS_FOR_HELPER) ? new EmbeddingHelper() : null;
  let helperLabels = 0;
  if (helper && options.waitForHelperMs) helper.waitForStart(options.waitForHelperMs);
  try {
    const queue = [...tasks].sort((a, b) => b.graph.n - a.graph.n);
    const byId = new Map(tasks.map((t) => [t.label, t]));
    const handle = (r: EmbeddingReply | null) => {
      if (!r) return;
      const t = byId.get(r.id)!;
      if (r.embedding) helperLabels++;
      // A task the helper could not do is computed here (same code, same draws: same result).
      finish(t, r.embedding ?? diffusionEmbedding(t.graph, t.nComps, seed));
    };
    while (queue.length > 0 || helper?.busyWith != null) {
      if (helper?.idle && queue.length > 0) {
        const t = queue.shift()!;
        helper.submit({ id: t.label, graph: t.graph, nComps: t.nComps, uniforms: startUniforms(seed, t.graph.n) });
      }
      if (queue.length > 0) {
        const t = queue.shift()!;
        finish(t, diffusionEmbedding(t.graph, t.nComps, seed));
        handle(helper?.poll() ?? null);
      } else if (helper?.busyWith != null) {
        const id = helper.busyWith;
        const r = helper.wait(HELPER_TIMEOUT_MS);
        if (r) handle(r);
        else {
          // The helper stalled: do its task here and stop it.
          helper.dispose();
          const t = byId.get(id)!;
          finish(t, diffusionEmbedding(t.graph, t.nComps, seed));
          break;
        }
      }
    }
  } finally {
    helper?.dispose();
  }
  const perLabel: { label: string | number; kbet: number }[] = Array.from(scores, (v, l) => ({ label: lab.categories[l]!, kbet: v }));
  const valid = perLabel.filter((r) => !Number.isNaN(r.kbet));
  const score = valid.length === 0 ? NaN : valid.reduce((s, r) => s + r.kbet, 0) / valid.length;
  return { score, perLabel, helperLabels };
}
