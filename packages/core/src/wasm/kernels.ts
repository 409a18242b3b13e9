import { tf } from '../tf';
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from './kernels-binary';
import { relaxedSimd } from './relaxed-simd';

/** The parts of the WebAssembly JS API used here (the project's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
type WasmModule = object;
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
  Memory: abstract new (...args: never[]) => WasmMemory;
}
const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * invae's WebAssembly SIMD kernels (`kernels.wat`), instantiated on the tfjs wasm engine's own
 * memory so that they read and write tensors in place. Every pointer is a byte offset into that
 * memory (a heap view's `byteOffset`), every size a count of elements.
 */
export interface SimdKernels {
  /** The engine memory the kernels run on. */
  readonly memory: WasmMemory;
  /** ln of n ≥ 4 float32 values from src into dst (distinct buffers: the last group may overlap). */
  logF32(src: number, dst: number, n: number): void;
  /** The NB term θ(ln(θ+ε) − ln(θ+μ+ε)) summed per row (f64 [b]) and ln(θ+μ+ε) (f32 [b, g]); g ≥ 4; `x` unread. See kernels.wat. */
  nbForward(x: number, mu: number, theta: number, lte: number, logT: number, rows: number, b: number, g: number, eps: number): void;
  /** dμ (f32 [b, g]) and the μ-dependent part of dθ (f64 [g]); g ≥ 4. See kernels.wat. */
  nbBackward(x: number, mu: number, theta: number, c: number, logT: number, dy: number, dmu: number, acc: number, b: number, g: number, eps: number): void;
  /**
   * Adds each row's non-zero counts' x(ln(μ+ε) − ln(θ+μ+ε)) (μ, and `logT` as nbForward wrote it), then the table's count terms of its
   * integer counts 1…16, to `rows` (f64); other non-zeros' flat indices to `exc`; returns their number.
   * `csr`: the counts' non-zeros from {@link SimdKernels.buildCsr} (or 0: each row is scanned), a pattern of `csrRows` rows
   * of which these `b` are rows `r0` … `r0 + b − 1`.
   */
  nbCountTerms(x: number, mu: number, logT: number, eps: number, table: number, rows: number, idx: number, exc: number, b: number, g: number, csr: number, csrRows: number, r0: number): number;
  /** Adds dy·table over each row's non-zero integer counts 1…16 to `acc[j]` (f64); other non-zeros' flat indices to `exc`; returns their number. `csr` as in nbCountTerms. */
  nbCountGrads(x: number, table: number, dy: number, acc: number, idx: number, exc: number, b: number, g: number, csr: number, csrRows: number, r0: number): number;
  /**
   * The non-zeros of `x` (f32 [rows, cols]) into `out` (i32 [rows + 1 + rows·cols]): row offsets, then
   * each row's column indices; returns their number. The `csr` argument of the other kernels.
   */
  buildCsr(x: number, rows: number, cols: number, out: number): number;
  /** Number of non-zeros among n float32 values. */
  countNonZero(src: number, n: number): number;
  /**
   * out = x · Wᵀ + b over the non-zeros of x, Wᵀ given `[in, n]`; idx: i32 [in] scratch; `csr` (or 0)
   * lists the non-zeros of x's first `csrCols` columns (see {@link SimdKernels.buildCsr}), the rest are scanned.
   */
  sparseAffine(x: number, rows: number, inDim: number, wt: number, bias: number, out: number, n: number, idx: number, csr: number, csrCols: number): void;
  /** dWᵀ `[in, n]` and db `[n]` of sparseAffine from dy `[rows, n]`; idx: i32 [in] scratch; `csr`, `csrCols` as in sparseAffine. */
  sparseAffineGrad(x: number, rows: number, inDim: number, dy: number, n: number, dwt: number, db: number, idx: number, csr: number, csrCols: number): void;
  /**
   * Dense counts `x` `[rows, cols]` and their non-zeros (`out`, as buildCsr) from the stored entries of a minibatch's rows
   * (`starts` i32 [rows + 1], `cols` i32, `vals` f32); returns the number of non-zeros, or −1 for a column index out of range (see kernels.wat).
   */
  csrRowsDense(vals: number, cols: number, starts: number, rows: number, nCols: number, x: number, out: number): number;
  /**
   * `[log1p(x) | u]` `[b, g + c]` and Σx per row `[b]` for counts `[b, g]` and covariates `[b, c]`; `csr`: the counts' non-zeros or 0;
   * `table`: with `csr`, this kernel's own log1p of 0, 1, …, 4095 (f32 [4096]) for integer counts, or 0 (see kernels.wat).
   */
  log1pInput(x: number, u: number, out: number, lib: number, b: number, g: number, c: number, csr: number, table: number): void;
  /** One Adam step on n float32 values (see kernels.wat); an output may be its own input (each element is read before it is written). */
  adam(p: number, g: number, m: number, v: number, pOut: number, mOut: number, vOut: number, n: number, beta1: number, beta2: number, weightDecay: number, epsilon: number, bc2Sqrt: number, stepSize: number): void;
  /** dst `[cols, rows]` = transpose of src `[rows, cols]` (f32). */
  transpose(src: number, rows: number, cols: number, dst: number): void;
  /** Training-mode BatchNorm of x `[n, c]` (c even): out, x̂ `[n, c]`, mean, var, inv `[c]`, as `nn/batchnorm-kernels`' JavaScript kernel bit for bit. */
  batchNormForward(x: number, n: number, c: number, gamma: number, beta: number, eps: number, out: number, xhat: number, mean: number, variance: number, inv: number): void;
  /** Dropout multiplier for n values (see kernels.wat): `value` where element i's splitmix32 draw of `seed` exceeds `threshold` = floor(rate·2³²) (as int32), else 0. */
  dropoutMask(out: number, n: number, seed: number, threshold: number, value: number): void;
  /** out = act(y)·mask over n values (act 0 none, 1 relu, 2 lrelu with the float32 slope; no mask with hasMask 0), as `nn/batchnorm-kernels`' activateInto. */
  activateMask(y: number, mask: number, out: number, n: number, act: number, slope: number, hasMask: number): void;
  /** Its gradient dy from d out, y and the mask, as `nn/batchnorm-kernels`' activationGradInto. */
  activationGrad(dout: number, y: number, mask: number, dy: number, n: number, act: number, slope: number, hasMask: number): void;
  /**
   * C = A · B (+ bias) for rows r0 ≤ i < r1 and panels jb0 ≤ jb < jb1 of 8 columns; A(i, p) at a + 4(i·si + p·sp),
   * B packed by packPanels, C rows ldc apart (see kernels.wat). Every element a float32 sum over p in order.
   */
  gemm(a: number, si: number, sp: number, packed: number, c: number, ldc: number, bias: number, n: number, k: number, r0: number, r1: number, jb0: number, jb1: number): void;
  /** Packs panels jb0 ≤ jb < jb1 of B [k, n] (B[p, j] at src + 4(p·sp + j·sj)) for gemm at dst. */
  packPanels(src: number, sp: number, sj: number, k: number, n: number, dst: number, jb0: number, jb1: number): void;
  /** out[j] = Σ_{i<m} A[i, j] (rows in order) for c0 ≤ j < c1, A's rows ld apart. */
  colSums(a: number, ld: number, m: number, out: number, c0: number, c1: number): void;
  /** Its gradient: dx `[n, c]`, dγ, dβ `[c]` from dy and x̂ (c even), as the JavaScript kernel bit for bit. */
  batchNormBackward(dy: number, xhat: number, inv: number, gamma: number, n: number, c: number, dx: number, dGamma: number, dBeta: number): void;
}

let compiled: WasmModule | null | undefined;

function decodeBase64(b64: string): Uint8Array {
  if (typeof Buffer !== 'undefined') return Buffer.from(b64, 'base64');
  return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
}
const instances = new WeakMap<WasmMemory, SimdKernels>();

function compile(): WasmModule | null {
  if (compiled === undefined) {
    try {
      if (!WA) throw new Error('no WebAssembly');
      compiled = new WA.Module(decodeBase64(relaxedSimd() ? KERNELS_RELAXED_WASM_BASE64 : KERNELS_WASM_BASE64));
    } catch {
      compiled = null; // no SIMD in this runtime: the JavaScript kernels run instead
    }
  }
  return compiled ?? null;
}

/** Whether the kernels may run at all (switched off by `INVAE_SIMD=0` or {@link setSimdKernelsEnabled}). */
let enabled = typeof process === 'undefined' || process.env?.INVAE_SIMD !== '0';

/** Switches the SIMD kernels on or off (A/B timing, tests); the JavaScript kernels run when off. */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on;
}

interface WasmBackendLike {
  wasm?: { asm?: { memory?: unknown } };
}

/** The memory of the active tfjs backend when it is the (single-threaded) wasm engine. */
function engineMemory(): WasmMemory | null {
  if (tf.getBackend() !== 'wasm') return null;
  const mem = (tf.backend() as unknown as WasmBackendLike).wasm?.asm?.memory;
  if (!WA || !(mem instanceof WA.Memory)) return null;
  // the threaded engine build shares its memory; the kernels import an unshared one
  if (typeof SharedArrayBuffer !== 'undefined' && (mem.buffer as unknown) instanceof SharedArrayBuffer) return null;
  return mem;
}

/**
 * The kernels on the active engine's memory, or null where they cannot run (another engine, a
 * threaded wasm build, no WebAssembly SIMD, or switched off): callers then use their JavaScript kernels.
 */
export function simdKernels(): SimdKernels | null {
  if (!enabled) return null;
  const memory = engineMemory();
  if (!memory) return null;
  let k = instances.get(memory);
  if (!k) {
    const mod = compile();
    if (!mod) return null;
    const exports = new WA!.Instance(mod, { env: { memory } }).exports as unknown as Omit<SimdKernels, 'memory'>;
    k = { ...exports, memory } as SimdKernels;
    instances.set(memory, k);
  }
  return k;
}

interface WasmDataLike {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

/** Byte offset of tensor `t`'s values in the wasm engine's memory, or null on another engine. */
export function engineOffset(t: tf.Tensor): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  const d = (tf.backend() as unknown as WasmDataLike).dataIdMap.get(t.dataId);
  return d ? d.memoryOffset : null;
}

/**
 * A view of a float32 tensor's values in the wasm engine's memory (valid until the engine next
 * allocates: its memory may grow), or null on another engine.
 */
export function engineView(t: tf.Tensor): Float32Array | null {
  const off = engineOffset(t);
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
  return off !== null && heap ? new Float32Array(heap.buffer, off, t.size) : null;
}

/** A float32 tensor's values: {@link engineView} where it is the wasm engine, else a copy. */
export function engineValues(t: tf.Tensor): Float32Array {
  return engineView(t) ?? (t.dataSync() as Float32Array);
}

/**
 * Byte offset of tensor `t`'s values in the wasm engine's memory when `t` is their only holder (no
 * other tensor shares them: an update may write them in place), else null.
 */
export function soleOffset(t: tf.Tensor): number | null {
  const off = engineOffset(t);
  const backend = tf.backend() as unknown as { refCount?(dataId: object): number };
  return off !== null && backend.refCount?.(t.dataId) === 1 ? off : null;
}

interface WasmEngineInternals {
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined };
  wasm?: { tfjs?: { disposeData(id: number): void; registerTensor(id: number, size: number, memoryOffset: number): void } };
}

/**
 * Call after writing tensor `t`'s values in place in the wasm engine's memory: the engine drops what
 * it derived from the old values (it packs a product's weight operand once per tensor and keeps the
 * packed copy while the tensor lives) by unregistering and re-registering the tensor's data (same
 * memory), so later kernels read the new values. Nothing to do on another engine.
 */
export function dataWrittenInPlace(t: tf.Tensor): void {
  if (tf.getBackend() !== 'wasm') return;
  const b = tf.backend() as unknown as WasmEngineInternals;
  const d = b.dataIdMap.get(t.dataId);
  const api = b.wasm?.tfjs;
  if (!d || !api) return;
  api.disposeData(d.id);
  api.registerTensor(d.id, t.size, d.memoryOffset);
}

/**
 * The kernels when every view lies on their memory (heap views of the wasm engine), else null.
 * `f64` views must additionally be 8-byte aligned.
 */
export function simdKernelsFor(views: readonly ArrayBufferView[]): SimdKernels | null {
  const k = simdKernels();
  if (!k) return null;
  const buf = k.memory.buffer;
  for (const v of views) if (v.buffer !== buf) return null;
  return k;
}
