import { tf } from '../tf';
import { defineJsKernel, jsKernelsAvailable } from '../nn/js-kernel';
import { digammaDiff, lgammaRatio, logFactorial } from './special-f64';
import { logF32, logFromFloat32Bits } from './log-f32';
import { simdKernelsFor, type SimdKernels } from '../wasm/kernels';
import { csrWords, knownNonZeros, nonZeroStats } from '../nn/counts-csr';
import { fastPaths } from '../nn/fast-paths';
import { fusedThreads, threadedLimit, threadsAvailable } from '../fused/threads';

// Per-cell negative-binomial log-likelihood as two JavaScript kernels (value; gradients) that run on
// the engine's memory, accumulating in double precision and touching each element of the
// [cells, genes] matrices once per pass. Where a count is 0 its element reduces to
// θ(ln(θ+ε) − ln(θ+μ+ε)): the x·ln terms and the lnΓ terms (and their gradients) are evaluated on
// the non-zero counts only.

/** 1 for a non-zero value, else 0, without a branch (a mispredicted branch per element costs more than the arithmetic). */
function nonZero(v: number): number {
  return ((v !== 0) as unknown as number) | 0;
}

/** Integer counts up to this read lnΓ(x+θ) − lnΓ(θ) and ψ(x+θ) − ψ(θ) from per-gene tables. */
const TABLE_COUNTS = 16;
export const STRIDE = TABLE_COUNTS + 1;

/** ln x! for x ≤ {@link TABLE_COUNTS}. */
export const LOG_FACTORIAL_SMALL = Float64Array.from({ length: STRIDE }, (_, k) => logFactorial(k));

/**
 * Per-gene table [j, x] = lnΓ(x+θ_j) − lnΓ(θ_j) − `minus[x]` = Σ_{k<x} ln(θ_j+k) − `minus[x]` for
 * integer x ≤ {@link TABLE_COUNTS}, written into `out` (a new array when absent).
 */
export function lgammaRatioTable(theta: Float32Array, g: number, out: Float64Array = new Float64Array(g * STRIDE), minus?: Float64Array): Float64Array {
  for (let j = 0; j < g; j++) {
    const th = theta[j]!;
    let acc = th > 0 ? 0 : NaN;
    out[j * STRIDE] = 0;
    for (let k = 1; k <= TABLE_COUNTS; k++) {
      acc += Math.log(th + k - 1);
      out[j * STRIDE + k] = minus ? acc - minus[k]! : acc;
    }
  }
  return out;
}

/** Per-gene table [j, x] = ψ(x+θ_j) − ψ(θ_j) = Σ_{k<x} 1/(θ_j+k) for integer x ≤ {@link TABLE_COUNTS}, into `out`. */
export function digammaDiffTable(theta: Float32Array, g: number, out: Float64Array = new Float64Array(g * STRIDE)): Float64Array {
  for (let j = 0; j < g; j++) {
    const th = theta[j]!;
    let acc = th > 0 ? 0 : NaN;
    out[j * STRIDE] = 0;
    for (let k = 1; k <= TABLE_COUNTS; k++) {
      acc += 1 / (th + k - 1);
      out[j * STRIDE + k] = acc;
    }
  }
  return out;
}

/**
 * The scratch the SIMD passes use: f32 [g] per-gene values, f64 sums (as 2·n float32), i32 [g] column
 * indices, an f64 [g, 17] count table and i32 [b·g] indices of counts outside the table.
 */
function nbScratch(b: number, g: number): number[] {
  return [g, 2 * Math.max(b, g), g, 2 * STRIDE * g, b * g];
}

/** ln(θ_j + ε) into `out` (f32 [g]) by the kernels' vector logarithm, staging θ+ε in `tmp` (g ≥ 4 values). */
function logThetaEps(k: SimdKernels, theta: Float32Array, eps: number, g: number, tmp: Float32Array, out: Float32Array): void {
  for (let j = 0; j < g; j++) tmp[j] = theta[j]! + eps;
  k.logF32(tmp.byteOffset, out.byteOffset, g);
}

/**
 * {@link nbForwardRows} on the wasm engine's memory with the SIMD kernels: the terms that involve μ
 * (one vector logarithm each of θ+μ+ε and μ+ε per element) in `nbForward`, then the lnΓ terms,
 * which depend on the counts and θ only, over each row's non-zeros here. Returns false (nothing
 * written) where the kernels cannot run these views.
 */
function nbForwardSimd(
  x: Float32Array, mu: Float32Array, theta: Float32Array, out: Float32Array, logT: Float32Array,
  b: number, g: number, eps: number, scratch: readonly Float32Array[], nz: Float32Array | null,
): boolean {
  const [lte, sums, idxF, tableF, excF] = scratch as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  const views = [x, mu, theta, out, logT, lte, sums, idxF, tableF, excF];
  if (nz) views.push(nz);
  const k = g >= 4 && sums.byteOffset % 8 === 0 && tableF.byteOffset % 8 === 0 ? simdKernelsFor(views) : null;
  if (!k) return false;
  if (!nz) nonZeroStats.scans++;
  // ln(θ+ε) by the same vector logarithm as ln(θ+μ+ε): exactly 0 difference where μ = 0
  logThetaEps(k, theta, eps, g, sums, lte);
  k.nbForward(x.byteOffset, mu.byteOffset, theta.byteOffset, lte.byteOffset, logT.byteOffset, sums.byteOffset, b, g, eps);
  // over the non-zero counts, x(ln(μ+ε) − ln(θ+μ+ε)) and lnΓ(x+θ) − lnΓ(θ) − ln x!: the table's counts in `nbCountTerms`, the rest here
  const rows = new Float64Array(sums.buffer, sums.byteOffset, b);
  const table = lgammaRatioTable(theta, g, new Float64Array(tableF.buffer, tableF.byteOffset, g * STRIDE), LOG_FACTORIAL_SMALL);
  const m = k.nbCountTerms(x.byteOffset, mu.byteOffset, logT.byteOffset, eps, table.byteOffset, sums.byteOffset, idxF.byteOffset, excF.byteOffset, b, g, nz ? nz.byteOffset : 0, b, 0);
  const exc = new Int32Array(excF.buffer, excF.byteOffset, m);
  for (let t = 0; t < m; t++) {
    const e = exc[t]!;
    const xv = x[e]!;
    rows[Math.floor(e / g)] += lgammaRatio(xv, theta[e % g]!) - logFactorial(xv);
  }
  for (let r = 0; r < b; r++) out[r] = rows[r]!;
  return true;
}

/** Rows per chunk of the threaded NB kernels: the chunks (fixed, not the threads) set the order of every sum. */
export const CHUNK_ROWS = 16;

/** Smallest cells × genes that runs on the fused threads (internal: tests lower it). */
export const threadedNbLimits = { minElements: threadedLimit(1 << 16) };

/** Number of threaded forward passes (tests check which path ran). */
export const threadedNbStats = { forward: 0 };

function threadedNbApplies(b: number, g: number): boolean {
  return fastPaths.threadedNb && g >= 4 && b * g >= threadedNbLimits.minElements && threadsAvailable();
}

/** The float32 bits of `v` (the kernels take ε as an integer argument). */
export function f32Bits(v: number): number {
  return new Int32Array(Float32Array.of(v).buffer)[0]!;
}

/**
 * Adds to the per-row sums at byte offset `rows` of `buf` the NB terms of the counts the chunk kernels
 * left out (large or non-integer; listed per chunk at `exc`, their number at `counts`), chunk by chunk
 * in order, so the result does not depend on how the chunks were split among threads.
 */
export function addForwardExceptions(buf: ArrayBufferLike, rows: number, counts: number, exc: number, b: number, g: number, chunks: number, x: Float32Array, theta: Float32Array): void {
  const rowsV = new Float64Array(buf, rows, b);
  forEachException(buf, counts, exc, b, g, chunks, (e) => {
    const xv = x[e]!;
    rowsV[Math.floor(e / g)] += lgammaRatio(xv, theta[e % g]!) - logFactorial(xv);
  });
}

/**
 * Calls `fn` with the flat index (row · g + gene) of every count the chunk kernels left out, listed per
 * chunk at `exc` (their number per chunk at `counts`), chunk by chunk in order, and its position in the list.
 */
function forEachException(buf: ArrayBufferLike, counts: number, exc: number, b: number, g: number, chunks: number, fn: (e: number, at: number) => void): void {
  const cnt = new Int32Array(buf, counts, chunks);
  const excV = new Int32Array(buf, exc, b * g);
  for (let c = 0; c < chunks; c++) {
    const base = c * CHUNK_ROWS * g;
    for (let t = 0; t < cnt[c]!; t++) fn(base + excV[base + t]!, base + t);
  }
}

/**
 * The gradient of the summed NB log-likelihood w.r.t. θ: the per-chunk accumulators at byte offset
 * `acc` of `buf` summed in chunk order, then the terms of the counts the kernels left out (as in
 * {@link addForwardExceptions}), weighted by the rows' upstream gradients `dy` — computed here, or
 * read from `terms` (byte offset of f64 values at the exceptions' positions, as gemm.wat's
 * nbBackwardExceptions writes them).
 */
export function thetaGradSum(buf: ArrayBufferLike, acc: number, counts: number, exc: number, b: number, g: number, chunks: number, x: Float32Array, theta: Float32Array, dy: Float32Array, terms?: number): Float64Array {
  const accV = new Float64Array(buf, acc, chunks * g);
  const sum = new Float64Array(g);
  for (let c = 0; c < chunks; c++) for (let j = 0; j < g; j++) sum[j] += accV[c * g + j]!;
  if (terms !== undefined) {
    const termV = new Float64Array(buf, terms, b * g);
    forEachException(buf, counts, exc, b, g, chunks, (e, at) => {
      sum[e % g] += termV[at]!;
    });
    return sum;
  }
  forEachException(buf, counts, exc, b, g, chunks, (e) => {
    const j = e % g;
    sum[j] += dy[Math.floor(e / g)]! * digammaDiff(x[e]!, theta[j]!);
  });
  return sum;
}

/**
 * {@link nbForwardSimd} on the fused threads: the minibatch is copied to their shared memory and
 * `nbForwardChunks` runs on fixed chunks of {@link CHUNK_ROWS} rows, split among the threads; the
 * counts outside the table are added here, chunk by chunk. Returns false where it does not apply.
 */
function nbForwardThreaded(x: Float32Array, mu: Float32Array, theta: Float32Array, out: Float32Array, logT: Float32Array, b: number, g: number, eps: number): boolean {
  if (!threadedNbApplies(b, g)) return false;
  threadedNbStats.forward++;
  nonZeroStats.scans++; // the chunks scan their rows for the non-zeros
  const pool = fusedThreads();
  const chunks = Math.ceil(b / CHUNK_ROWS);
  pool.reset();
  const [xa, ma, ta, tmp, lte, lt] = [pool.alloc(b * g), pool.alloc(b * g), pool.alloc(g), pool.alloc(g), pool.alloc(g), pool.alloc(b * g)];
  const [rows, table, idx, exc, counts] = [pool.alloc(2 * b), pool.alloc(2 * STRIDE * g), pool.alloc(chunks * g), pool.alloc(b * g), pool.alloc(chunks)];
  pool.write(xa, x);
  pool.write(ma, mu);
  pool.write(ta, theta);
  const tmpV = pool.view(tmp, g);
  for (let j = 0; j < g; j++) tmpV[j] = theta[j]! + eps;
  pool.call('logF32', tmp, lte, g);
  const buf = pool.memory.buffer;
  lgammaRatioTable(theta, g, new Float64Array(buf, table, g * STRIDE), LOG_FACTORIAL_SMALL);
  pool.run([{ kernel: 'nbForwardChunks', args: [xa, ma, ta, lte, lt, rows, g, f32Bits(eps), table, idx, exc, counts, 0, b, CHUNK_ROWS, 0, 0], splitAt: 15, units: chunks }]);
  addForwardExceptions(buf, rows, counts, exc, b, g, chunks, x, theta);
  const rowsV = new Float64Array(buf, rows, b);
  for (let r = 0; r < b; r++) out[r] = rowsV[r]!;
  logT.set(pool.view(lt, b * g));
  return true;
}

/**
 * {@link nbBackwardSimd} on the fused threads: `nbBackwardChunks` on the chunks of
 * {@link nbForwardThreaded}, each chunk's part of dθ summed here in chunk order, then the counts
 * outside the table. Returns false where it does not apply.
 */
function nbBackwardThreaded(
  x: Float32Array, mu: Float32Array, theta: Float32Array, logT: Float32Array, dy: Float32Array, dMu: Float32Array, dTheta: Float32Array, b: number, g: number, eps: number,
): boolean {
  if (!threadedNbApplies(b, g)) return false;
  nonZeroStats.scans++;
  const pool = fusedThreads();
  const chunks = Math.ceil(b / CHUNK_ROWS);
  pool.reset();
  const [xa, ma, ta, lt, dya, cv, dmu] = [pool.alloc(b * g), pool.alloc(b * g), pool.alloc(g), pool.alloc(b * g), pool.alloc(b), pool.alloc(g), pool.alloc(b * g)];
  const [acc, table, idx, exc, counts] = [pool.alloc(2 * chunks * g), pool.alloc(2 * STRIDE * g), pool.alloc(chunks * g), pool.alloc(b * g), pool.alloc(chunks)];
  pool.write(xa, x);
  pool.write(ma, mu);
  pool.write(ta, theta);
  pool.write(lt, logT);
  pool.write(dya, dy);
  const tmp = pool.alloc(g);
  const tmpV = pool.view(tmp, g);
  for (let j = 0; j < g; j++) tmpV[j] = theta[j]! + eps;
  pool.call('logF32', tmp, cv, g);
  const c = pool.view(cv, g);
  for (let j = 0; j < g; j++) {
    const th = theta[j]!;
    c[j] = c[j]! + th / (th + eps);
  }
  const buf = pool.memory.buffer;
  digammaDiffTable(theta, g, new Float64Array(buf, table, g * STRIDE));
  pool.run([{ kernel: 'nbBackwardChunks', args: [xa, ma, ta, cv, lt, dya, dmu, acc, g, f32Bits(eps), table, idx, exc, counts, 0, b, CHUNK_ROWS, 0, 0], splitAt: 17, units: chunks }]);
  const sum = thetaGradSum(buf, acc, counts, exc, b, g, chunks, x, theta, dy);
  for (let j = 0; j < g; j++) dTheta[j] = sum[j]!;
  dMu.set(pool.view(dmu, b * g));
  return true;
}

/**
 * {@link nbBackwardRows} with the SIMD kernels: dμ and the μ-dependent part of dθ in `nbBackward`,
 * then dy·(ψ(x+θ) − ψ(θ)) over each row's non-zeros here. Returns false where the kernels cannot run.
 */
function nbBackwardSimd(
  x: Float32Array, mu: Float32Array, theta: Float32Array, logT: Float32Array, dy: Float32Array,
  dMu: Float32Array, dTheta: Float32Array, b: number, g: number, eps: number, scratch: readonly Float32Array[], nz: Float32Array | null,
): boolean {
  const [c, sums, idxF, tableF, excF] = scratch as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  const views = [x, mu, theta, logT, dy, dMu, dTheta, c, sums, idxF, tableF, excF];
  if (nz) views.push(nz);
  const k = g >= 4 && sums.byteOffset % 8 === 0 && tableF.byteOffset % 8 === 0 ? simdKernelsFor(views) : null;
  if (!k) return false;
  if (!nz) nonZeroStats.scans++;
  logThetaEps(k, theta, eps, g, sums, c);
  for (let j = 0; j < g; j++) {
    const th = theta[j]!;
    c[j] = c[j]! + th / (th + eps);
  }
  k.nbBackward(x.byteOffset, mu.byteOffset, theta.byteOffset, c.byteOffset, logT.byteOffset, dy.byteOffset, dMu.byteOffset, sums.byteOffset, b, g, eps);
  // dy·(ψ(x+θ) − ψ(θ)) over the non-zero counts: from the table in `nbCountGrads`, the rest here
  const acc = new Float64Array(sums.buffer, sums.byteOffset, g);
  const table = digammaDiffTable(theta, g, new Float64Array(tableF.buffer, tableF.byteOffset, g * STRIDE));
  const m = k.nbCountGrads(x.byteOffset, table.byteOffset, dy.byteOffset, sums.byteOffset, idxF.byteOffset, excF.byteOffset, b, g, nz ? nz.byteOffset : 0, b, 0);
  const exc = new Int32Array(excF.buffer, excF.byteOffset, m);
  for (let t = 0; t < m; t++) {
    const e = exc[t]!;
    const j = e % g;
    acc[j] += dy[Math.floor(e / g)]! * digammaDiff(x[e]!, theta[j]!);
  }
  for (let j = 0; j < g; j++) dTheta[j] = acc[j]!;
  return true;
}

/**
 * Forward pass on row-major `[b, g]` arrays: `out[r]` = Σ_j log NB(x; μ, θ), accumulated in double
 * precision from logarithms of θ+μ+ε and μ+ε rounded to float32 (as in the elementwise float32
 * formula; see `log-f32`), and `logT` = ln(θ+μ+ε) per element (kept for the gradient pass). Every
 * element pays one logarithm; the count terms are evaluated on the non-zero counts only (listed per
 * row without a branch), with lnΓ(x+θ) − lnΓ(θ) from a per-gene table of cumulative ln(θ+k) for
 * small integer counts. `csr`: the counts' non-zeros (packed words, see `counts-csr`) when known, else they are found here.
 */
export function nbForwardRows(x: Float32Array, mu: Float32Array, theta: Float32Array, out: Float32Array, logT: Float32Array, b: number, g: number, eps: number, csr: Int32Array | null = null): void {
  const logTheta = new Float64Array(g);
  // the same float32 rounding as ln(θ+μ+ε): exactly 0 difference where μ = 0
  for (let j = 0; j < g; j++) logTheta[j] = logF32(theta[j]! + eps);
  const ratio = lgammaRatioTable(theta, g); // [j, x] = lnΓ(x+θ_j) − lnΓ(θ_j)
  const nz = new Int32Array(g);
  const logTRow = new Float64Array(g);
  const logTBits = new Int32Array(logT.buffer, logT.byteOffset, logT.length);
  for (let r = 0; r < b; r++) {
    const base = r * g;
    let s = 0;
    let n = 0;
    for (let j = 0; j < g; j++) {
      const th = theta[j]!;
      // ln of θ+μ+ε rounded to float32 (as the elementwise float32 formula), from its bits
      const t = th + mu[base + j]! + eps;
      logT[base + j] = t;
      const lt = logFromFloat32Bits(logTBits[base + j]!, t);
      logT[base + j] = lt;
      logTRow[j] = lt;
      s += th * (logTheta[j]! - lt);
      if (!csr) {
        nz[n] = j;
        n += nonZero(x[base + j]!);
      }
    }
    const list = csr ?? nz;
    const [from, to] = csr ? [b + 1 + csr[r]!, b + 1 + csr[r + 1]!] : [0, n];
    for (let k = from; k < to; k++) {
      const j = list[k]!;
      const xv = x[base + j]!;
      const logM = logF32(mu[base + j]! + eps);
      const xi = xv | 0;
      if (xi === xv && xi > 0 && xi <= TABLE_COUNTS) s += xv * (logM - logTRow[j]!) + ratio[j * STRIDE + xi]! - LOG_FACTORIAL_SMALL[xi]!;
      else s += xv * (logM - logTRow[j]!) + lgammaRatio(xv, theta[j]!) - logFactorial(xv);
    }
    out[r] = s;
  }
}

/**
 * Gradient pass on row-major `[b, g]` arrays, given the upstream gradient `dy` `[b]` and `logT` from
 * {@link nbForwardRows}: dMu = dy·(x/(μ+ε) − (θ+x)/(θ+μ+ε)) and
 * dTheta = Σ_rows dy·(ln(θ+ε) + θ/(θ+ε) − ln(θ+μ+ε) − (θ+x)/(θ+μ+ε) + ψ(x+θ) − ψ(θ)), accumulated in
 * double precision; x/(μ+ε) and the digamma difference (from a per-gene table of cumulative
 * 1/(θ+k) for small integer counts) on the non-zero counts only (`csr` as in {@link nbForwardRows}).
 */
export function nbBackwardRows(
  x: Float32Array,
  mu: Float32Array,
  theta: Float32Array,
  logT: Float32Array,
  dy: Float32Array,
  dMu: Float32Array,
  dTheta: Float32Array,
  b: number,
  g: number,
  eps: number,
  csr: Int32Array | null = null,
): void {
  const c = new Float64Array(g); // ∂/∂θ of θ ln(θ+ε)
  for (let j = 0; j < g; j++) c[j] = logF32(theta[j]! + eps) + theta[j]! / (theta[j]! + eps);
  const psi = digammaDiffTable(theta, g); // [j, x] = ψ(x+θ_j) − ψ(θ_j)
  const acc = new Float64Array(g);
  const nz = new Int32Array(g);
  for (let r = 0; r < b; r++) {
    const d = dy[r]!;
    const base = r * g;
    let n = 0;
    for (let j = 0; j < g; j++) {
      const th = theta[j]!;
      const xv = x[base + j]!;
      const q = (th + xv) / (th + mu[base + j]! + eps);
      dMu[base + j] = -d * q;
      acc[j] = acc[j]! + d * (c[j]! - logT[base + j]! - q);
      if (!csr) {
        nz[n] = j;
        n += nonZero(xv);
      }
    }
    const list = csr ?? nz;
    const [from, to] = csr ? [b + 1 + csr[r]!, b + 1 + csr[r + 1]!] : [0, n];
    for (let k = from; k < to; k++) {
      const j = list[k]!;
      const xv = x[base + j]!;
      const xi = xv | 0;
      const dpsi = xi === xv && xi > 0 && xi <= TABLE_COUNTS ? psi[j * STRIDE + xi]! : digammaDiff(xv, theta[j]!);
      dMu[base + j] = dMu[base + j]! + d * (xv / (mu[base + j]! + eps));
      acc[j] = acc[j]! + d * dpsi;
    }
  }
  for (let j = 0; j < g; j++) dTheta[j] = acc[j]!;
}

type Kernel = ReturnType<typeof defineJsKernel>;
let kernelSet: { forward: [Kernel, Kernel]; backward: [Kernel, Kernel] } | null = null;

/** The kernels without (index 0) and with (index 1) the counts' non-zeros as a last input `nz` (packed CSR, see `counts-csr`). */
function kernels() {
  if (!kernelSet) {
    const forward = (withCsr: boolean) =>
      defineJsKernel({
        name: withCsr ? 'InvaeNbLogLikCsr' : 'InvaeNbLogLik',
        inputs: withCsr ? ['x', 'mu', 'theta', 'nz'] : ['x', 'mu', 'theta'],
        // per-cell values, and ln(θ+μ+ε) per element for the gradient pass
        outputShapes: ([x]) => [[x![0]!], [x![0]!, x![1]!]],
        scratch: ([x]) => nbScratch(x![0]!, x![1]!),
        body: ([x, mu, theta, nz], [out, logT], [xShape], { eps }, scratch) => {
          const [b, g] = [xShape![0]!, xShape![1]!];
          if (nbForwardThreaded(x!, mu!, theta!, out!, logT!, b, g, eps!)) return;
          if (nbForwardSimd(x!, mu!, theta!, out!, logT!, b, g, eps!, scratch, nz ?? null)) return;
          if (!nz) nonZeroStats.scans++;
          nbForwardRows(x!, mu!, theta!, out!, logT!, b, g, eps!, nz ? csrWords(nz) : null);
        },
      });
    const backward = (withCsr: boolean) =>
      defineJsKernel({
        name: withCsr ? 'InvaeNbLogLikGradCsr' : 'InvaeNbLogLikGrad',
        inputs: withCsr ? ['x', 'mu', 'theta', 'logT', 'dy', 'nz'] : ['x', 'mu', 'theta', 'logT', 'dy'],
        outputShapes: ([x]) => [[x![0]!, x![1]!], [x![1]!]],
        scratch: ([x]) => nbScratch(x![0]!, x![1]!),
        body: ([x, mu, theta, logT, dy, nz], [dMu, dTheta], [xShape], { eps }, scratch) => {
          const [b, g] = [xShape![0]!, xShape![1]!];
          if (nbBackwardThreaded(x!, mu!, theta!, logT!, dy!, dMu!, dTheta!, b, g, eps!)) return;
          if (nbBackwardSimd(x!, mu!, theta!, logT!, dy!, dMu!, dTheta!, b, g, eps!, scratch, nz ?? null)) return;
          if (!nz) nonZeroStats.scans++;
          nbBackwardRows(x!, mu!, theta!, logT!, dy!, dMu!, dTheta!, b, g, eps!, nz ? csrWords(nz) : null);
        },
      });
    kernelSet = { forward: [forward(false), forward(true)], backward: [backward(false), backward(true)] };
  }
  return kernelSet;
}

/**
 * Whether {@link logNbFused} can evaluate these arguments: a JavaScript-kernel backend (wasm, cpu),
 * `x` and `mu` of the same shape `[cells, genes]` and `theta` of shape `[genes]`.
 */
export function nbFusedApplies(x: tf.Tensor, mu: tf.Tensor, theta: tf.Tensor): boolean {
  return (
    jsKernelsAvailable() &&
    x.rank === 2 &&
    mu.rank === 2 &&
    theta.rank === 1 &&
    x.shape[0] === mu.shape[0] &&
    x.shape[1] === mu.shape[1] &&
    theta.shape[0] === x.shape[1] &&
    mu.dtype === 'float32' &&
    theta.dtype === 'float32'
  );
}

/**
 * Per-cell NB log-likelihood Σ_genes log NB(x; μ, θ) `[cells]`, the same formula as
 * `logNbPositive` (see there) evaluated by JavaScript kernels (double-precision sums; the logarithms
 * of θ+μ+ε and μ+ε taken of their float32 values, as the float32 formula does), with its gradients
 * with respect to `mu` and `theta` written out: ∂/∂μ = x/(μ+ε) − (θ+x)/(θ+μ+ε),
 * ∂/∂θ = ln(θ+ε) + θ/(θ+ε) − ln(θ+μ+ε) − (θ+x)/(θ+μ+ε) + ψ(x+θ) − ψ(θ). Counts `x` are data: no
 * gradient reaches them. Call only where {@link nbFusedApplies}.
 */
export function logNbFused(x: tf.Tensor2D, mu: tf.Tensor2D, theta: tf.Tensor1D, eps: number): tf.Tensor1D {
  const k = kernels();
  const xf = x.dtype === 'float32' ? x : (tf.cast(x, 'float32') as tf.Tensor2D);
  // the counts' non-zeros when known (a minibatch's; alive until its gradient step is done)
  const known = xf === x ? knownNonZeros(x) : undefined;
  const nz = known && known.csrCols === x.shape[1] ? [known.csr.packed] : [];
  const which = nz.length;
  const f = tf.customGrad(((m: tf.Tensor2D, th: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const [value, logT] = k.forward[which]!([xf, m, th, ...nz], { eps });
    save([xf, m, th, logT!]);
    return {
      value: value!,
      gradFunc: (dy: tf.Tensor1D, saved: tf.Tensor[]) => {
        const [xs, ms, ts, lt] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D];
        const dyf = dy.dtype === 'float32' ? dy : tf.cast(dy, 'float32');
        const [dMu, dTheta] = k.backward[which]!([xs, ms, ts, lt, dyf, ...nz], { eps });
        return [dMu!, dTheta!];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (m: tf.Tensor2D, th: tf.Tensor1D) => tf.Tensor1D;
  const out = f(mu, theta);
  if (xf !== x) xf.dispose();
  return out;
}

