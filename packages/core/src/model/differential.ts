import { InvalidOptionError } from '../errors';
import { Rng } from '../random/rng';
import { decodeSamples, type DecodePlan, type DecodeSource, type ExpressionOptions } from './expression';

/** Options of {@link Invae.differentialExpression}. */
export interface DeOptions {
  /** obs column whose values define the groups (e.g. `cell_type`). */
  groupby: string;
  /** The group of interest (a value of `groupby`). */
  group: string;
  /** The group it is compared with; absent or null: every other cell (one-vs-rest). */
  reference?: string | null;
  /** Smallest |log2 fold change| that counts as a change (δ; default 0.25, as scvi-tools). */
  delta?: number;
  /** Posterior expected false discovery rate of the called set (default 0.05). */
  fdrTarget?: number;
  /** Posterior samples of each group's expression (default 100). */
  samplesPerGroup?: number;
  /**
   * Cells averaged in one sample (default: the group's size, at most 256): every sample draws this
   * many of the group's cells with replacement, decodes each from its own posterior draw, and takes
   * their mean, so the LFC is that of the groups' mean expression levels, with the uncertainty of
   * the posterior and of the cells sampled. 1 gives scvi-tools' pairs of single cells, whose P(DE)
   * reflects cell-to-cell variation within heterogeneous groups as much as a change between them.
   */
  cellsPerSample?: number;
  /** Added to the normalised expression before the log (default 1e-6 × librarySize). */
  pseudocount?: number;
  /**
   * Compare batch-corrected expression (default true): every sample is decoded under each batch of
   * the model's batch covariate and averaged (transformBatch 'all'). False: each cell's own batch.
   * Without a batch covariate in the model, cells are decoded as they are.
   */
  batchCorrection?: boolean;
  /** The batch covariate of `batchCorrection` (default: the model's only categorical spurious covariate). */
  batchKey?: string;
  /** Library size of the normalised expression (default 1e4). */
  librarySize?: number;
  /** Genes to test (default: all the model's genes). */
  genes?: readonly string[];
  /** Seed of the cell draws and posterior samples (default 0: the same call gives the same result). */
  seed?: number;
}

/** One gene's result of {@link Invae.differentialExpression} (group vs reference). */
export interface DeGene {
  gene: string;
  /** Posterior mean, median and standard deviation of log2(ρ̄_group + ε) − log2(ρ̄_reference + ε), ρ̄ a sample of a group's mean normalised expression. */
  lfcMean: number;
  lfcMedian: number;
  lfcStd: number;
  /** P(|LFC| ≥ δ) under the posterior, and its complement. */
  probaDe: number;
  probaNotDe: number;
  /** Natural-log Bayes factor ln(P(|LFC| ≥ δ) / P(|LFC| < δ)). */
  bayesFactor: number;
  /** In the set called at the posterior expected FDR target. */
  isDe: boolean;
  /** Mean normalised expression (the model's, per librarySize counts) of the group and of the reference, over their samples. */
  scaleGroup: number;
  scaleReference: number;
  /** Mean raw count of the group's and the reference's cells. */
  rawMeanGroup: number;
  rawMeanReference: number;
  /** Fraction of the group's and the reference's cells with a non-zero count. */
  detectionGroup: number;
  detectionReference: number;
}

/** Result of {@link Invae.differentialExpression}: genes sorted by Bayes factor, highest first. */
export interface DeResult {
  groupby: string;
  group: string;
  /** The reference group, or null for all other cells. */
  reference: string | null;
  delta: number;
  fdrTarget: number;
  pseudocount: number;
  /** Whether batch-corrected expression was compared, and over which batch covariate. */
  batchCorrected: boolean;
  batchKey: string | null;
  nCellsGroup: number;
  nCellsReference: number;
  samplesPerGroup: number;
  /** Cells averaged per sample, in the group and in the reference. */
  cellsPerSample: { group: number; reference: number };
  /** Genes called (isDe). */
  nDe: number;
  genes: DeGene[];
}

function finite(option: string, v: number, ok: (x: number) => boolean, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new InvalidOptionError(option, `${option} must be ${what}, got ${String(v)}.`);
  return v;
}

/**
 * The genes called at a posterior expected false discovery rate `target`: genes ranked by
 * P(DE) (highest first), the largest top set whose mean of 1 − P(DE) is ≤ `target`.
 * @returns one flag per gene, in the input order.
 */
export function posteriorFdrCalls(probaDe: ArrayLike<number>, target: number): boolean[] {
  const order = Array.from({ length: probaDe.length }, (_, i) => i).sort((a, b) => probaDe[b]! - probaDe[a]!);
  let sum = 0;
  let keep = 0;
  order.forEach((g, k) => {
    sum += 1 - probaDe[g]!;
    if (sum / (k + 1) <= target) keep = k + 1;
  });
  const out = new Array<boolean>(probaDe.length).fill(false);
  for (let k = 0; k < keep; k++) out[order[k]!] = true;
  return out;
}

/**
 * Differential expression of the cells labelled `group` against `reference` (see {@link DeOptions});
 * `labels` is the `groupby` column, `planOf` resolves the expression options against the model.
 */
export function differentialExpression(src: DecodeSource, labels: readonly (string | null)[], options: DeOptions, planOf: (o: ExpressionOptions) => DecodePlan): DeResult {
  const { groupby, group } = options;
  const reference = options.reference ?? null;
  if (typeof group !== 'string' || group === '') throw new InvalidOptionError('group', 'group must be a value of the groupby column.');
  if (reference === group) throw new InvalidOptionError('reference', `the reference is the group itself ('${group}').`, { hint: 'choose another reference, or leave it out for one-vs-rest' });
  const delta = finite('delta', options.delta ?? 0.25, (x) => x >= 0, '≥ 0');
  const fdrTarget = finite('fdrTarget', options.fdrTarget ?? 0.05, (x) => x > 0 && x < 1, 'in (0, 1)');
  const samplesPerGroup = finite('samplesPerGroup', options.samplesPerGroup ?? 100, (x) => Number.isSafeInteger(x) && x >= 1, 'an integer ≥ 1');
  if (options.cellsPerSample !== undefined) finite('cellsPerSample', options.cellsPerSample, (x) => Number.isSafeInteger(x) && x >= 1, 'an integer ≥ 1');
  const seed = finite('seed', options.seed ?? 0, (x) => Number.isSafeInteger(x) && x >= 0, 'an integer ≥ 0');
  const inGroup: number[] = [];
  const inRef: number[] = [];
  labels.forEach((l, i) => {
    if (l === null || l === undefined) return;
    if (l === group) inGroup.push(i);
    else if (reference === null || l === reference) inRef.push(i);
  });
  const present = () => [...new Set(labels.filter((l): l is string => l !== null && l !== undefined))].sort();
  if (inGroup.length === 0) {
    throw new InvalidOptionError('group', `no cell has ${groupby} = '${group}' (values: ${present().slice(0, 20).join(', ')}).`, { hint: 'choose one of the values present' });
  }
  if (inRef.length === 0) {
    throw new InvalidOptionError('reference', reference === null ? `every cell has ${groupby} = '${group}': there is no other cell to compare with.` : `no cell has ${groupby} = '${reference}' (values: ${present().slice(0, 20).join(', ')}).`, {
      hint: 'choose a reference present in the data',
    });
  }
  // batch correction over the model's batch covariate, when it has one
  const categorical = src.spurEncoder.keys.filter((k) => src.spurEncoder.categoriesOf(k) !== undefined);
  const correct = (options.batchCorrection ?? true) && (options.batchKey !== undefined || categorical.length > 0);
  const plan = planOf({ librarySize: options.librarySize, genes: options.genes, batchKey: options.batchKey, transformBatch: correct ? 'all' : null });
  const batchKey = correct ? (options.batchKey ?? (categorical.length === 1 ? categorical[0]! : null)) : null;
  const pseudocount = finite('pseudocount', options.pseudocount ?? 1e-6 * plan.librarySize, (x) => x > 0, '> 0');
  const G = plan.geneNames.length;
  const rng = new Rng(seed);

  /** samplesPerGroup posterior samples of the group's mean expression (see cellsPerSample), samples × genes. */
  const samples = (cells: number[], salt: number): { values: Float32Array; cellsPerSample: number } => {
    const k = options.cellsPerSample ?? Math.min(cells.length, 256);
    const total = samplesPerGroup * k;
    const pick = Int32Array.from({ length: total }, () => cells[Math.min(cells.length - 1, Math.floor(rng.uniform() * cells.length))]!);
    const sums = new Float64Array(samplesPerGroup * G);
    for (let s = 0, block = 0; s < total; s += plan.batchSize, block++) {
      const idx = pick.subarray(s, Math.min(total, s + plan.batchSize));
      const [values] = decodeSamples(src, { ...plan, nSamples: 1 }, idx, { sample: true, seed: seed * 1000003 + salt * 65537 + block });
      for (let i = 0; i < idx.length; i++) {
        const o = Math.floor((s + i) / k) * G;
        for (let g = 0; g < G; g++) sums[o + g] += values![i * G + g]!;
      }
    }
    return { values: Float32Array.from(sums, (v) => v / k), cellsPerSample: k };
  };
  const sa = samples(inGroup, 1);
  const sb = samples(inRef, 2);
  const a = sa.values;
  const b = sb.values;

  /** Mean raw count and detection rate of each gene over `cells`. */
  const rawStats = (cells: number[]) => {
    const mean = new Float64Array(G);
    const detected = new Float64Array(G);
    const nCols = src.rows.nCols;
    for (let s = 0; s < cells.length; s += 1024) {
      const idx = cells.slice(s, s + 1024);
      const x = src.rows.readRows(idx);
      for (let i = 0; i < idx.length; i++) {
        for (let g = 0; g < G; g++) {
          const v = x[i * nCols + (plan.genes ? plan.genes[g]! : g)]!;
          mean[g] += v;
          if (v > 0) detected[g]++;
        }
      }
    }
    return { mean: mean.map((v) => v / cells.length), detection: detected.map((v) => v / cells.length) };
  };
  const rawA = rawStats(inGroup);
  const rawB = rawStats(inRef);

  const M = samplesPerGroup;
  const lfc = new Float64Array(M);
  const rows: Omit<DeGene, 'isDe'>[] = [];
  for (let g = 0; g < G; g++) {
    let sum = 0;
    let meanA = 0;
    let meanB = 0;
    let hits = 0;
    for (let i = 0; i < M; i++) {
      const va = a[i * G + g]!;
      const vb = b[i * G + g]!;
      meanA += va;
      meanB += vb;
      const l = Math.log2(va + pseudocount) - Math.log2(vb + pseudocount);
      lfc[i] = l;
      sum += l;
      if (Math.abs(l) >= delta) hits++;
    }
    const mean = sum / M;
    let ss = 0;
    for (let i = 0; i < M; i++) ss += (lfc[i]! - mean) ** 2;
    lfc.sort();
    const median = M % 2 ? lfc[(M - 1) / 2]! : (lfc[M / 2 - 1]! + lfc[M / 2]!) / 2;
    const p = hits / M;
    rows.push({
      gene: plan.geneNames[g]!,
      lfcMean: mean,
      lfcMedian: median,
      lfcStd: Math.sqrt(ss / Math.max(1, M - 1)),
      probaDe: p,
      probaNotDe: 1 - p,
      bayesFactor: Math.log(p + 1e-8) - Math.log(1 - p + 1e-8),
      scaleGroup: meanA / M,
      scaleReference: meanB / M,
      rawMeanGroup: rawA.mean[g]!,
      rawMeanReference: rawB.mean[g]!,
      detectionGroup: rawA.detection[g]!,
      detectionReference: rawB.detection[g]!,
    });
  }
  const calls = posteriorFdrCalls(
    rows.map((r) => r.probaDe),
    fdrTarget,
  );
  const genes: DeGene[] = rows.map((r, g) => ({ ...r, isDe: calls[g]! }));
  genes.sort((x, y) => y.bayesFactor - x.bayesFactor || Math.abs(y.lfcMean) - Math.abs(x.lfcMean));
  return {
    groupby,
    group,
    reference,
    delta,
    fdrTarget,
    pseudocount,
    batchCorrected: correct,
    batchKey,
    nCellsGroup: inGroup.length,
    nCellsReference: inRef.length,
    samplesPerGroup,
    cellsPerSample: { group: sa.cellsPerSample, reference: sb.cellsPerSample },
    nDe: calls.filter(Boolean).length,
    genes,
  };
}

const CSV_COLUMNS: [string, keyof DeGene][] = [
  ['gene', 'gene'],
  ['lfc_mean', 'lfcMean'],
  ['lfc_median', 'lfcMedian'],
  ['lfc_std', 'lfcStd'],
  ['proba_de', 'probaDe'],
  ['proba_not_de', 'probaNotDe'],
  ['bayes_factor', 'bayesFactor'],
  ['is_de_fdr', 'isDe'],
  ['scale_group', 'scaleGroup'],
  ['scale_reference', 'scaleReference'],
  ['raw_mean_group', 'rawMeanGroup'],
  ['raw_mean_reference', 'rawMeanReference'],
  ['detection_group', 'detectionGroup'],
  ['detection_reference', 'detectionReference'],
];

function csvField(v: unknown): string {
  const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(6)) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A {@link DeResult} as CSV, one row per gene in the result's order (columns named as scvi-tools' where they match). */
export function deResultCsv(result: DeResult): string {
  const lines = [CSV_COLUMNS.map(([h]) => h).join(',')];
  for (const g of result.genes) lines.push(CSV_COLUMNS.map(([, k]) => csvField(g[k])).join(','));
  return `${lines.join('\n')}\n`;
}
