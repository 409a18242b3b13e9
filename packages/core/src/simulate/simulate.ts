import type { CsrMatrix, DenseMatrix } from '../data/matrix';
import { InvalidOptionError } from '../errors';
import { fillNormal, negativeBinomial, poisson } from '../random/distributions';
import { permutation, sampleWithoutReplacement } from '../random/permutation';
import { Rng } from '../random/rng';
import { RandomDecoder } from './decoder';
import { type ResolvedSimulateOptions, type SimulateOptions, resolveSimulateOptions } from './options';

/** Output of {@link simulate}: plain arrays, ready to be written as AnnData by an I/O package. */
export interface SimulatedData {
  nCells: number;
  nGenes: number;
  /** Counts, cells × genes: non-negative integers stored as float32 (CSR with int32 indices, or dense). */
  counts: CsrMatrix | DenseMatrix;
  /** Per-cell labels (obs columns). */
  obs: { batch: string[]; cell_type: string[]; disease: string[] };
  /** Category levels of each obs column, in index order. */
  categories: { batch: string[]; cell_type: string[]; disease: string[] };
  /**
   * With `nTreatments` > 0: every cell's treatment (`control`, `treatment_0`, …) and dose (0 for
   * control), the treatment levels (control first), the unit latent direction of every treatment
   * (nTreatments × latentDimInv, row-major) and every cell's dose-response r(dose) ∈ [0, 1).
   */
  treatment?: { labels: string[]; dose: number[]; categories: string[]; directions: Float32Array; response: Float32Array };
  /**
   * With `nPrograms` > 0: the planted gene programs — names, gene names and gene indices of each
   * (disjoint sets), and the ground-truth activity of every program in every cell (cells × programs,
   * row-major).
   */
  programs?: { names: string[]; genes: string[][]; geneIndices: number[][]; activity: Float32Array };
  /**
   * With `nDeGenes` > 0: the planted DE genes (names, indices) and their natural-log fold change in
   * every disease state against state 0 (nDiseases × nDeGenes, row-major; row 0 is all zeros).
   */
  de?: { genes: string[]; geneIndices: number[]; effect: Float32Array };
  /**
   * With `nBatchGenes` > 0: the batch-only genes (names, indices, disjoint from the DE genes) and their
   * log-rate shift in every batch (nBatches × nBatchGenes, row-major).
   */
  batchGenes?: { genes: string[]; geneIndices: number[]; effect: Float32Array };
  /**
   * With `returnRates`: every cell's batch-free rates, cells × genes row-major, each row summing to 1
   * (no batch-only shifts; spurious latents at the mean of the batch means for every cell).
   */
  batchFreeRates?: Float32Array;
  /** Ground-truth invariant latents, cells × latentDimInv, row-major. */
  zInv: Float32Array;
  /** Ground-truth spurious latents, cells × latentDimSpur, row-major. */
  zSpur: Float32Array;
  latentDimInv: number;
  latentDimSpur: number;
  /** Mean of the invariant latents per (cell type, disease) pair: (nCellTypes·nDiseases) × latentDimInv, row-major, pair index = cellType·nDiseases + disease. */
  priorMeanInv: Float32Array;
  /** Target library size (expected total count) of every cell. */
  librarySize: Float32Array;
  /** NB inverse dispersion of every gene (empty for Poisson). */
  theta: Float32Array;
  geneNames: string[];
  cellNames: string[];
  /** The options used, with defaults filled in. */
  options: ResolvedSimulateOptions;
}

function labels(prefix: string, n: number): string[] {
  const width = String(n - 1).length;
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(width, '0')}`);
}

function logUniform(rng: Rng, [lo, hi]: readonly [number, number]): number {
  return lo === hi ? lo : Math.exp(Math.log(lo) + rng.uniform() * (Math.log(hi) - Math.log(lo)));
}

/** Growable CSR buffers. */
class CsrBuilder {
  indices = new Int32Array(1024);
  data = new Float32Array(1024);
  nnz = 0;
  push(col: number, value: number): void {
    if (this.nnz === this.indices.length) {
      if (this.nnz >= 0x7fffffff) {
        throw new InvalidOptionError('nCells', 'simulate: more than 2^31 − 1 non-zero counts; simulate fewer cells or genes.');
      }
      const cap = Math.min(this.indices.length * 2, 0x7fffffff);
      const i2 = new Int32Array(cap);
      i2.set(this.indices);
      const d2 = new Float32Array(cap);
      d2.set(this.data);
      this.indices = i2;
      this.data = d2;
    }
    this.indices[this.nnz] = col;
    this.data[this.nnz++] = value;
  }
}

/**
 * Simulates single-cell counts with invariant and spurious latent structure, modelled on the
 * reference inVAE's `sparse_shift` simulation:
 *
 * - cells are spread evenly over batch × cell type × disease groups, then shuffled;
 * - invariant latents ~ N(μ(cell type, disease), I): each cell type has a random mean vector
 *   (sd `cellTypeSpread`), each disease state d > 0 shifts a random half of the dimensions by
 *   ±`diseaseShift`, and every (cell type, disease) pair gets N(0, 0.5²) jitter, as the reference;
 * - spurious latents ~ N(b·batchShift, 1 + (b+1)·batchVariance) in batch b (shifted and scaled by batch);
 * - a random leaky-ReLU MLP maps [z_inv, z_spur] to gene logits, standardised by their global std
 *   (as the reference), plus a per-gene baseline N(0, geneSpread²); a softmax over genes times the
 *   cell's library size gives the mean, and counts are NB(mean, θ_gene) or Poisson(mean), then
 *   zeroed with probability `dropout`.
 *
 * Optional mechanisms (off by default; the output without them is unchanged) — besides planted DE
 * genes, batch-only genes and batch-free rates (`nDeGenes`, `nBatchGenes`, `returnRates`; ground truth
 * for batch-corrected expression and differential expression):
 * - treatments (`nTreatments` > 0): a fraction `controlFraction` of cells stays untreated (dose 0);
 *   the others get a random treatment and dose, which moves their invariant latents along the
 *   treatment's unit direction by treatmentShift × dᴴ / (dᴴ + ec50ᴴ). The logits are standardised
 *   by their moments over the untreated latents, and the treatment directions do not depend on the
 *   doses, so two simulations with the same seed and different `doses` share one mechanism (e.g. to
 *   hold out a dose);
 * - gene programs (`nPrograms` > 0): disjoint random gene sets; every cell's activity a_p (cell-type
 *   mean + N(0, 1) noise) adds programEffect × a_p to the log-rate of exactly the program's genes.
 *
 * Unlike the reference (softmax over cells, fixed 1e6 scale) the softmax runs over genes, so every
 * cell has a realistic library size. Deterministic for a given seed and options: separate random
 * streams are used for the design, latents, decoder, genes, library sizes and counts.
 */
export function simulate(options: SimulateOptions = {}): SimulatedData {
  if (options.returnRates !== undefined && typeof options.returnRates !== 'boolean') {
    throw new InvalidOptionError('returnRates', `simulate: returnRates must be true or false, got ${String(options.returnRates)}.`);
  }
  const o = resolveSimulateOptions(options);
  const { nCells, nGenes, nBatches, nCellTypes, nDiseases, latentDimInv: Li, latentDimSpur: Ls } = o;
  const root = new Rng(o.seed);
  const designRng = root.fork();
  const latentRng = root.fork();
  const decoderRng = root.fork();
  const geneRng = root.fork();
  const libraryRng = root.fork();
  const countRng = root.fork();
  // streams of the optional mechanisms come last, so that output without them is unchanged
  const treatmentRng = root.fork();
  const programRng = root.fork();
  const plantedRng = root.fork();

  // Group means of the invariant latents.
  const cellTypeMean = fillNormal(designRng, nCellTypes * Li, 0, o.cellTypeSpread);
  const diseaseMean = new Float64Array(nDiseases * Li);
  for (let d = 1; d < nDiseases; d++) {
    const k = Math.max(1, Math.round(Li / 2));
    for (const j of sampleWithoutReplacement(designRng, Li, k)) {
      diseaseMean[d * Li + j] = designRng.uniform() < 0.5 ? -o.diseaseShift : o.diseaseShift;
    }
  }
  const nPairs = nCellTypes * nDiseases;
  const priorMeanInv = new Float32Array(nPairs * Li);
  const jitter = fillNormal(designRng, nPairs * Li, 0, o.pairJitter);
  for (let c = 0; c < nCellTypes; c++) {
    for (let d = 0; d < nDiseases; d++) {
      const p = c * nDiseases + d;
      for (let j = 0; j < Li; j++) priorMeanInv[p * Li + j] = cellTypeMean[c * Li + j]! + diseaseMean[d * Li + j]! + jitter[p * Li + j]!;
    }
  }

  // Balanced assignment of cells to (batch, cell type, disease) groups, then a seeded shuffle.
  const nGroups = nBatches * nPairs;
  const order = permutation(designRng, nCells);
  const batchOf = new Int32Array(nCells);
  const pairOf = new Int32Array(nCells);
  for (let i = 0; i < nCells; i++) {
    const g = i % nGroups;
    const cell = order[i]!;
    batchOf[cell] = Math.floor(g / nPairs);
    pairOf[cell] = g % nPairs;
  }

  // Latents.
  const L = Li + Ls;
  const z = new Float64Array(nCells * L);
  const zInv = new Float32Array(nCells * Li);
  const zSpur = new Float32Array(nCells * Ls);
  const noise = fillNormal(latentRng, nCells * L);
  for (let i = 0; i < nCells; i++) {
    const b = batchOf[i]!;
    const p = pairOf[i]!;
    const spurSd = Math.sqrt(1 + (b + 1) * o.batchVariance);
    for (let j = 0; j < Li; j++) {
      const v = priorMeanInv[p * Li + j]! + noise[i * L + j]!;
      z[i * L + j] = v;
      zInv[i * Li + j] = v;
    }
    for (let j = 0; j < Ls; j++) {
      const v = b * o.batchShift + spurSd * noise[i * L + Li + j]!;
      z[i * L + Li + j] = v;
      zSpur[i * Ls + j] = v;
    }
  }

  // Decoder and gene parameters. The logits are standardised by their moments over the untreated latents.
  const hiddenDim = Math.max(o.hiddenDim, L);
  const decoder = new RandomDecoder(decoderRng, L, hiddenDim, nGenes, o.negativeSlope);
  const treatment = o.nTreatments > 0 ? applyTreatments(treatmentRng, o, z, zInv, L) : null;
  const hidden = decoder.hidden(z, nCells);
  const { mean: logitMean, std: logitStd } = decoder.logitMoments(treatment ? decoder.hidden(treatment.untreated, nCells) : hidden, nCells);
  const logitMul = logitStd > 0 ? o.logitScale / logitStd : 0;
  const baseline = fillNormal(geneRng, nGenes, 0, o.geneSpread);
  const theta = new Float32Array(o.likelihood === 'nb' ? nGenes : 0);
  for (let g = 0; g < theta.length; g++) theta[g] = logUniform(geneRng, o.theta);
  const librarySize = new Float32Array(nCells);
  for (let i = 0; i < nCells; i++) librarySize[i] = logUniform(libraryRng, o.librarySize);
  const programs = o.nPrograms > 0 ? plantPrograms(programRng, o, pairOf) : null;
  const planted = o.nDeGenes > 0 || o.nBatchGenes > 0 ? plantGenes(plantedRng, o) : null;
  const returnRates = options.returnRates === true;
  // batch-free decoder input: every cell's spurious latents at the mean of the batch means
  let hiddenFree: Float64Array | null = null;
  if (returnRates) {
    const zFree = z.slice();
    const spurCentre = ((nBatches - 1) / 2) * o.batchShift;
    for (let i = 0; i < nCells; i++) for (let j = 0; j < Ls; j++) zFree[i * L + Li + j] = spurCentre;
    hiddenFree = Ls > 0 ? decoder.hidden(zFree, nCells) : hidden;
  }
  const batchFreeRates = returnRates ? new Float32Array(nCells * nGenes) : null;

  // Counts, one cell at a time (logits for one row only).
  const dense = o.format === 'dense' ? new Float32Array(nCells * nGenes) : null;
  const csr = dense ? null : new CsrBuilder();
  const indptr = dense ? null : new Int32Array(nCells + 1);
  const eta = new Float64Array(nGenes);
  const etaFree = new Float64Array(returnRates ? nGenes : 0);
  const CHUNK = 256;
  for (let start = 0; start < nCells; start += CHUNK) {
    const n = Math.min(CHUNK, nCells - start);
    const logits = decoder.logitsFromHidden(hidden.subarray(start * hiddenDim, (start + n) * hiddenDim), n);
    const logitsFree = hiddenFree ? (hiddenFree === hidden ? logits : decoder.logitsFromHidden(hiddenFree.subarray(start * hiddenDim, (start + n) * hiddenDim), n)) : null;
    for (let r = 0; r < n; r++) {
      const cell = start + r;
      let max = -Infinity;
      for (let g = 0; g < nGenes; g++) {
        eta[g] = (logits[r * nGenes + g]! - logitMean) * logitMul + baseline[g]!;
      }
      // biology shared by the observed and the batch-free rates: programs and planted DE genes
      const biology = (target: Float64Array) => {
        if (programs) {
          for (let p = 0; p < o.nPrograms; p++) {
            const shift = o.programEffect * programs.activity[cell * o.nPrograms + p]!;
            for (const g of programs.geneIndices[p]!) target[g] += shift;
          }
        }
        if (planted && o.nDeGenes > 0) {
          const d = pairOf[cell]! % nDiseases;
          for (let k = 0; k < o.nDeGenes; k++) target[planted.deGenes[k]!] += planted.deEffect[d * o.nDeGenes + k]!;
        }
      };
      biology(eta);
      if (logitsFree) {
        for (let g = 0; g < nGenes; g++) etaFree[g] = (logitsFree[r * nGenes + g]! - logitMean) * logitMul + baseline[g]!;
        biology(etaFree);
        softmaxInto(etaFree, batchFreeRates!.subarray(cell * nGenes, (cell + 1) * nGenes));
      }
      if (planted && o.nBatchGenes > 0) {
        const b = batchOf[cell]!;
        for (let k = 0; k < o.nBatchGenes; k++) eta[planted.batchGenes[k]!] += planted.batchEffect[b * o.nBatchGenes + k]!;
      }
      for (let g = 0; g < nGenes; g++) if (eta[g]! > max) max = eta[g]!;
      let total = 0;
      for (let g = 0; g < nGenes; g++) {
        const e = Math.exp(eta[g]! - max);
        eta[g] = e;
        total += e;
      }
      const scale = librarySize[cell]! / total;
      for (let g = 0; g < nGenes; g++) {
        const mu = eta[g]! * scale;
        let k = o.likelihood === 'nb' ? negativeBinomial(countRng, mu, theta[g]!) : poisson(countRng, mu);
        if (k !== 0 && o.dropout > 0 && countRng.uniform() < o.dropout) k = 0;
        if (k === 0) continue;
        if (dense) dense[cell * nGenes + g] = k;
        else csr!.push(g, k);
      }
      if (indptr) indptr[cell + 1] = csr!.nnz;
    }
  }

  const counts: CsrMatrix | DenseMatrix = dense
    ? { kind: 'dense', shape: [nCells, nGenes], data: dense }
    : { kind: 'csr', shape: [nCells, nGenes], indptr: indptr!, indices: csr!.indices.slice(0, csr!.nnz), data: csr!.data.slice(0, csr!.nnz) };

  const categories = { batch: labels('batch_', nBatches), cell_type: labels('cell_type_', nCellTypes), disease: labels('disease_', nDiseases) };
  const obs = {
    batch: Array.from(batchOf, (b) => categories.batch[b]!),
    cell_type: Array.from(pairOf, (p) => categories.cell_type[Math.floor(p / nDiseases)]!),
    disease: Array.from(pairOf, (p) => categories.disease[p % nDiseases]!),
  };
  const geneNames = labels('gene_', nGenes);
  const extra: Pick<SimulatedData, 'treatment' | 'programs' | 'de' | 'batchGenes' | 'batchFreeRates'> = {};
  if (planted && o.nDeGenes > 0) extra.de = { genes: planted.deGenes.map((g) => geneNames[g]!), geneIndices: planted.deGenes, effect: planted.deEffect };
  if (planted && o.nBatchGenes > 0) extra.batchGenes = { genes: planted.batchGenes.map((g) => geneNames[g]!), geneIndices: planted.batchGenes, effect: planted.batchEffect };
  if (batchFreeRates) extra.batchFreeRates = batchFreeRates;
  if (treatment) {
    const levels = ['control', ...labels('treatment_', o.nTreatments)];
    extra.treatment = {
      labels: Array.from(treatment.treatmentOf, (t) => levels[t + 1]!),
      dose: Array.from(treatment.dose),
      categories: levels,
      directions: treatment.directions,
      response: treatment.response,
    };
  }
  if (programs) {
    extra.programs = { names: labels('program_', o.nPrograms), genes: programs.geneIndices.map((gs) => gs.map((g) => geneNames[g]!)), geneIndices: programs.geneIndices, activity: programs.activity };
  }
  return {
    nCells,
    nGenes,
    counts,
    obs,
    categories,
    zInv,
    zSpur,
    latentDimInv: Li,
    latentDimSpur: Ls,
    priorMeanInv,
    librarySize,
    theta,
    geneNames,
    cellNames: labels('cell_', nCells),
    options: o,
    ...extra,
  };
}

/**
 * Assigns every cell a treatment (−1 = control, dose 0) and a dose, and moves its invariant latents
 * (in `z`, `zInv`) along the treatment's random unit direction by treatmentShift × r(dose), with
 * r(d) = dᴴ / (dᴴ + ec50ᴴ). The directions are drawn before the assignment, so simulations with the
 * same seed and different `doses` share them. Returns the latents before treatment as well.
 */
function applyTreatments(rng: Rng, o: ResolvedSimulateOptions, z: Float64Array, zInv: Float32Array, L: number) {
  const { nCells, nTreatments: T, latentDimInv: Li, doses } = o;
  const directions = new Float32Array(T * Li);
  for (let t = 0; t < T; t++) {
    const v = fillNormal(rng, Li);
    const norm = Math.hypot(...v) || 1;
    for (let j = 0; j < Li; j++) directions[t * Li + j] = v[j]! / norm;
  }
  const untreated = z.slice();
  const treatmentOf = new Int32Array(nCells);
  const dose = new Float64Array(nCells);
  const response = new Float32Array(nCells);
  for (let i = 0; i < nCells; i++) {
    if (rng.uniform() < o.controlFraction) {
      treatmentOf[i] = -1;
      continue;
    }
    const t = Math.min(T - 1, Math.floor(rng.uniform() * T));
    const d = doses[Math.min(doses.length - 1, Math.floor(rng.uniform() * doses.length))]!;
    const r = d ** o.treatmentHill / (d ** o.treatmentHill + o.treatmentEc50 ** o.treatmentHill);
    treatmentOf[i] = t;
    dose[i] = d;
    response[i] = r;
    for (let j = 0; j < Li; j++) {
      const v = z[i * L + j]! + o.treatmentShift * r * directions[t * Li + j]!;
      z[i * L + j] = v;
      zInv[i * Li + j] = v;
    }
  }
  return { directions, treatmentOf, dose, response, untreated };
}

/**
 * Draws `nPrograms` disjoint gene sets of `programSize` genes and every cell's program activities:
 * a_p = μ(cell type, p) + N(0, 1), with μ ~ N(0, programCellTypeSpread²).
 */
function plantPrograms(rng: Rng, o: ResolvedSimulateOptions, pairOf: Int32Array) {
  const { nCells, nGenes, nPrograms: P, programSize: S, nDiseases } = o;
  const picked = sampleWithoutReplacement(rng, nGenes, P * S);
  const geneIndices = Array.from({ length: P }, (_, p) => Array.from(picked.subarray(p * S, (p + 1) * S)).sort((a, b) => a - b));
  const typeMean = fillNormal(rng, o.nCellTypes * P, 0, o.programCellTypeSpread);
  const noise = fillNormal(rng, nCells * P);
  const activity = new Float32Array(nCells * P);
  for (let i = 0; i < nCells; i++) {
    const c = Math.floor(pairOf[i]! / nDiseases);
    for (let p = 0; p < P; p++) activity[i * P + p] = typeMean[c * P + p]! + noise[i * P + p]!;
  }
  return { geneIndices, activity };
}

/** Softmax of `eta` written into `out` (float32). */
function softmaxInto(eta: Float64Array, out: Float32Array): void {
  let max = -Infinity;
  for (let g = 0; g < eta.length; g++) if (eta[g]! > max) max = eta[g]!;
  let total = 0;
  for (let g = 0; g < eta.length; g++) total += Math.exp(eta[g]! - max);
  for (let g = 0; g < eta.length; g++) out[g] = Math.exp(eta[g]! - max) / total;
}

/**
 * Draws the planted DE genes and the batch-only genes (disjoint, sorted) and their effects: a DE gene
 * moves by ±deEffect (random sign) in every disease state d > 0; a batch-only gene by
 * batchGeneEffect × N(0, 1) in every batch.
 */
function plantGenes(rng: Rng, o: ResolvedSimulateOptions) {
  const { nGenes, nDeGenes: K, nBatchGenes: M, nDiseases, nBatches } = o;
  const picked = sampleWithoutReplacement(rng, nGenes, K + M);
  const deGenes = Array.from(picked.subarray(0, K)).sort((a, b) => a - b);
  const batchGenes = Array.from(picked.subarray(K, K + M)).sort((a, b) => a - b);
  const deEffect = new Float32Array(nDiseases * K);
  for (let d = 1; d < nDiseases; d++) for (let k = 0; k < K; k++) deEffect[d * K + k] = rng.uniform() < 0.5 ? -o.deEffect : o.deEffect;
  const noise = fillNormal(rng, nBatches * M);
  const batchEffect = new Float32Array(nBatches * M);
  for (let i = 0; i < batchEffect.length; i++) batchEffect[i] = o.batchGeneEffect * noise[i]!;
  return { deGenes, batchGenes, deEffect, batchEffect };
}
