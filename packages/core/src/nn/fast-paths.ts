/** A threaded path (`fused/`): the large dense products, the sparse first layer, the NB kernels, the fused NB decoder op. */
export type ThreadedPath = 'products' | 'sparse' | 'nb' | 'decoder';

/**
 * Which threaded paths are on. Default: the fused NB decoder op and the sparse first layer — the
 * ones that in-process A/Bs (interleaved epochs, FinVAE and NFinVAE, 2 cores) and per-kernel
 * timings in training showed faster than the engine path; the others add CPU time for no gain on
 * two cores. `INVAE_THREADED=0` turns every one off (the single-thread engine path), `1` or `all`
 * turns every one on (`all` also lifts their size limits), and a comma-separated list of
 * `products`, `sparse`, `nb`, `decoder` picks them.
 */
function threadedFromEnv(): ReadonlySet<ThreadedPath> {
  const env = typeof process !== 'undefined' ? process.env?.INVAE_THREADED : undefined;
  if (env === undefined || env === '') return new Set(['decoder', 'sparse']);
  if (env === '1' || env === 'all') return new Set(['products', 'sparse', 'nb', 'decoder']);
  return new Set(env.split(',').map((s) => s.trim()) as ThreadedPath[]);
}
const threaded = threadedFromEnv();
const threadedOn = (path: ThreadedPath) => threaded.has(path);

/**
 * Switches of the fused fast paths (JavaScript kernels, hand-written gradients). All on by default (the threaded ones as `threadedFromEnv` says);
 * turning one off selects the plain tensor-op formulation that computes the same thing. Internal:
 * used by tests and by A/B timing scripts, not part of the public API.
 */
export const fastPaths = {
  /** Fused NB log-likelihood kernels (`likelihoods/nb-fused`). */
  nbKernel: true,
  /** Linear layers as one taped affine op (products chosen for wasm, bias gradient as row sums of dyᵀ) instead of product + add. */
  affine: true,
  /** On the wasm engine, those affine ops as two kernels of invae's SIMD products (`nn/affine-kernels`) instead of engine transposes, products and sums. */
  affineKernel: true,
  /** No gradient for the encoder's data input (its first layer skips dy · W). */
  dataInput: true,
  /** A data input with many zeros: its layer's product and weight gradient over the non-zeros only (`nn/sparse-affine`, wasm SIMD). */
  sparseInput: true,
  /** The NB encoder input [log1p(x) | u] and Σx in one JavaScript pass (log1p on non-zeros only). */
  encoderInput: true,
  /** With the SIMD kernels, that pass looks up log1p of integer counts below 4096 (same bits) instead of computing it. */
  log1pTable: true,
  /** MLP input-derivative products (score matching) with a plain-product gradient instead of tfjs's transposed ones. */
  plainProduct: true,
  /** On the wasm engine, those products as two kernels of invae's SIMD products (`nn/affine-kernels`' productKernel) instead of engine transposes and products. */
  productKernel: true,
  /** The per-row Gaussian log-density of same-shaped matrices as one op of two kernels (`likelihoods/normal-fused`). */
  normalKernel: true,
  /** Adam updates small variables with one JavaScript kernel each (`optim/adam`). */
  adamKernel: true,
  /** With the SIMD kernels, Adam writes a variable and its moments in place where each is its data's only holder. */
  adamInPlace: true,
  /** Dropout masks written by one JavaScript kernel (`nn/dropout-mask`) instead of randomUniform + 3 ops. */
  dropoutKernel: true,
  /** BatchNorm in training mode as one taped op with the closed-form gradient (`nn/batchnorm`). */
  batchNorm: true,
  /** That op's forward and backward as one JavaScript kernel each (`nn/batchnorm-kernels`) instead of ~9 engine ops each. */
  batchNormKernel: true,
  /** An MLP's BatchNorm → activation → dropout in training as one op of two kernels (`BatchNorm1d.applyTrainingBlock`). */
  batchNormBlock: true,
  /**
   * Large dense linear layers (see `fused/affine`'s `threadedLimits`) on the fused threaded SIMD
   * products: all threads together, results independent of their number. Opt-in (see `threadedFromEnv`);
   * `INVAE_THREADED=all` lifts the size limits of every threaded path (see `fused/threads`' `threadedLimit`).
   */
  threadedProducts: threadedOn('products'),
  /** The sparse first-layer products (`nn/sparse-affine`) on the fused threads: forward by fixed row chunks, dW by input columns. On by default (see `threadedFromEnv`). */
  threadedSparse: threadedOn('sparse'),
  /** The NB log-likelihood kernels on the fused threads (`likelihoods/nb-fused`), rows in fixed chunks. Opt-in (see `threadedFromEnv`). */
  threadedNb: threadedOn('nb'),
  /**
   * The NB decoder's output layer, softmax, library scaling and likelihood as one op on the fused
   * threads (`fused/decoder-nb`): the [cells, genes] intermediates never become engine tensors.
   * On by default (see `threadedFromEnv`); `INVAE_FUSED_DECODER=0` turns it alone off.
   */
  /**
   * The fused NB decoder op's dW and db computed by the worker threads while the calling thread goes
   * on with the backward pass, inside an optimiser step (`fused/deferred-gradients`).
   */
  deferredGradients: true,
  /** Inside an optimiser step, the fused NB decoder op's weight staging (packing W) started on the worker threads before the encoder runs (`fused/decoder-nb`'s `decoderNbPrepare`). */
  decoderPrepare: true,
  fusedDecoderNb: threadedOn('decoder') && !(typeof process !== 'undefined' && process.env?.INVAE_FUSED_DECODER === '0'),
};

/**
 * How a training step runs: `fused` (the default: the NB decoder's output layer and likelihood as
 * one op, `fused/decoder-nb`, and the encoder's sparse first layer, `nn/sparse-affine`, on both
 * cores) or `engine` (every op on the tensor engine, one thread).
 * Both give results independent of the thread count. Internal: for A/B timing (`bench:perf --paths`)
 * in this process; data-parallel worker replicas follow `INVAE_THREADED`.
 */
export type StepPath = 'fused' | 'engine';

/** Selects the {@link StepPath} of this process's training steps (the other threaded switches off). */
export function setStepPath(path: StepPath): void {
  fastPaths.threadedProducts = false;
  fastPaths.threadedNb = false;
  fastPaths.threadedSparse = path === 'fused';
  fastPaths.fusedDecoderNb = path === 'fused';
}

/** The {@link StepPath} in effect: `fused` when the fused NB decoder op is on. */
export function stepPath(): StepPath {
  return fastPaths.fusedDecoderNb ? 'fused' : 'engine';
}
