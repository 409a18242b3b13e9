import { tf } from '../tf';
import { InvalidOptionError } from '../errors';
import { BatchNorm1d } from './batchnorm';
import { Linear, linearWeightShapes } from './linear';
import { fastPaths } from './fast-paths';
import { linearProduct, plainProduct } from './linear-product';
import { dropoutMask as dropoutMask2d } from './dropout-mask';
import { deriveSeed } from '../random/rng';
import { detach, prefixed, type NamedVariable, type SeedStream } from './variables';

let dropoutSeeds: (() => number) | null = null;

function nextDropoutSeed(): number | undefined {
  return dropoutSeeds ? dropoutSeeds() : undefined;
}

/**
 * Runs `fn` with seeded dropout: the k-th dropout mask drawn inside `fn` (synchronously) uses a seed
 * derived from (`seed`, k), so a training step is reproducible. Outside such a scope masks are unseeded.
 */
export function withDropoutSeed<T>(seed: number, fn: () => T): T {
  const previous = dropoutSeeds;
  let k = 0;
  dropoutSeeds = () => deriveSeed(seed, k++);
  try {
    return fn();
  } finally {
    dropoutSeeds = previous;
  }
}

/** Input width, the hidden widths and the output width of an MLP's linear layers. */
function layerWidths(o: Pick<MLPOptions, 'inputDim' | 'hiddenDim' | 'outputDim' | 'nLayers'>): number[] {
  return [o.inputDim, ...Array.from({ length: o.nLayers - 1 }, () => o.hiddenDim), o.outputDim];
}

/**
 * Names and shapes of the variables an {@link MLP} with these options holds (as its `namedVariables`),
 * computed without building it (e.g. to check a saved model's options against its weights).
 */
export function mlpWeightShapes(options: MLPOptions): [string, number[]][] {
  const widths = layerWidths(options);
  const out: [string, number[]][] = [];
  for (let i = 0; i < options.nLayers; i++) for (const [n, s] of linearWeightShapes(widths[i]!, widths[i + 1]!)) out.push([`fc.${i}.${n}`, s]);
  if (options.batchNorm) for (let i = 0; i < options.nLayers; i++) for (const n of ['weight', 'bias', 'running_mean', 'running_var']) out.push([`bn.${i}.${n}`, [widths[i + 1]!]]);
  return out;
}

/** Activation functions of the reference MLP that invae supports. */
export type Activation = 'relu' | 'lrelu';

/** Options of {@link MLP}, mirroring the reference `MLP` constructor. */
export interface MLPOptions {
  /** Input width. */
  inputDim: number;
  /** Output width. */
  outputDim: number;
  /** Width of every hidden layer. */
  hiddenDim: number;
  /** Number of linear layers (≥ 1). */
  nLayers: number;
  /** Activation after every hidden layer (and after the last when `endWithAct`). */
  activation: Activation;
  /** Negative slope of `lrelu` (default 0.1). */
  slope?: number;
  /** Apply the activation after the last layer too (default false). */
  endWithAct?: boolean;
  /** BatchNorm1d(momentum 0.01, eps 1e-3) after every linear layer, the last one included (default false). */
  batchNorm?: boolean;
  /** Dropout probability after every layer (default 0). */
  dropoutRate?: number;
}

/** Per-call options of {@link MLP.forward}. */
export interface MLPForwardOptions {
  /** Training mode: batch statistics in BatchNorm (and running-stat updates), dropout active. */
  training: boolean;
  /** No gradient reaches the parameters (a frozen copy, as PyTorch's `requires_grad_(False)`). */
  frozen?: boolean;
  /** The input is data: no gradient is computed for it (differentiating with respect to it is an error). */
  dataInput?: boolean;
  /**
   * The query columns `[B, k]` of a network with {@link MLP.addQueryInputs}: they enter the first
   * layer through its query weight. Absent: the last k columns of the input are the query columns
   * when the input is k wider than `inputDim`, else the query weight is not used.
   */
  queryInput?: tf.Tensor2D | null;
}

/** What one layer did in a forward pass; used to propagate derivatives w.r.t. the input. */
export interface MLPLayerTrace {
  /** Values after linear (+BatchNorm), before the activation `[B, C]`. */
  readonly preActivation: tf.Tensor2D;
  /** BatchNorm factor per unit `[C]` (absent without BatchNorm). */
  readonly bnScale?: tf.Tensor1D;
  /** Whether the activation was applied on this layer. */
  readonly activated: boolean;
  /** Dropout multiplier `[B, C]` (0 or 1/(1-p)); absent without dropout. */
  readonly dropoutMask?: tf.Tensor2D;
}

/** Forward pass with its per-layer trace. */
export interface MLPTrace {
  /** Network output `[B, out]`. */
  readonly out: tf.Tensor2D;
  /** One entry per linear layer. */
  readonly layers: readonly MLPLayerTrace[];
}

/**
 * Multi-layer perceptron as in the reference (`inVAE.utils.MLP`): `nLayers` blocks of
 * Linear → BatchNorm1d → activation → dropout; the last block skips the activation unless
 * `endWithAct`. Parameters are named `fc.{i}.weight|bias` and `bn.{i}.weight|bias|running_mean|running_var`.
 */
export class MLP {
  /** Linear layers. */
  readonly fc: Linear[] = [];
  /** BatchNorm layers (empty without batch norm). */
  readonly bn: BatchNorm1d[] = [];
  /** Resolved options. */
  readonly options: Required<MLPOptions>;
  /**
   * Weight `[hidden, k]` of the first layer's query input columns (see {@link addQueryInputs});
   * null for a network without them.
   */
  queryWeight: tf.Variable | null = null;

  constructor(options: MLPOptions, seeds: SeedStream) {
    const o: Required<MLPOptions> = { slope: 0.1, endWithAct: false, batchNorm: false, dropoutRate: 0, ...options };
    if (!Number.isInteger(o.nLayers) || o.nLayers < 1) {
      throw new InvalidOptionError('nLayers', `an MLP needs at least one layer, got ${o.nLayers}`, {
        hint: 'use n_layers ≥ 2 for FinVAE (its encoder and shared prior networks use n_layers − 1 layers) and ≥ 1 otherwise',
      });
    }
    if (o.activation !== 'relu' && o.activation !== 'lrelu') {
      throw new InvalidOptionError('activation', `unknown activation '${String(o.activation)}'`, { hint: "use 'relu' or 'lrelu'" });
    }
    if (!(o.dropoutRate >= 0 && o.dropoutRate < 1)) {
      throw new InvalidOptionError('dropoutRate', `dropout rate must be in [0, 1), got ${o.dropoutRate}`);
    }
    this.options = o;
    const widths = layerWidths(o);
    for (let i = 0; i < o.nLayers; i++) {
      this.fc.push(new Linear(widths[i]!, widths[i + 1]!, seeds));
      if (o.batchNorm) this.bn.push(new BatchNorm1d(widths[i + 1]!, 0.01, 1e-3));
    }
  }

  /** Output width. */
  get outputDim(): number {
    return this.options.outputDim;
  }

  /** Number of query input columns (0 without {@link addQueryInputs}). */
  get queryInputDim(): number {
    return this.queryWeight ? this.queryWeight.shape[1]! : 0;
  }

  /**
   * Architecture surgery for query mapping (scArches-style): adds `k` input columns to the first
   * layer, with their own weight `fc.0.query_weight` `[out, k]` initialised to zero (so the network's
   * output is unchanged until it is trained) and flagged `query` among the variables. The first
   * layer then computes `x W₀ᵀ + b₀ + q Wqᵀ` for query columns `q`; the existing weights and their
   * arithmetic are untouched, so rows whose query columns are zero give the same values as before.
   * @throws InvalidOptionError when `k` is not a positive integer or the network already has query columns.
   */
  addQueryInputs(k: number): void {
    if (!Number.isSafeInteger(k) || k < 1) throw new InvalidOptionError('queryInputs', `query input columns must be a positive integer, got ${k}`);
    if (this.queryWeight) throw new InvalidOptionError('queryInputs', 'the network already has query input columns');
    this.queryWeight = tf.variable(tf.zeros([this.fc[0]!.outputDim, k]), true);
  }

  /** The main input and the query columns of a forward pass (see {@link MLPForwardOptions.queryInput}). */
  private splitQuery(x: tf.Tensor2D, given: tf.Tensor2D | null | undefined): { main: tf.Tensor2D; query: tf.Tensor2D | null } {
    if (!this.queryWeight) return { main: x, query: null };
    if (given !== undefined) return { main: x, query: given && given.shape[1] > 0 ? given : null };
    const k = this.queryInputDim;
    if (x.shape[1] !== this.options.inputDim + k) return { main: x, query: null };
    return { main: tf.slice(x, [0, 0], [-1, this.options.inputDim]) as tf.Tensor2D, query: tf.slice(x, [0, this.options.inputDim], [-1, k]) as tf.Tensor2D };
  }

  private activate(h: tf.Tensor2D): tf.Tensor2D {
    return this.options.activation === 'relu' ? tf.relu(h) : tf.leakyRelu(h, this.options.slope);
  }

  /** Derivative of the activation at `pre` (0/1 for relu, slope/1 for lrelu; the kink counts as the left side). */
  activationDerivative(pre: tf.Tensor2D): tf.Tensor2D {
    const step = tf.step(pre) as tf.Tensor2D; // 1 where pre > 0, gradient zero
    if (this.options.activation === 'relu') return step;
    const s = this.options.slope;
    return tf.add(tf.mul(step, 1 - s), s) as tf.Tensor2D;
  }

  /** Forward pass keeping the per-layer trace (for derivative propagation). */
  trace(x: tf.Tensor2D, opts: MLPForwardOptions): MLPTrace {
    return this.run(x, opts, true);
  }

  /** Forward pass; the per-layer trace (`layers`) only with `exactTrace`, else empty. */
  private run(x: tf.Tensor2D, opts: MLPForwardOptions, exactTrace: boolean): MLPTrace {
    const o = this.options;
    const { main, query } = this.splitQuery(x, opts.queryInput);
    let h = main;
    const layers: MLPLayerTrace[] = [];
    for (let c = 0; c < o.nLayers; c++) {
      h = this.fc[c]!.apply(h, opts.frozen, { inputGrad: !(c === 0 && opts.dataInput && fastPaths.dataInput) });
      if (c === 0 && query) {
        const wq = (opts.frozen ? detach(this.queryWeight!) : this.queryWeight!) as tf.Tensor2D;
        h = tf.add(h, linearProduct(query, wq)) as tf.Tensor2D;
      }
      const activated = c < o.nLayers - 1 || o.endWithAct;
      const dropout = o.dropoutRate > 0 && opts.training;
      // a plain training pass: BatchNorm, activation and dropout as one op (the trace keeps them apart)
      if (!exactTrace && o.batchNorm && opts.training && !opts.frozen && (activated || dropout) && BatchNorm1d.blockApplies(h)) {
        const mask = dropout ? dropoutMask2d(h.shape[0], h.shape[1], o.dropoutRate, nextDropoutSeed(), { fused: fastPaths.dropoutKernel }) : null;
        h = this.bn[c]!.applyTrainingBlock(h, activated ? o.activation : null, o.slope, mask);
        continue;
      }
      let bnScale: tf.Tensor1D | undefined;
      if (o.batchNorm) {
        // a trace's BatchNorm scale must carry its full gradient (derivative propagation); a plain forward pass can fuse
        const r = this.bn[c]!.apply(h, { training: opts.training, frozen: opts.frozen, fused: !exactTrace });
        h = r.out;
        bnScale = r.scale;
      }
      const pre = h;
      if (activated) h = this.activate(h);
      let dropoutMask: tf.Tensor2D | undefined;
      if (dropout) {
        const seed = nextDropoutSeed();
        dropoutMask = dropoutMask2d(h.shape[0], h.shape[1], o.dropoutRate, seed, { fused: fastPaths.dropoutKernel });
        h = tf.mul(h, dropoutMask) as tf.Tensor2D;
      }
      if (exactTrace) layers.push({ preActivation: pre, bnScale, activated, dropoutMask });
    }
    return { out: h, layers };
  }

  /** Forward pass `[B, in] → [B, out]`. */
  forward(x: tf.Tensor2D, opts: MLPForwardOptions): tf.Tensor2D {
    return this.run(x, opts, false).out;
  }

  /**
   * Vector–Jacobian product per sample: given `u` `[B, out]`, returns `∂(out_b · u_b)/∂x_b` `[B, in]`
   * for the pass recorded in `trace`. BatchNorm statistics are held fixed (exact in eval mode). Built
   * from differentiable ops, so gradients of the result w.r.t. the parameters (and `u`) are available.
   */
  inputVjp(trace: MLPTrace, u: tf.Tensor2D, opts: { frozen?: boolean } = {}): tf.Tensor2D {
    let g = u;
    for (let c = this.options.nLayers - 1; c >= 0; c--) {
      const layer = trace.layers[c]!;
      if (layer.dropoutMask) g = tf.mul(g, layer.dropoutMask) as tf.Tensor2D;
      if (layer.activated) g = tf.mul(g, this.activationDerivative(layer.preActivation)) as tf.Tensor2D;
      if (layer.bnScale) g = tf.mul(g, layer.bnScale) as tf.Tensor2D;
      const w = this.fc[c]!.weight as tf.Tensor2D;
      const wf = opts.frozen ? (detach(w) as tf.Tensor2D) : w;
      g = fastPaths.plainProduct ? plainProduct(g, wf) : (tf.matMul(g, wf) as tf.Tensor2D);
    }
    return g;
  }

  /** `fc.{i}.*` and `bn.{i}.*` (and `fc.0.query_weight` with query input columns). */
  namedVariables(): NamedVariable[] {
    const out: NamedVariable[] = [];
    this.fc.forEach((l, i) => out.push(...prefixed(`fc.${i}`, l)));
    this.bn.forEach((l, i) => out.push(...prefixed(`bn.${i}`, l)));
    if (this.queryWeight) out.push({ name: 'fc.0.query_weight', variable: this.queryWeight, trainable: true, query: true });
    return out;
  }
}
