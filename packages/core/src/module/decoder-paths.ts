import { InvalidOptionError } from '../errors';

/**
 * Masked decoder paths (the expiMap idea, Lotfollahi et al. 2023): the last K invariant latent
 * dimensions are *dedicated*, each to one set of genes. A dedicated dimension feeds only a masked
 * linear layer `z_dedicated · (W ⊙ M)` whose output is added to the decoder's logits (NB: before the
 * softmax; normal: to the mean), and the main decoder network does not see it, so dimension k can
 * explain only the genes of row k of the mask. Give the mask as gene indices per dimension
 * (`genes`, compact, what model files store) or as a dense 0/1 matrix (`mask`, K × dataDim).
 */
export interface DecoderPathsConfig {
  /** For each dedicated dimension, the 0-based gene (column) indices it may explain. */
  genes?: number[][];
  /** Alternative to `genes`: a K × dataDim matrix of 0/1, row k = the genes of dimension k. */
  mask?: number[][];
  /** A name per dedicated dimension (e.g. its gene program); default `path0`, `path1`, …. */
  names?: string[];
}

/** {@link DecoderPathsConfig} validated: gene index lists (sorted, distinct) and names, one per dedicated dimension. */
export interface ResolvedDecoderPaths {
  /** Sorted, distinct gene indices of each dedicated dimension. */
  genes: number[][];
  /** Name of each dedicated dimension. */
  names: string[];
}

const OPTION = 'decoderPaths';

function fail(message: string, hint?: string): never {
  throw new InvalidOptionError(OPTION, `decoderPaths: ${message}`, hint ? { hint } : {});
}

/**
 * Validates masked decoder paths against the model's sizes: K ≥ 1 dimensions, K ≤ latentDimInv,
 * every dimension with at least one gene in [0, dataDim), the main decoder left with at least one
 * input. `null`/`undefined` → `null` (no dedicated dimensions).
 * @throws InvalidOptionError (option `decoderPaths`) naming what is wrong and where.
 */
export function resolveDecoderPaths(
  paths: DecoderPathsConfig | null | undefined,
  sizes: { dataDim: number; latentDimInv: number; latentDimSpur: number; mainExtraInputs: number },
): ResolvedDecoderPaths | null {
  if (paths === null || paths === undefined) return null;
  if (typeof paths !== 'object' || Array.isArray(paths)) fail(`expected an object { genes } or { mask }, got ${JSON.stringify(paths)}`);
  const known = new Set(['genes', 'mask', 'names']);
  const extra = Object.keys(paths).filter((k) => !known.has(k));
  if (extra.length) fail(`unknown field(s) ${extra.join(', ')}`, 'use genes (index lists) or mask (K × genes 0/1), and names');
  if ((paths.genes === undefined) === (paths.mask === undefined)) fail('give exactly one of genes (index lists) and mask (K × dataDim 0/1 matrix)');
  const G = sizes.dataDim;
  let genes: number[][];
  if (paths.mask !== undefined) {
    if (!Array.isArray(paths.mask)) fail('mask must be an array of K rows');
    genes = paths.mask.map((row, k) => {
      if (!Array.isArray(row) || row.length !== G) fail(`mask row ${k} has ${Array.isArray(row) ? row.length : 'no'} entries; expected ${G} (one per gene)`, 'the mask is K × dataDim');
      const idx: number[] = [];
      row.forEach((v, g) => {
        if (v === 1) idx.push(g);
        else if (v !== 0) fail(`mask[${k}][${g}] is ${JSON.stringify(v)}; entries must be 0 or 1`);
      });
      return idx;
    });
  } else {
    if (!Array.isArray(paths.genes)) fail('genes must be an array of K index lists');
    genes = paths.genes.map((list, k) => {
      if (!Array.isArray(list)) fail(`genes[${k}] must be an array of gene indices`);
      for (const g of list) {
        if (typeof g !== 'number' || !Number.isInteger(g) || g < 0 || g >= G) fail(`genes[${k}] holds ${JSON.stringify(g)}; gene indices must be integers in [0, ${G})`);
      }
      return [...new Set(list)].sort((a, b) => a - b);
    });
  }
  const K = genes.length;
  if (K === 0) fail('no dedicated dimensions (K = 0)', 'leave decoderPaths out for a model without them');
  const empty = genes.findIndex((g) => g.length === 0);
  if (empty >= 0) fail(`dedicated dimension ${empty} has no gene in its mask`, 'every dedicated dimension must be allowed to explain at least one gene');
  if (K > sizes.latentDimInv) {
    fail(`${K} dedicated dimensions but only ${sizes.latentDimInv} invariant latent dimensions`, `raise latentDimInv to at least ${K} (the dedicated dimensions are the last ${K} of the invariant block)`);
  }
  if (sizes.latentDimInv - K + sizes.latentDimSpur + sizes.mainExtraInputs === 0) {
    fail('every latent dimension is dedicated, which leaves the main decoder network without inputs', `raise latentDimInv above ${K}, or keep spurious latents`);
  }
  let names: string[];
  if (paths.names === undefined) names = genes.map((_, k) => `path${k}`);
  else {
    if (!Array.isArray(paths.names) || paths.names.length !== K || !paths.names.every((n) => typeof n === 'string')) {
      fail(`names must be ${K} strings (one per dedicated dimension), got ${JSON.stringify(paths.names)}`);
    }
    names = [...paths.names];
  }
  return { genes, names };
}
