import { tf } from '../tf';
import { toTensor } from './affine';
import { FusedThreads, fusedThreads, threadedLimit, threadsAvailable, type SplitTask } from './threads';
import { dataWrittenInPlace, engineOffset, engineValues } from '../wasm/kernels';
import { fastPaths } from '../nn/fast-paths';
import { uninitializedTensor } from '../nn/js-kernel';
import { csrWords as csrWordsOf, knownNonZeros, nonZeroStats } from '../nn/counts-csr';
import { deferGradient, deferralScope, gradientsDeferrable, settleAll } from './deferred-gradients';
import { CHUNK_ROWS, LOG_FACTORIAL_SMALL, STRIDE, digammaDiffTable, f32Bits, thetaGradSum } from '../likelihoods/nb-fused';
import { logFactorials } from '../likelihoods/special-f64';

/**
 * The NB decoder's output layer and likelihood as one operation on the fused threads:
 * logits = h · Wᵀ + b, freq = softmax(logits) over genes, μ = freq · library, and per cell
 * Σ_genes log NB(x; μ, θ) (the formula of `logNbPositive`), with the gradients with respect to h, W,
 * b and θ. The [cells, genes] intermediates (logits, freq, μ, ln(θ+μ+ε), dμ, d logits) live only in
 * the threads' shared memory, never as engine tensors.
 *
 * Work split (results independent of the thread count): forward and the first backward pass by
 * fixed chunks of {@link CHUNK_ROWS} rows (each row's softmax, likelihood and products computed by
 * one call in a fixed order); dW and db by output panels / columns (each element one fixed-order sum
 * over the rows); dθ summed per chunk, the chunks added here in order.
 */

const PANEL = 8;

function panels(n: number): number {
  return Math.ceil(n / PANEL);
}

/** Byte offsets of one operation's buffers in the pool's memory (the same for the same sizes). */
interface Layout {
  b: number;
  g: number;
  k: number;
  h: number;
  w: number;
  bias: number;
  packWt: number;
  packW: number;
  logits: number;
  freq: number;
  mu: number;
  x: number;
  lib: number;
  theta: number;
  tmp: number;
  lte: number;
  logT: number;
  rows: number;
  tableF: number;
  idx: number;
  exc: number;
  counts: number;
  dy: number;
  cv: number;
  dmu: number;
  dl: number;
  acc: number;
  tableB: number;
  dh: number;
  dw: number;
  db: number;
  packH: number;
  /** ln k! for k < 4096 (f64) and for k ≤ 16 (f64 [17]): the tables of the exceptions' and the count table's terms. */
  logFact: number;
  logFactSmall: number;
  /** f64 [b·g]: the dθ terms of the counts outside the table, at their positions in `exc`. */
  excTerms: number;
  /** The counts' non-zeros (packed CSR words, see `nn/counts-csr`) when the minibatch came with them, else 0 (the kernels scan the counts). */
  csr: number;
}

function layout(pool: FusedThreads, b: number, g: number, k: number, csrWords: number): Layout {
  pool.reset();
  const chunks = Math.ceil(b / CHUNK_ROWS);
  const a = (n: number) => pool.alloc(n);
  return {
    b, g, k,
    h: a(b * k), w: a(g * k), bias: a(panels(g) * PANEL), packWt: a(panels(g) * PANEL * k), packW: a(panels(k) * PANEL * g),
    logits: a(b * g), freq: a(b * g), mu: a(b * g), x: a(b * g), lib: a(b), theta: a(g), tmp: a(g), lte: a(g), logT: a(b * g),
    rows: a(2 * b), tableF: a(2 * STRIDE * g), idx: a(chunks * g), exc: a(b * g), counts: a(chunks),
    dy: a(b), cv: a(g), dmu: a(b * g), dl: a(b * g), acc: a(2 * chunks * g), tableB: a(2 * STRIDE * g),
    dh: a(b * k), dw: a(g * k), db: a(panels(g) * PANEL), packH: a(panels(k) * PANEL * b),
    logFact: a(2 * logFactorials().length), logFactSmall: a(2 * STRIDE), excTerms: a(2 * b * g),
    csr: csrWords > 0 ? a(csrWords) : 0,
  };
}

let own: FusedThreads | null = null;

/**
 * The operation's own pool (as many threads as the shared pool of `fusedThreads`): its buffers stay
 * in place from the forward pass to the gradient pass, whatever other operations run between them.
 */
function decoderPool(): FusedThreads {
  const threads = fusedThreads().threads;
  if (own && own.threads !== threads) {
    own.close();
    own = null;
  }
  if (!own) own = new FusedThreads(threads);
  return own;
}

/** The forward pass whose buffers are in the pool (a gradient pass of an older one recomputes it). */
let current = 0;
let generation = 0;
let lastLayout: Layout | null = null;

/** Number of forward passes run (tests check which path ran). */
export const decoderNbStats = { forward: 0, recomputed: 0 };

/** Milliseconds spent per phase, summed over calls (profiling; see scripts/profile-step.mjs). */
export const decoderNbTimes = { stage: 0, pack: 0, forward: 0, tail: 0, backward1: 0, backward2: 0, out: 0 };

/** Adds the time since its last call (or its creation) to a phase of {@link decoderNbTimes}. */
function phaseTimer(): (key: keyof typeof decoderNbTimes) => void {
  let t = performance.now();
  return (key) => {
    const now = performance.now();
    decoderNbTimes[key] += now - t;
    t = now;
  };
}

/**
 * Lays out one operation's buffers and writes what depends on the weights only (W, b, θ, ln(θ+ε), the
 * ln k! tables); {@link packTasks} then packs W and tabulates the small counts' terms.
 */
function stageWeights(pool: FusedThreads, w: Float32Array, bias: Float32Array, theta: Float32Array, b: number, g: number, k: number, eps: number, csrWords: number): Layout {
  // a deferred dW / db of an earlier pass, or a staging started ahead, still in the pool's memory:
  // written out, and finished, before it is reused
  settleAll();
  pool.finish();
  const L = layout(pool, b, g, k, csrWords);
  pool.write(L.w, w);
  pool.write(L.bias, bias);
  pool.write(L.theta, theta);
  const tmp = pool.view(L.tmp, g);
  for (let j = 0; j < g; j++) tmp[j] = theta[j]! + eps;
  pool.call('logF32', L.tmp, L.lte, g);
  const buf = pool.memory.buffer;
  new Float64Array(buf, L.logFact, logFactorials().length).set(logFactorials());
  new Float64Array(buf, L.logFactSmall, STRIDE).set(LOG_FACTORIAL_SMALL);
  return L;
}

/** Wᵀ in panels of genes (forward), W in panels of hidden units (dh = dl · W), and per gene lnΓ(x+θ) − lnΓ(θ) − ln x! for the counts x ≤ 16 (nb-fused's lgammaRatioTable). */
function packTasks(L: Layout): SplitTask[] {
  const { g, k } = L;
  return [
    { kernel: 'packPanels', args: [L.w, 1, k, k, g, L.packWt, 0, 0], splitAt: 6, units: panels(g) },
    { kernel: 'packPanels', args: [L.w, k, 1, g, k, L.packW, 0, 0], splitAt: 6, units: panels(k) },
    { kernel: 'lgammaRatioTable', args: [L.theta, L.tableF, L.logFactSmall, 0, 0], splitAt: 3, units: g },
  ];
}

/**
 * The weights' staging of the next forward pass, started ahead by {@link decoderNbPrepare} on the
 * worker threads: used by the forward pass of the same optimiser step (deferral scope) with the same
 * W, b, θ values, batch size and non-zeros, the pool untouched since; else discarded.
 */
let prepared: { scope: number; resets: number; w: number; bias: number; theta: Float32Array; b: number; csrWords: number; eps: number; L: Layout } | null = null;

/** Number of forward passes whose weights were staged ahead (tests check which path ran). */
export const decoderNbPrepared = { started: 0, used: 0 };

/** The packed non-zeros of counts `x` `[b, g]` when the minibatch came with them for all its genes (the count kernels then read them instead of scanning), else null. */
function countsNonZeros(x: tf.Tensor2D, b: number, g: number): tf.Tensor1D | null {
  const known = knownNonZeros(x);
  return known && known.csrCols === g && known.csr.rows === b ? known.csr.packed : null;
}

/** The used words of packed non-zeros of b rows: row offsets [b + 1], then the column indices. */
function usedCsrWords(nz: Float32Array | null, b: number): number {
  return nz ? b + 1 + csrWordsOf(nz)[b]! : 0;
}

/** Forward pass: per-cell log-likelihood `[b]`; leaves μ, freq, ln(θ+μ+ε) and the packed W in the pool. */
function forward(pool: FusedThreads, h: Float32Array, w: Float32Array, bias: Float32Array, theta: Float32Array, lib: Float32Array, x: Float32Array, nz: Float32Array | null, b: number, g: number, k: number, eps: number, ids: { w: number; bias: number }): { L: Layout; out: Float32Array } {
  const lap = phaseTimer();
  const csrWords = usedCsrWords(nz, b);
  const p = prepared;
  prepared = null;
  let L: Layout;
  if (p && p.scope === deferralScope() && p.resets === pool.resets && p.w === ids.w && p.bias === ids.bias && p.b === b && p.csrWords === csrWords && p.eps === eps && p.theta.length === theta.length && p.theta.every((v, j) => Object.is(v, theta[j]))) {
    // staged and being packed ahead: the run below waits for the packing
    decoderNbPrepared.used++;
    L = p.L;
    lap('stage');
  } else {
    L = stageWeights(pool, w, bias, theta, b, g, k, eps, csrWords);
    lap('stage');
    pool.run(packTasks(L));
    lap('pack');
  }
  const chunks = Math.ceil(b / CHUNK_ROWS);
  if (nz) pool.write(L.csr, nz.subarray(0, csrWords));
  else nonZeroStats.scans++;
  pool.write(L.h, h);
  pool.write(L.lib, lib);
  pool.write(L.x, x);
  pool.run([
    { kernel: 'gemm', args: [L.h, k, 1, L.packWt, L.logits, g, L.bias, g, k, 0, 0, 0, panels(g)], splitAt: 9, units: b, align: CHUNK_ROWS },
    { kernel: 'softmaxLibRows', args: [L.logits, L.lib, L.freq, L.mu, g, 0, 0], splitAt: 5, units: b, align: CHUNK_ROWS },
    { kernel: 'nbForwardChunks', args: [L.x, L.mu, L.theta, L.lte, L.logT, L.rows, g, f32Bits(eps), L.tableF, L.idx, L.exc, L.counts, L.csr, b, CHUNK_ROWS, 0, 0], splitAt: 15, units: chunks },
    // then, chunk by chunk on the same thread, the counts outside the table (large or non-integer)
    { kernel: 'nbForwardExceptions', args: [L.x, L.theta, L.rows, L.exc, L.counts, L.logFact, g, CHUNK_ROWS, 0, 0], splitAt: 8, units: chunks },
  ]);
  lap('forward');
  const rowsV = new Float64Array(pool.memory.buffer, L.rows, b);
  const out = new Float32Array(b);
  for (let r = 0; r < b; r++) out[r] = rowsV[r]!;
  lap('tail');
  return { L, out };
}

/**
 * Gradient pass of the forward pass whose buffers are in the pool, given dy `[b]`. With `deferWeights`
 * (see `deferred-gradients`) dW and db are computed by the worker threads while this thread goes on:
 * their tensors are returned unwritten and filled when settled.
 */
function backward(pool: FusedThreads, L: Layout, theta: Float32Array, x: Float32Array, dy: Float32Array, eps: number, deferWeights = false): { dh: tf.Tensor2D; dw: tf.Tensor2D; db: tf.Tensor1D; dTheta: tf.Tensor1D } {
  const { b, g, k } = L;
  const lap = phaseTimer();
  const chunks = Math.ceil(b / CHUNK_ROWS);
  if (!L.csr) nonZeroStats.scans++;
  pool.write(L.dy, dy);
  const tmp = pool.view(L.tmp, g);
  for (let j = 0; j < g; j++) tmp[j] = theta[j]! + eps;
  pool.call('logF32', L.tmp, L.cv, g);
  const cv = pool.view(L.cv, g);
  for (let j = 0; j < g; j++) {
    const th = theta[j]!;
    cv[j] = cv[j]! + th / (th + eps);
  }
  const buf = pool.memory.buffer;
  digammaDiffTable(theta, g, new Float64Array(buf, L.tableB, g * STRIDE));
  pool.run([
    { kernel: 'nbBackwardChunks', args: [L.x, L.mu, L.theta, L.cv, L.logT, L.dy, L.dmu, L.acc, g, f32Bits(eps), L.tableB, L.idx, L.exc, L.counts, L.csr, b, CHUNK_ROWS, 0, 0], splitAt: 17, units: chunks },
    { kernel: 'nbBackwardExceptions', args: [L.x, L.theta, L.dy, L.exc, L.counts, L.excTerms, g, CHUNK_ROWS, 0, 0], splitAt: 8, units: chunks },
    { kernel: 'softmaxLibBackRows', args: [L.freq, L.lib, L.dmu, L.dl, g, 0, 0], splitAt: 5, units: b, align: CHUNK_ROWS },
    // dh [b, k] = dl [b, g] · W [g, k]
    { kernel: 'gemm', args: [L.dl, g, 1, L.packW, L.dh, k, 0, k, g, 0, 0, 0, panels(k)], splitAt: 9, units: b, align: CHUNK_ROWS },
  ]);
  lap('backward1');
  const weightTasks: SplitTask[] = [
    // dW [g, k] = dlᵀ · h: A(i, p) = dl[p, i], B = h [b, k], by panels of hidden units
    { kernel: 'packPanels', args: [L.h, k, 1, b, k, L.packH, 0, 0], splitAt: 6, units: panels(k) },
    { kernel: 'gemm', args: [L.dl, 1, g, L.packH, L.dw, k, 0, k, b, 0, g, 0, 0], splitAt: 11, units: panels(k) },
    { kernel: 'colSums', args: [L.dl, g, b, L.db, 0, 0], splitAt: 4, units: g, align: 4 },
  ];
  let dw: tf.Tensor2D;
  let db: tf.Tensor1D;
  if (deferWeights) {
    // on the workers, while this thread sums dθ and goes on with the backward pass; the same kernels
    // on the same data, so the values are those of the run below
    pool.start(weightTasks);
    // written in full when settled, before anything reads them
    dw = uninitializedTensor([g, k]) as tf.Tensor2D;
    db = uninitializedTensor([g]) as tf.Tensor1D;
    const [dwT, dbT] = [dw, db];
    deferGradient([dwT, dbT], () => {
      pool.finish();
      for (const [t, at, n] of [[dwT, L.dw, g * k], [dbT, L.db, g]] as const) {
        if (t.isDisposed) continue;
        engineValues(t).set(pool.view(at, n));
        dataWrittenInPlace(t);
      }
    });
  } else {
    pool.run(weightTasks);
    dw = toTensor(pool.view(L.dw, g * k), [g, k]) as tf.Tensor2D;
    db = toTensor(pool.view(L.db, g), [g]) as tf.Tensor1D;
  }
  lap('backward2');
  const sum = thetaGradSum(buf, L.acc, L.counts, L.exc, b, g, chunks, x, theta, dy, L.excTerms);
  const dTheta = Float32Array.from(sum);
  const out = {
    dh: toTensor(pool.view(L.dh, b * k), [b, k]) as tf.Tensor2D,
    dw,
    db,
    dTheta: tf.tensor1d(dTheta, 'float32'),
  };
  lap('out');
  return out;
}

/** Forward passes per weight in the current deferral scope (see {@link countUse}). */
let useScope = 0;
const usesOf = new Map<number, number>();

/**
 * Counts a forward pass reading weight `w` in the current deferral scope; returns a function giving
 * the count at the time of the gradient pass (the scope's forward passes all run before it).
 */
function countUse(w: tf.Tensor): () => number {
  const scope = deferralScope();
  if (scope === 0) return () => 0;
  if (scope !== useScope) {
    useScope = scope;
    usesOf.clear();
  }
  usesOf.set(w.id, (usesOf.get(w.id) ?? 0) + 1);
  return () => (useScope === scope ? usesOf.get(w.id) ?? 0 : 0);
}

/**
 * Whether a gradient pass may defer dW and db (`deferred-gradients`): inside a deferral scope, with
 * worker threads, on the wasm engine (the tensors' values are written in place in its memory), and
 * with W and b variables read by this forward pass only (`uses` of them in the scope: 1).
 */
function canDeferWeights(pool: FusedThreads, w: tf.Tensor, bias: tf.Tensor, uses: number): boolean {
  return fastPaths.deferredGradients && gradientsDeferrable() && pool.threads > 1 && tf.getBackend() === 'wasm' && w instanceof tf.Variable && bias instanceof tf.Variable && uses === 1 && engineOffset(w) !== null;
}

/**
 * Cells × genes for which the fused op runs (internal: tests move them). `minElements`: below it the
 * engine path is as fast (`INVAE_THREADED=all` lifts it). `maxElements`: the op keeps ~8 float32
 * buffers of cells × genes in one WebAssembly memory (at most 4 GiB), so above 2²⁶ (2 GiB of them, e.g.
 * a minibatch of 2,048 cells × 32,768 genes) the engine path runs instead.
 */
export const decoderNbLimits = { minElements: threadedLimit(1 << 16), maxElements: 1 << 26 };

/**
 * Whether {@link decoderNbLogLik} can run for a minibatch of `b` cells: a JavaScript-memory engine
 * (wasm, cpu), the fused threads available, b × g within {@link decoderNbLimits}, W `[g, k]` (g ≥ 4), library `[b, 1]`, counts `[b, g]`,
 * all float32.
 */
export function decoderNbApplies(b: number, w: tf.Tensor, library: tf.Tensor, x: tf.Tensor): boolean {
  return library.rank === 2 && library.dtype === 'float32' && library.shape[0] === b && library.shape[1] === 1 && decoderNbFits(b, w, x);
}

/** {@link decoderNbApplies} but for the library size. */
function decoderNbFits(b: number, w: tf.Tensor, x: tf.Tensor): boolean {
  const backend = tf.getBackend();
  return (
    (backend === 'wasm' || backend === 'cpu') &&
    w.rank === 2 && x.rank === 2 &&
    w.dtype === 'float32' && x.dtype === 'float32' &&
    x.shape[0] === b && x.shape[1] === w.shape[0] &&
    w.shape[0]! >= 4 &&
    b * w.shape[0]! >= decoderNbLimits.minElements &&
    b * w.shape[0]! <= decoderNbLimits.maxElements &&
    threadsAvailable()
  );
}

/**
 * Starts, on the worker threads, the part of the next {@link decoderNbLogLik} of this optimiser step
 * that depends on the weights only (packing W, the small counts' table), so that it runs while this
 * thread computes the encoder; that call then waits for it instead of doing it. `b` cells with
 * counts `x`, W, b, θ as that call will get them. Does nothing outside a deferral scope (an
 * optimiser step), without worker threads, or where {@link decoderNbApplies} would not hold.
 */
export function decoderNbPrepare(w: tf.Tensor2D, bias: tf.Tensor1D, theta: tf.Tensor1D, x: tf.Tensor2D, eps = 1e-8): void {
  const b = x.shape[0];
  const scope = deferralScope();
  if (scope === 0 || tf.getBackend() !== 'wasm' || theta.dtype !== 'float32' || bias.dtype !== 'float32') return;
  if (!decoderNbFits(b, w, x)) return;
  const pool = decoderPool();
  if (pool.threads < 2) return;
  const nz = countsNonZeros(x, b, w.shape[0]);
  const csrWords = usedCsrWords(nz ? engineValues(nz) : null, b);
  const thetaV = engineValues(theta);
  const L = stageWeights(pool, engineValues(w), engineValues(bias), thetaV, b, w.shape[0], w.shape[1], eps, csrWords);
  pool.start(packTasks(L));
  decoderNbPrepared.started++;
  prepared = { scope, resets: pool.resets, w: w.id, bias: bias.id, theta: thetaV.slice(), b, csrWords, eps, L };
}

/**
 * Per-cell Σ_genes log NB(x; softmax(h · Wᵀ + b) · library, θ) `logLik` `[b]` (see the module
 * comment), a taped operation with gradients for h, W, b and θ (counts and library are data), and
 * the decoder mean μ `[b, g]` it used, as a value (no gradient flows through `mean`). Call only
 * where {@link decoderNbApplies}.
 */
export function decoderNbLogLik(h: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D, theta: tf.Tensor1D, library: tf.Tensor2D, x: tf.Tensor2D, eps = 1e-8): { logLik: tf.Tensor1D; mean: tf.Tensor2D } {
  const pool = decoderPool();
  const uses = countUse(w);
  const [b, k] = h.shape;
  const g = w.shape[0];
  if (h.dtype !== 'float32' || h.shape[1] !== w.shape[1]) throw new Error(`decoderNbLogLik: h ${h.dtype} [${h.shape}] does not fit W [${w.shape}]`);
  const nz = countsNonZeros(x, b, g);
  const run = (hv: tf.Tensor, wv: tf.Tensor, bv: tf.Tensor, tv: tf.Tensor) => {
    const out = forward(pool, engineValues(hv), engineValues(wv), engineValues(bv), engineValues(tv), engineValues(library), engineValues(x), nz && !nz.isDisposed ? engineValues(nz) : null, b, g, k, eps, { w: w.id, bias: bias.id });
    current = ++generation;
    return out;
  };
  const f = tf.customGrad(((hv: tf.Tensor2D, wv: tf.Tensor2D, bv: tf.Tensor1D, tv: tf.Tensor1D, save: tf.GradSaveFunc) => {
    decoderNbStats.forward++;
    const { L, out } = run(hv, wv, bv, tv);
    lastLayout = L;
    const mine = current;
    save([hv, wv, bv, tv]);
    return {
      value: tf.tensor1d(out, 'float32'),
      gradFunc: (dy: tf.Tensor1D, saved: tf.Tensor[]) => {
        const [hs, ws, bs, ts] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
        let layoutNow = L;
        // another forward pass has overwritten the buffers since: recompute this one
        if (current !== mine) {
          decoderNbStats.recomputed++;
          layoutNow = run(hs, ws, bs, ts).L;
        }
        const dyf = dy.dtype === 'float32' ? dy : tf.cast(dy, 'float32');
        const thetaV = engineValues(ts).slice();
        const defer = canDeferWeights(pool, w, bias, uses());
        const g2 = backward(pool, layoutNow, thetaV, pool.view(layoutNow.x, b * g), engineValues(dyf).slice(), eps, defer);
        if (dyf !== dy) dyf.dispose();
        return [g2.dh, g2.dw, g2.db, g2.dTheta];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (h: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, t: tf.Tensor1D) => tf.Tensor1D;
  const logLik = f(h, w, bias, theta);
  // μ of this forward pass (still in the pool): the decoder mean, as a value (no gradient flows through it)
  const mean = toTensor(pool.view(lastLayout!.mu, b * g), [b, g]) as tf.Tensor2D;
  return { logLik, mean };
}
