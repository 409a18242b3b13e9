import { encodeCategorical, indicesOf, type Categorical } from '../categories';
import { subgraph, umapConnectivities } from '../connectivities';
import { diffusionEmbedding } from '../diffusion';
import { BenchInputError } from '../errors';
import { UnionFind } from './graph-connectivity';
import { checkNeighbors, exactNeighbors, type NeighborsResult } from '../neighbors';
import { chiSquareSurvival } from '../special-functions';

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
}

/** Per-label details of {@link kbetPerLabel}. */
export interface KbetPerLabelResult {
  /** Mean of the per-label scores, NaN labels skipped. */
  readonly score: number;
  /** Score per label (NaN: fewer than 10 cells or a single batch). */
  readonly perLabel: { label: string | number; kbet: number }[];
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
  const perLabel: { label: string | number; kbet: number }[] = [];
  for (let l = 0; l < lab.counts.length; l++) {
    const idx = indicesOf(lab.codes, l);
    const nObs = idx.length;
    const subBatches = Array.from(idx, (i) => bat.codes[i]!);
    const subEnc = encodeCategorical(subBatches, 'batches');
    let score: number;
    if (nObs < 10 || subEnc.counts.length === 1) {
      score = NaN;
    } else {
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
      if (keep.length === 0) score = 0;
      else if (k0 + 1 > keep.length) score = 0;
      else {
        const gg = keep.length === nObs ? g : subgraph(g, keep);
        // scib-metrics lowers its `diffusion_n_comps` variable in place, so a small label also caps
        // the components of every later label; kept for parity.
        nComps = Math.min(nComps, keep.length - 1);
        const emb = diffusionEmbedding(gg, nComps, options.seed ?? 0);
        const dnn = exactNeighbors(emb, k0 + 1);
        score = kbet(dnn, keep.map((i) => subBatches[i]!), { alpha }).acceptanceRate;
      }
    }
    perLabel.push({ label: lab.categories[l]!, kbet: score });
  }
  const valid = perLabel.filter((r) => !Number.isNaN(r.kbet));
  const score = valid.length === 0 ? NaN : valid.reduce((s, r) => s + r.kbet, 0) / valid.length;
  return { score, perLabel };
}
