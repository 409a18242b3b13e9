import { tf } from '../tf';
import { InvalidOptionError } from '../errors';
import type { CovariateEncoder } from '../covariates/composite';
import type { RowMatrix } from '../data/gather';
import type { RowSource } from '../data/row-source';
import type { InvaeModel } from '../module/invae';

/** Default library size of normalised expression (counts per 10,000, as scanpy's and scVI's). */
export const DEFAULT_LIBRARY_SIZE = 1e4;
/** Default layer {@link Invae.expression}'s output goes to in an AnnData (the CLI's `invae expression`). */
export const EXPRESSION_LAYER = 'invae_normalized';

/** Options of {@link Invae.expression} (and of the sampling behind {@link Invae.differentialExpression}). */
export interface ExpressionOptions {
  /** Total of every cell's normalised expression over all the model's genes (default 1e4). */
  librarySize?: number;
  /**
   * Decode every cell as if it came from this batch (a category of `batchKey`): its spurious
   * covariates set to that batch, its spurious latents to that batch's prior (mean, or a draw
   * with `nSamples` > 1); `'all'` averages the expression decoded for every batch (scVI's
   * `transform_batch`). Absent or null: every cell is decoded from its own posterior (denoised, not
   * batch-corrected).
   */
  transformBatch?: string | null;
  /** The spurious covariate `transformBatch` refers to (default: the model's only categorical spurious covariate). */
  batchKey?: string;
  /**
   * Posterior samples averaged per cell (default 1: the posterior mean, deterministic). With more,
   * every sample draws the latents from q(z | x, u) and, with `transformBatch`, the spurious latents
   * from the batch's prior.
   */
  nSamples?: number;
  /** Genes to return, by name, in this order (default: all the model's genes). */
  genes?: readonly string[];
  /** Cells decoded at once (default 256). */
  batchSize?: number;
  /** Seed of the posterior and prior draws (with `nSamples` > 1). */
  seed?: number;
}

/** Normalised expression of cells × genes: row-major float32, with the genes' names. */
export interface ExpressionMatrix {
  nRows: number;
  nCols: number;
  data: Float32Array;
  /** Name of every column. */
  geneNames: string[];
}

/** Rows `[start, end)` of normalised expression, `(end − start) × nCols` row-major. */
export interface ExpressionBlock {
  start: number;
  end: number;
  data: Float32Array;
}

/** Normalised expression computed block by block (bounded memory: one block of cells at a time). */
export interface ExpressionStream {
  nRows: number;
  nCols: number;
  geneNames: string[];
  /** The blocks, in row order, covering every cell (each call decodes again). */
  blocks(): Iterable<ExpressionBlock>;
}

/** What decoding needs of a workflow: its model, its genes, the rows and covariates of one dataset. */
export interface DecodeSource {
  model: InvaeModel;
  geneNames: readonly string[];
  rows: RowSource;
  cov: { inv: RowMatrix | null; spur: RowMatrix | null };
  spurEncoder: CovariateEncoder;
}

/** How the spurious covariates are set for decoding: each cell's own, or every listed batch in turn. */
type BatchPlan = { kind: 'own' } | { kind: 'batches'; range: [number, number]; indices: number[] };

/** A resolved decoding recipe: which genes, which batches, how many samples. */
export interface DecodePlan {
  librarySize: number;
  nSamples: number;
  batchSize: number;
  seed: number | undefined;
  genes: Int32Array | null;
  geneNames: string[];
  batches: BatchPlan;
  batchLabel: string | null;
}

function positiveInt(option: string, v: unknown, fallback: number): number {
  const x = v ?? fallback;
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 1) throw new InvalidOptionError(option, `${option} must be an integer ≥ 1, got ${String(x)}.`);
  return x;
}

/** The categorical spurious covariate `transformBatch` refers to. */
function batchKeyOf(enc: CovariateEncoder, given: string | undefined): string {
  const categorical = enc.keys.filter((k) => enc.categoriesOf(k) !== undefined);
  if (given !== undefined) {
    if (!categorical.includes(given)) {
      throw new InvalidOptionError('batchKey', `'${given}' is not a categorical spurious covariate of the model (its categorical spurious covariates: ${categorical.join(', ') || 'none'}).`, {
        hint: 'name the batch column the model was trained with (invae train --batch KEY)',
      });
    }
    return given;
  }
  if (categorical.length === 1) return categorical[0]!;
  if (categorical.length === 0) {
    throw new InvalidOptionError('transformBatch', 'the model has no categorical spurious covariate (batch) to transform to.', { hint: 'leave transformBatch out: the model was trained without batches' });
  }
  throw new InvalidOptionError('batchKey', `the model has several categorical spurious covariates (${categorical.join(', ')}); say which one is the batch.`, { hint: 'pass batchKey (invae expression --batch-key KEY)' });
}

/**
 * Validates expression options against a model: the gene names, the batch, the counts.
 * @throws InvalidOptionError naming the option and what to use instead.
 */
export function resolveDecodePlan(model: InvaeModel, geneNames: readonly string[], spurEncoder: CovariateEncoder, o: ExpressionOptions): DecodePlan {
  if (model.config.decoderDist !== 'nb') {
    throw new InvalidOptionError('decoderDist', 'normalised expression needs a count (negative binomial) decoder; this model decodes a normal distribution, which has no rates.', {
      hint: 'train the model on counts (decoderDist nb, the default)',
    });
  }
  const librarySize = o.librarySize ?? DEFAULT_LIBRARY_SIZE;
  if (typeof librarySize !== 'number' || !Number.isFinite(librarySize) || librarySize <= 0) {
    throw new InvalidOptionError('librarySize', `librarySize must be a finite number > 0, got ${String(librarySize)}.`);
  }
  const nSamples = positiveInt('nSamples', o.nSamples, 1);
  const batchSize = positiveInt('batchSize', o.batchSize, 256);
  if (o.seed !== undefined && (typeof o.seed !== 'number' || !Number.isSafeInteger(o.seed))) throw new InvalidOptionError('seed', `seed must be an integer, got ${String(o.seed)}.`);
  let genes: Int32Array | null = null;
  let names = [...geneNames];
  if (o.genes !== undefined) {
    if (!Array.isArray(o.genes) || o.genes.length === 0) throw new InvalidOptionError('genes', 'genes must be a non-empty list of gene names.');
    const index = new Map(geneNames.map((g, i) => [g, i]));
    const missing = o.genes.filter((g) => !index.has(g));
    if (missing.length) {
      throw new InvalidOptionError('genes', `${missing.length} of the ${o.genes.length} requested genes are not among the model's ${geneNames.length} genes (e.g. ${missing.slice(0, 5).join(', ')}).`, {
        hint: "ask for genes the model was trained on (its model.json lists them)",
      });
    }
    const dup = o.genes.find((g, i) => o.genes!.indexOf(g) !== i);
    if (dup !== undefined) throw new InvalidOptionError('genes', `gene '${dup}' is requested twice.`);
    genes = Int32Array.from(o.genes, (g) => index.get(g)!);
    names = [...o.genes];
  }
  const tb = o.transformBatch ?? null;
  let batches: BatchPlan = { kind: 'own' };
  if (tb !== null) {
    if (typeof tb !== 'string') throw new InvalidOptionError('transformBatch', `transformBatch must be a batch name or 'all', got ${String(tb)}.`);
    const key = batchKeyOf(spurEncoder, o.batchKey);
    const categories = spurEncoder.categoriesOf(key)!;
    const range = spurEncoder.columnRange(key)!;
    if (tb === 'all') batches = { kind: 'batches', range, indices: categories.map((_, i) => i) };
    else {
      const i = categories.indexOf(tb);
      if (i < 0) {
        throw new InvalidOptionError('transformBatch', `'${tb}' is not a batch the model was trained on (${key}: ${categories.join(', ')}).`, { hint: "use one of them, or 'all' to average over batches" });
      }
      batches = { kind: 'batches', range, indices: [i] };
    }
  }
  return { librarySize, nSamples, batchSize, seed: o.seed, genes, geneNames: names, batches, batchLabel: tb };
}

/** The spurious covariates of `n` cells with the batch columns set to one-hot `batch`. */
function withBatch(spur: Float32Array, n: number, width: number, range: [number, number], batch: number): Float32Array {
  const out = spur.slice();
  for (let i = 0; i < n; i++) {
    for (let c = range[0]; c < range[1]; c++) out[i * width + c] = 0;
    out[i * width + range[0] + batch] = 1;
  }
  return out;
}

/**
 * Decodes the cells `idx` of `src`: for each of `nSamples` samples, the normalised expression
 * (`idx.length × genes`, row-major) averaged over the plan's batches. `sample`: draw the latents
 * from the posterior (and the spurious latents from the batch prior) even for one sample.
 * `seed`: seed of this call's draws (undefined: unseeded).
 */
export function decodeSamples(src: DecodeSource, plan: DecodePlan, idx: Int32Array, options: { sample: boolean; seed: number | undefined }): Float32Array[] {
  const { model } = src;
  const c = model.config;
  const n = idx.length;
  const x = src.rows.readRows(idx);
  const gather = (m: RowMatrix | null) => {
    if (!m || m.nCols === 0) return null;
    const out = new Float32Array(n * m.nCols);
    for (let i = 0; i < n; i++) out.set(m.data.subarray(idx[i]! * m.nCols, (idx[i]! + 1) * m.nCols), i * m.nCols);
    return out;
  };
  const invRows = gather(src.cov.inv);
  const spurRows = gather(src.cov.spur);
  const sw = c.spurCovarDim;
  const targets: (Float32Array | null)[] = plan.batches.kind === 'own' ? [spurRows] : plan.batches.indices.map((b) => withBatch(spurRows!, n, sw, (plan.batches as { range: [number, number] }).range, b));
  const replaceSpur = plan.batches.kind === 'batches' && c.latentDimSpur > 0 && model.priors.spur !== null;
  let draw = 0;
  const noise = (shape: [number, number]) => tf.randomNormal(shape, 0, 1, 'float32', options.seed === undefined ? undefined : options.seed + 7919 * draw++);
  const out: Float32Array[] = [];
  const xT = tf.tensor2d(x, [n, c.dataDim]);
  const invT = invRows ? tf.tensor2d(invRows, [n, c.invCovarDim]) : null;
  const spurT = spurRows ? tf.tensor2d(spurRows, [n, sw]) : null;
  const targetT = targets.map((t) => (t ? tf.tensor2d(t, [n, sw]) : null));
  try {
    const q = model.encodeDistribution(xT, invT, spurT);
    try {
      for (let s = 0; s < plan.nSamples; s++) {
        const values = tf.tidy(() => {
          const z = options.sample ? tf.add(q.mean, tf.mul(noise([n, model.latentDim]), tf.sqrt(q.variance))) : q.mean;
          const lib = tf.fill([n, 1], plan.librarySize) as tf.Tensor2D;
          let acc: tf.Tensor2D | null = null;
          for (const t of targetT) {
            let zt = z as tf.Tensor2D;
            if (replaceSpur) {
              const prior = model.priors.spur!;
              const p = prior.params(prior.covarDim === 0 ? null : t, { training: false });
              const shape: [number, number] = [n, c.latentDimSpur];
              const zs = options.sample ? tf.add(p.mean, tf.mul(noise(shape), tf.sqrt(p.variance))) : tf.add(tf.zeros(shape), p.mean);
              zt = tf.concat([tf.slice(z, [0, 0], [-1, c.latentDimInv]), zs as tf.Tensor2D], 1) as tf.Tensor2D;
            }
            const dec = model.decoder.apply(zt, t, lib, false);
            let mean = dec.mean;
            if (plan.genes) mean = tf.gather(mean, tf.tensor1d(plan.genes, 'int32'), 1) as tf.Tensor2D;
            acc = acc ? (tf.add(acc, mean) as tf.Tensor2D) : mean;
          }
          return tf.div(acc!, targetT.length);
        });
        try {
          out.push(values.dataSync() as Float32Array);
        } finally {
          values.dispose();
        }
      }
    } finally {
      q.mean.dispose();
      q.variance.dispose();
    }
  } finally {
    tf.dispose([xT, ...(invT ? [invT] : []), ...(spurT ? [spurT] : []), ...targetT.filter((t): t is tf.Tensor2D => t !== null)]);
  }
  return out;
}

/** The blocks of normalised expression of every cell of `src` (see {@link ExpressionStream}). */
export function expressionStream(src: DecodeSource, plan: DecodePlan): ExpressionStream {
  const nRows = src.rows.nRows;
  const nCols = plan.geneNames.length;
  return {
    nRows,
    nCols,
    geneNames: plan.geneNames,
    *blocks() {
      let block = 0;
      for (let start = 0; start < nRows; start += plan.batchSize, block++) {
        const end = Math.min(nRows, start + plan.batchSize);
        const idx = Int32Array.from({ length: end - start }, (_, i) => start + i);
        const samples = decodeSamples(src, plan, idx, { sample: plan.nSamples > 1, seed: plan.seed === undefined ? undefined : plan.seed + 104729 * block });
        const data = samples[0]!;
        for (let s = 1; s < samples.length; s++) for (let k = 0; k < data.length; k++) data[k] += samples[s]![k]!;
        if (samples.length > 1) for (let k = 0; k < data.length; k++) data[k] /= samples.length;
        yield { start, end, data };
      }
    },
  };
}
