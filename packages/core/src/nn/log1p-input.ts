import { tf } from '../tf';
import { defineJsKernel, jsKernelsAvailable } from './js-kernel';
import { engineOffset, simdKernels, simdKernelsFor } from '../wasm/kernels';
import { fastPaths } from './fast-paths';
import { csrWords, knownNonZeros, nonZeroStats, setKnownNonZeros } from './counts-csr';

// [log1p(x) | u] and Σx per row in one pass over x: a SIMD kernel on the wasm engine, else
// JavaScript evaluating log1p on the non-zero counts only (from a table for integer counts).

/** log1p(k) for integer counts below 4096 (counts are integers in nearly all data: no transcendental call). */
const LOG1P_TABLE = Float64Array.from({ length: 4096 }, (_, k) => Math.log1p(k));

function log1pCount(v: number): number {
  const k = v | 0;
  return k === v && k >>> 12 === 0 ? LOG1P_TABLE[k]! : Math.log1p(v);
}

/**
 * `fill` from the counts' non-zeros (`nz`: packed CSR words, see `counts-csr`): each row's outputs
 * zeroed, then log1p of the listed counts; Σx over them.
 */
function fillFromCsr(x: Float32Array, u: Float32Array | null, out: Float32Array, library: Float32Array, b: number, g: number, c: number, nz: Int32Array): void {
  const w = g + c;
  const cols = b + 1;
  for (let r = 0; r < b; r++) {
    const xb = r * g;
    const ob = r * w;
    out.fill(0, ob, ob + g);
    let s = 0;
    for (let t = nz[r]!; t < nz[r + 1]!; t++) {
      const j = nz[cols + t]!;
      const v = x[xb + j]!;
      out[ob + j] = log1pCount(v);
      s += v;
    }
    for (let k = 0; k < c; k++) out[ob + g + k] = u![r * c + k]!;
    library[r] = s;
  }
}

function fill(x: Float32Array, u: Float32Array | null, out: Float32Array, library: Float32Array, b: number, g: number, c: number, nz: Float32Array | null, table: Float32Array | null = null): void {
  const views = [x, out, library];
  if (u) views.push(u);
  if (nz) views.push(nz);
  if (table) views.push(table);
  const k = simdKernelsFor(views);
  if (k) {
    // one SIMD pass on the engine's memory (groups of four zeros skip the logarithm), or over the
    // known non-zeros (groups of four integer counts below 4096 from the table)
    if (!nz) nonZeroStats.scans++;
    const t = table ? table.byteOffset : 0;
    k.log1pInput(x.byteOffset, u ? u.byteOffset : 0, out.byteOffset, library.byteOffset, b, g, c, nz ? nz.byteOffset : 0, t);
    return;
  }
  if (nz) return fillFromCsr(x, u, out, library, b, g, c, csrWords(nz));
  nonZeroStats.scans++;
  const w = g + c;
  for (let r = 0; r < b; r++) {
    const xb = r * g;
    const ob = r * w;
    let s = 0;
    for (let j = 0; j < g; j++) {
      const v = x[xb + j]!;
      const k = v | 0;
      // one well-predicted branch: zeros and integer counts both come from the table
      out[ob + j] = k === v && k >>> 12 === 0 ? LOG1P_TABLE[k]! : Math.log1p(v);
      s += v;
    }
    for (let k = 0; k < c; k++) out[ob + g + k] = u![r * c + k]!;
    library[r] = s;
  }
}

type Kernel = ReturnType<typeof defineJsKernel>;
let kernelSet: { plain: Kernel; withCovariates: Kernel; plainCsr: Kernel; withCovariatesCsr: Kernel } | null = null;

/** The kernels, each also with the counts' non-zeros as a last input `nz` (packed CSR, see `counts-csr`). */
function kernels() {
  if (!kernelSet) {
    kernelSet = {
      plain: defineJsKernel({
        name: 'InvaeLog1pInput',
        inputs: ['x'],
        outputShapes: ([x]) => [[x![0]!, x![1]!], [x![0]!, 1]],
        body: ([x], [out, lib], [xs]) => fill(x!, null, out!, lib!, xs![0]!, xs![1]!, 0, null),
      }),
      withCovariates: defineJsKernel({
        name: 'InvaeLog1pInputConcat',
        inputs: ['x', 'u'],
        outputShapes: ([x, u]) => [[x![0]!, x![1]! + u![1]!], [x![0]!, 1]],
        body: ([x, u], [out, lib], [xs, us]) => fill(x!, u!, out!, lib!, xs![0]!, xs![1]!, us![1]!, null),
      }),
      plainCsr: defineJsKernel({
        name: 'InvaeLog1pInputCsr',
        inputs: ['x', 'nz', 'table'],
        outputShapes: ([x]) => [[x![0]!, x![1]!], [x![0]!, 1]],
        body: ([x, nz, table], [out, lib], [xs], { hasTable }) => fill(x!, null, out!, lib!, xs![0]!, xs![1]!, 0, nz!, hasTable ? table! : null),
      }),
      withCovariatesCsr: defineJsKernel({
        name: 'InvaeLog1pInputConcatCsr',
        inputs: ['x', 'u', 'nz', 'table'],
        outputShapes: ([x, u]) => [[x![0]!, x![1]! + u![1]!], [x![0]!, 1]],
        body: ([x, u, nz, table], [out, lib], [xs, us], { hasTable }) => fill(x!, u!, out!, lib!, xs![0]!, xs![1]!, us![1]!, nz!, hasTable ? table! : null),
      }),
    };
  }
  return kernelSet;
}

/** Entries of the SIMD kernel's log1p table: the integer counts 0 … 4095. */
const SIMD_TABLE_SIZE = 4096;

let simdTable: { backend: object; values: tf.Tensor1D } | null = null;

/**
 * log1p of 0, 1, …, 4095 computed by this engine's own dense SIMD kernel (so a lookup gives the bits
 * the kernel would compute), kept for the process and rebuilt after an engine reset or a backend
 * switch; null where the SIMD kernels do not run (the JavaScript pass has its own table).
 */
function log1pTable(): tf.Tensor1D | null {
  if (!fastPaths.log1pTable || !simdKernels()) return null;
  // the engine instance itself: a re-registered engine of the same name has a memory of its own
  const backend = tf.backend() as object;
  if (simdTable && simdTable.backend === backend && !simdTable.values.isDisposed) return simdTable.values;
  const scans = nonZeroStats.scans;
  const values = tf.tidy(() => {
    const counts = tf.range(0, SIMD_TABLE_SIZE, 1, 'float32').reshape([1, SIMD_TABLE_SIZE]);
    return (kernels().plain([counts])[0] as tf.Tensor2D).reshape([SIMD_TABLE_SIZE]) as tf.Tensor1D;
  });
  // not a scan of data (nonZeroStats counts those)
  nonZeroStats.scans = scans;
  simdTable = { backend, values: tf.keep(values) };
  return values;
}

/** Number of non-zeros of a float32 tensor on the wasm engine (covariates: few), or null elsewhere. */
function countNonZeros(t: tf.Tensor): number | null {
  const k = simdKernels();
  const offset = engineOffset(t);
  return k && offset !== null ? k.countNonZero(offset, t.size) : null;
}

/**
 * The encoder input of an NB model, `[log1p(x) | u]` `[B, G + C]`, and the library size Σx per row
 * `[B, 1]`, for counts `x` `[B, G]` and covariates `u` `[B, C]` (or null). Both outputs are data (no
 * gradient). On the wasm and cpu engines one JavaScript pass computes them, with log1p on the
 * non-zero counts only; elsewhere (or with `fused: false`) tensor ops do.
 */
export function log1pInput(x: tf.Tensor2D, u: tf.Tensor2D | null, opts: { fused?: boolean } = {}): { input: tf.Tensor2D; library: tf.Tensor2D } {
  const cov = u && u.shape[1] > 0 ? u : null;
  if (opts.fused !== false && jsKernelsAvailable() && x.dtype === 'float32' && (!cov || cov.dtype === 'float32')) {
    if (cov && cov.shape[0] !== x.shape[0]) throw new Error(`log1pInput: ${x.shape[0]} rows of counts but ${cov.shape[0]} of covariates`);
    const k = kernels();
    // the counts' non-zeros when known (a minibatch's): no scan here, and the input's first layer gets them too
    const known = knownNonZeros(x);
    if (known && known.csrCols === x.shape[1]) {
      const nz = known.csr.packed;
      // the table input is read only with hasTable (else any float32 tensor stands in)
      const table = log1pTable();
      const attrs = { hasTable: table ? 1 : 0 };
      const [input, library] = cov ? k.withCovariatesCsr([x, cov, nz, table ?? nz], attrs) : k.plainCsr([x, nz, table ?? nz], attrs);
      // log1p(v) ≠ 0 exactly where v ≠ 0: the input's non-zeros are the counts' and the covariates'
      const covNonZeros = cov ? countNonZeros(cov) : 0;
      setKnownNonZeros(input!, { csr: known.csr, csrCols: x.shape[1], nnz: known.nnz === null || covNonZeros === null ? null : known.nnz + covNonZeros });
      return { input: input as tf.Tensor2D, library: library as tf.Tensor2D };
    }
    const [input, library] = cov ? k.withCovariates([x, cov]) : k.plain([x]);
    return { input: input as tf.Tensor2D, library: library as tf.Tensor2D };
  }
  return tf.tidy(() => {
    const l = tf.log1p(x) as tf.Tensor2D;
    return { input: cov ? (tf.concat([l, cov], 1) as tf.Tensor2D) : l, library: tf.sum(x, -1, true) as tf.Tensor2D };
  });
}
