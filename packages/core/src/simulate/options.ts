import { InvalidOptionError } from '../errors';
import { checkSeed } from '../random/rng';

/** Count likelihood of the simulator. */
export type SimulateLikelihood = 'nb' | 'poisson';

/** Options of {@link simulate}; every field has a default. */
export interface SimulateOptions {
  /** Cells (default 2000). */
  nCells?: number;
  /** Genes (default 500). */
  nGenes?: number;
  /** Batches (technical environments; default 3). */
  nBatches?: number;
  /** Cell types (default 2). */
  nCellTypes?: number;
  /** Disease states; state 0 is unshifted ("healthy") (default 2). */
  nDiseases?: number;
  /** Invariant latent dimensions (default 9, as the reference sparse_shift). */
  latentDimInv?: number;
  /** Spurious latent dimensions (default 1, as the reference; may be 0). */
  latentDimSpur?: number;
  /** Seed; the same options and seed give identical output (default 0). */
  seed?: number;
  /** Count distribution: negative binomial (default) or Poisson. */
  likelihood?: SimulateLikelihood;
  /**
   * NB inverse dispersion θ (variance μ + μ²/θ): one value for all genes, or a [min, max] range from
   * which each gene's θ is drawn log-uniformly (default [1, 10]). Ignored for Poisson.
   */
  theta?: number | readonly [number, number];
  /** Per-cell total expected counts drawn log-uniformly from [min, max] (default [1000, 5000]). */
  librarySize?: readonly [number, number];
  /** Probability that a sampled count is zeroed (technical dropout; default 0). */
  dropout?: number;
  /** Standard deviation of the per-gene log baseline expression; larger gives more skewed genes and more zeros (default 1). */
  geneSpread?: number;
  /** Multiplies the standardised decoder logits (default 1, as the reference's logits / std). */
  logitScale?: number;
  /** Width of the random decoder's hidden layers (default 40, as the reference). */
  hiddenDim?: number;
  /** Negative slope of the decoder's leaky ReLUs (default 0.2, as the reference). */
  negativeSlope?: number;
  /** Standard deviation of the cell-type means of the invariant latents (default 2). */
  cellTypeSpread?: number;
  /** Size of the disease shift on the affected invariant dimensions (default 1, as the reference). */
  diseaseShift?: number;
  /** Mean of the spurious latents in batch b is b × batchShift (default 1: means 0, 1, 2, … as the reference). */
  batchShift?: number;
  /** Variance of the spurious latents in batch b is 1 + (b + 1) × batchVariance (default 1: 2, 3, 4, … as the reference). */
  batchVariance?: number;
  /** Layout of the counts (default 'csr'). */
  format?: 'csr' | 'dense';
  /**
   * Treatments (perturbations, drugs) besides the untreated control (default 0: no `treatment` /
   * `dose` columns). Each treatment t moves the invariant latents along its own random unit
   * direction v_t by `treatmentShift` × r(dose), with the Hill dose-response r(d) = dᴴ / (dᴴ + ec50ᴴ).
   */
  nTreatments?: number;
  /** The doses treated cells receive, all > 0 (default [0.1, 1, 10, 100]); control cells get dose 0. */
  doses?: readonly number[];
  /** Fraction of cells left untreated (control, dose 0) when there are treatments (default 0.2). */
  controlFraction?: number;
  /** Length of the full-response latent shift of a treatment (default 3). */
  treatmentShift?: number;
  /** Dose of half-maximal response (default 3). */
  treatmentEc50?: number;
  /** Hill coefficient of the dose-response (default 1). */
  treatmentHill?: number;
  /**
   * Planted gene programs (default 0 = none): disjoint random gene sets; every cell has an activity
   * a_p = μ(cell type, p) + N(0, 1) per program, and the log-rate of exactly the program's genes
   * rises by `programEffect` × a_p.
   */
  nPrograms?: number;
  /** Genes per program (default max(2, round(nGenes / 20))). */
  programSize?: number;
  /** Effect of one unit of program activity on the log-rate of its genes (default 1). */
  programEffect?: number;
  /** Standard deviation of the cell-type means μ(cell type, p) of the program activities (default 1). */
  programCellTypeSpread?: number;
  /** Standard deviation of the random jitter of every (cell type, disease) latent mean (default 0.5, as the reference; 0 makes disease act only through `diseaseShift` and the planted DE genes). */
  pairJitter?: number;
  /**
   * Planted differentially expressed genes (default 0 = none): a random gene set whose log-rate moves
   * by ±`deEffect` (a random sign per disease state and gene) in cells of disease state d > 0; disease
   * state 0 is unshifted. With `diseaseShift` 0 and `pairJitter` 0 they are the only genes whose
   * batch-free rates differ between disease states within a cell type.
   */
  nDeGenes?: number;
  /** Size (natural-log fold change) of the planted DE effect (default 1). */
  deEffect?: number;
  /**
   * Batch-only genes (default 0 = none): a random gene set, disjoint from the DE genes, whose
   * log-rate moves by batchGeneEffect × N(0, 1) per (batch, gene), independently of the biology.
   */
  nBatchGenes?: number;
  /** Scale of the batch-only genes' log-fold shifts (default 1). */
  batchGeneEffect?: number;
  /**
   * Also return every cell's batch-free rates (`batchFreeRates`, cells × genes frequencies): the
   * cell's rates with the batch-only shifts removed and its spurious latents set to the mean of the
   * batch means, the same value for every cell (default false; costs a second decoder pass). Not
   * stored in the resolved options (it changes what is returned, not what is simulated).
   */
  returnRates?: boolean;
}

/** {@link SimulateOptions} with every default filled in (stored with the output, e.g. in `uns`). */
export interface ResolvedSimulateOptions {
  nCells: number;
  nGenes: number;
  nBatches: number;
  nCellTypes: number;
  nDiseases: number;
  latentDimInv: number;
  latentDimSpur: number;
  seed: number;
  likelihood: SimulateLikelihood;
  theta: [number, number];
  librarySize: [number, number];
  dropout: number;
  geneSpread: number;
  logitScale: number;
  hiddenDim: number;
  negativeSlope: number;
  cellTypeSpread: number;
  diseaseShift: number;
  batchShift: number;
  batchVariance: number;
  format: 'csr' | 'dense';
  nTreatments: number;
  doses: number[];
  controlFraction: number;
  treatmentShift: number;
  treatmentEc50: number;
  treatmentHill: number;
  nPrograms: number;
  programSize: number;
  programEffect: number;
  programCellTypeSpread: number;
  pairJitter: number;
  nDeGenes: number;
  deEffect: number;
  nBatchGenes: number;
  batchGeneEffect: number;
}

function int(name: string, v: unknown, min: number, max = 1e9): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new InvalidOptionError(name, `simulate: ${name} must be an integer in [${min}, ${max}], got ${String(v)}.`);
  }
  return v;
}

function num(name: string, v: unknown, check: (x: number) => boolean, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
    throw new InvalidOptionError(name, `simulate: ${name} must be ${what}, got ${String(v)}.`);
  }
  return v;
}

function range(name: string, v: unknown): [number, number] {
  const pair = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(pair) || pair.length !== 2) throw new InvalidOptionError(name, `simulate: ${name} must be a positive number or a [min, max] pair.`);
  const lo = num(name, pair[0], (x) => x > 0, 'positive');
  const hi = num(name, pair[1], (x) => x >= lo, `≥ its minimum ${lo}`);
  return [lo, hi];
}

/** Fills in defaults and validates; throws {@link InvalidOptionError} naming the bad option. */
export function resolveSimulateOptions(o: SimulateOptions = {}): ResolvedSimulateOptions {
  const likelihood = o.likelihood ?? 'nb';
  if (likelihood !== 'nb' && likelihood !== 'poisson') {
    throw new InvalidOptionError('likelihood', `simulate: likelihood must be 'nb' or 'poisson', got '${String(likelihood)}'.`);
  }
  const format = o.format ?? 'csr';
  if (format !== 'csr' && format !== 'dense') throw new InvalidOptionError('format', `simulate: format must be 'csr' or 'dense', got '${String(format)}'.`);
  const nCells = int('nCells', o.nCells ?? 2000, 1, 0x7fffffff);
  const nGenes = int('nGenes', o.nGenes ?? 500, 1, 1e7);
  if (format === 'dense' && nCells * nGenes > 2 ** 31) {
    throw new InvalidOptionError('format', `simulate: a dense ${nCells} × ${nGenes} matrix is too large; use format 'csr'.`);
  }
  const nPrograms = int('nPrograms', o.nPrograms ?? 0, 0, nGenes);
  const programSize = int('programSize', o.programSize ?? Math.max(2, Math.round(nGenes / 20)), 1, nGenes);
  if (nPrograms * programSize > nGenes) {
    throw new InvalidOptionError('programSize', `simulate: ${nPrograms} disjoint programs of ${programSize} genes need ${nPrograms * programSize} genes; there are ${nGenes}.`, {
      hint: 'use fewer or smaller programs, or more genes',
    });
  }
  const nDeGenes = int('nDeGenes', o.nDeGenes ?? 0, 0, nGenes);
  const nBatchGenes = int('nBatchGenes', o.nBatchGenes ?? 0, 0, nGenes);
  if (nDeGenes + nBatchGenes > nGenes) {
    throw new InvalidOptionError('nBatchGenes', `simulate: ${nDeGenes} DE genes and ${nBatchGenes} batch-only genes are disjoint sets and need ${nDeGenes + nBatchGenes} genes; there are ${nGenes}.`, {
      hint: 'plant fewer genes, or simulate more genes',
    });
  }
  return {
    nCells,
    nGenes,
    nBatches: int('nBatches', o.nBatches ?? 3, 1, 10000),
    nCellTypes: int('nCellTypes', o.nCellTypes ?? 2, 1, 10000),
    nDiseases: int('nDiseases', o.nDiseases ?? 2, 1, 10000),
    latentDimInv: int('latentDimInv', o.latentDimInv ?? 9, 1, 10000),
    latentDimSpur: int('latentDimSpur', o.latentDimSpur ?? 1, 0, 10000),
    seed: checkSeed(o.seed ?? 0),
    likelihood,
    theta: range('theta', o.theta ?? [1, 10]),
    librarySize: range('librarySize', o.librarySize ?? [1000, 5000]),
    dropout: num('dropout', o.dropout ?? 0, (x) => x >= 0 && x < 1, 'in [0, 1)'),
    geneSpread: num('geneSpread', o.geneSpread ?? 1, (x) => x >= 0, '≥ 0'),
    logitScale: num('logitScale', o.logitScale ?? 1, (x) => x >= 0, '≥ 0'),
    hiddenDim: int('hiddenDim', o.hiddenDim ?? 40, 1, 100000),
    negativeSlope: num('negativeSlope', o.negativeSlope ?? 0.2, (x) => x >= 0 && x <= 1, 'in [0, 1]'),
    cellTypeSpread: num('cellTypeSpread', o.cellTypeSpread ?? 2, (x) => x >= 0, '≥ 0'),
    diseaseShift: num('diseaseShift', o.diseaseShift ?? 1, () => true, 'finite'),
    batchShift: num('batchShift', o.batchShift ?? 1, () => true, 'finite'),
    batchVariance: num('batchVariance', o.batchVariance ?? 1, (x) => x >= 0, '≥ 0'),
    format,
    nTreatments: int('nTreatments', o.nTreatments ?? 0, 0, 10000),
    doses: doseList(o.doses ?? [0.1, 1, 10, 100]),
    controlFraction: num('controlFraction', o.controlFraction ?? 0.2, (x) => x >= 0 && x < 1, 'in [0, 1)'),
    treatmentShift: num('treatmentShift', o.treatmentShift ?? 3, () => true, 'finite'),
    treatmentEc50: num('treatmentEc50', o.treatmentEc50 ?? 3, (x) => x > 0, '> 0'),
    treatmentHill: num('treatmentHill', o.treatmentHill ?? 1, (x) => x > 0, '> 0'),
    nPrograms,
    programSize,
    programEffect: num('programEffect', o.programEffect ?? 1, () => true, 'finite'),
    programCellTypeSpread: num('programCellTypeSpread', o.programCellTypeSpread ?? 1, (x) => x >= 0, '≥ 0'),
    pairJitter: num('pairJitter', o.pairJitter ?? 0.5, (x) => x >= 0, '≥ 0'),
    nDeGenes,
    deEffect: num('deEffect', o.deEffect ?? 1, () => true, 'finite'),
    nBatchGenes,
    batchGeneEffect: num('batchGeneEffect', o.batchGeneEffect ?? 1, (x) => x >= 0, '≥ 0'),
  };
}

function doseList(v: unknown): number[] {
  if (!Array.isArray(v) || v.length === 0) throw new InvalidOptionError('doses', 'simulate: doses must be a non-empty list of positive numbers.');
  const out = v.map((d) => num('doses', d, (x) => x > 0, 'positive (control cells get dose 0 by themselves)'));
  if (new Set(out).size !== out.length) throw new InvalidOptionError('doses', `simulate: doses must be distinct, got ${out.join(', ')}.`);
  return out;
}
