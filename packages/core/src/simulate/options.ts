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
  };
}
