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
 * Unlike the reference (softmax over cells, fixed 1e6 scale) the softmax runs over genes, so every
 * cell has a realistic library size. Deterministic for a given seed and options: separate random
 * streams are used for the design, latents, decoder, genes, library sizes and counts.
 */
export function simulate(options: SimulateOptions = {}): SimulatedData {
  const o = resolveSimulateOptions(options);
  const { nCells, nGenes, nBatches, nCellTypes, nDiseases, latentDimInv: Li, latentDimSpur: Ls } = o;
  const root = new Rng(o.seed);
  const designRng = root.fork();
  const latentRng = root.fork();
  const decoderRng = root.fork();
  const geneRng = root.fork();
  const libraryRng = root.fork();
  const countRng = root.fork();

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
  const jitter = fillNormal(designRng, nPairs * Li, 0, 0.5);
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

  // Decoder and gene parameters.
  const hiddenDim = Math.max(o.hiddenDim, L);
  const decoder = new RandomDecoder(decoderRng, L, hiddenDim, nGenes, o.negativeSlope);
  const hidden = decoder.hidden(z, nCells);
  const { mean: logitMean, std: logitStd } = decoder.logitMoments(hidden, nCells);
  const logitMul = logitStd > 0 ? o.logitScale / logitStd : 0;
  const baseline = fillNormal(geneRng, nGenes, 0, o.geneSpread);
  const theta = new Float32Array(o.likelihood === 'nb' ? nGenes : 0);
  for (let g = 0; g < theta.length; g++) theta[g] = logUniform(geneRng, o.theta);
  const librarySize = new Float32Array(nCells);
  for (let i = 0; i < nCells; i++) librarySize[i] = logUniform(libraryRng, o.librarySize);

  // Counts, one cell at a time (logits for one row only).
  const dense = o.format === 'dense' ? new Float32Array(nCells * nGenes) : null;
  const csr = dense ? null : new CsrBuilder();
  const indptr = dense ? null : new Int32Array(nCells + 1);
  const eta = new Float64Array(nGenes);
  const CHUNK = 256;
  for (let start = 0; start < nCells; start += CHUNK) {
    const n = Math.min(CHUNK, nCells - start);
    const logits = decoder.logitsFromHidden(hidden.subarray(start * hiddenDim, (start + n) * hiddenDim), n);
    for (let r = 0; r < n; r++) {
      const cell = start + r;
      let max = -Infinity;
      for (let g = 0; g < nGenes; g++) {
        const e = (logits[r * nGenes + g]! - logitMean) * logitMul + baseline[g]!;
        eta[g] = e;
        if (e > max) max = e;
      }
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
    ? { kind: 'dense', nRows: nCells, nCols: nGenes, data: dense }
    : { kind: 'csr', nRows: nCells, nCols: nGenes, indptr: indptr!, indices: csr!.indices.slice(0, csr!.nnz), data: csr!.data.slice(0, csr!.nnz) };

  const categories = { batch: labels('batch_', nBatches), cell_type: labels('cell_type_', nCellTypes), disease: labels('disease_', nDiseases) };
  const obs = {
    batch: Array.from(batchOf, (b) => categories.batch[b]!),
    cell_type: Array.from(pairOf, (p) => categories.cell_type[Math.floor(p / nDiseases)]!),
    disease: Array.from(pairOf, (p) => categories.disease[p % nDiseases]!),
  };
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
    geneNames: labels('gene_', nGenes),
    cellNames: labels('cell_', nCells),
    options: o,
  };
}
