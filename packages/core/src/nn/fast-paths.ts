/**
 * Whether the threaded paths (`fused/`) are on: opt-in with `INVAE_THREADED=1` (or `all`) until an
 * A/B on an idle two-core machine shows them faster than the single-thread engine path (on the
 * loaded development machine the difference was within the noise).
 */
const threadedOn = typeof process !== 'undefined' && (process.env?.INVAE_THREADED === '1' || process.env?.INVAE_THREADED === 'all');

/**
 * Switches of the fused fast paths (JavaScript kernels, hand-written gradients). All on by default (the threaded ones opt-in, see `threadedOn`);
 * turning one off selects the plain tensor-op formulation that computes the same thing. Internal:
 * used by tests and by A/B timing scripts, not part of the public API.
 */
export const fastPaths = {
  /** Fused NB log-likelihood kernels (`likelihoods/nb-fused`). */
  nbKernel: true,
  /** Linear layers as one taped affine op (products chosen for wasm, bias gradient as row sums of dyᵀ) instead of product + add. */
  affine: true,
  /** No gradient for the encoder's data input (its first layer skips dy · W). */
  dataInput: true,
  /** A data input with many zeros: its layer's product and weight gradient over the non-zeros only (`nn/sparse-affine`, wasm SIMD). */
  sparseInput: true,
  /** The NB encoder input [log1p(x) | u] and Σx in one JavaScript pass (log1p on non-zeros only). */
  encoderInput: true,
  /** MLP input-derivative products (score matching) with a plain-product gradient instead of tfjs's transposed ones. */
  plainProduct: true,
  /** Adam updates small variables with one JavaScript kernel each (`optim/adam`). */
  adamKernel: true,
  /** Dropout masks written by one JavaScript kernel (`nn/dropout-mask`) instead of randomUniform + 3 ops. */
  dropoutKernel: true,
  /** BatchNorm in training mode as one taped op with the closed-form gradient (`nn/batchnorm`). */
  batchNorm: true,
  /**
   * Large dense linear layers (see `fused/affine`'s `threadedLimits`) on the fused threaded SIMD
   * products: all threads together, results independent of their number. On with `INVAE_THREADED=1`;
   * `INVAE_THREADED=all` lifts the size limits of every threaded path (see `fused/threads`' `threadedLimit`).
   */
  threadedProducts: threadedOn,
  /** The sparse first-layer products (`nn/sparse-affine`) on the fused threads: forward by fixed row chunks, dW by output columns. On with `INVAE_THREADED=1`. */
  threadedSparse: threadedOn,
  /** The NB log-likelihood kernels on the fused threads (`likelihoods/nb-fused`), rows in fixed chunks. On with `INVAE_THREADED=1`. */
  threadedNb: threadedOn,
  /**
   * The NB decoder's output layer, softmax, library scaling and likelihood as one op on the fused
   * threads (`fused/decoder-nb`): the [cells, genes] intermediates never become engine tensors.
   * On with the threaded paths; `INVAE_FUSED_DECODER=0` turns it alone off (A/B timing).
   */
  fusedDecoderNb: threadedOn && !(typeof process !== 'undefined' && process.env?.INVAE_FUSED_DECODER === '0'),
};
