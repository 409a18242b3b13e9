import { tf } from '../tf';
import { defineJsKernel, jsKernelsAvailable } from './js-kernel';
import { simdKernelsFor } from '../wasm/kernels';

// [log1p(x) | u] and Σx per row in one pass over x: a SIMD kernel on the wasm engine, else
// JavaScript evaluating log1p on the non-zero counts only (from a table for integer counts).

/** log1p(k) for integer counts below 4096 (counts are integers in nearly all data: no transcendental call). */
const LOG1P_TABLE = Float64Array.from({ length: 4096 }, (_, k) => Math.log1p(k));

function fill(x: Float32Array, u: Float32Array | null, out: Float32Array, library: Float32Array, b: number, g: number, c: number): void {
  const k = simdKernelsFor(u ? [x, u, out, library] : [x, out, library]);
  if (k) {
    // one SIMD pass on the engine's memory (groups of four zeros skip the logarithm)
    k.log1pInput(x.byteOffset, u ? u.byteOffset : 0, out.byteOffset, library.byteOffset, b, g, c);
    return;
  }
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

let plain: ReturnType<typeof defineJsKernel> | null = null;
let withCovariates: ReturnType<typeof defineJsKernel> | null = null;

function kernels() {
  if (!plain) {
    plain = defineJsKernel({
      name: 'InvaeLog1pInput',
      inputs: ['x'],
      outputShapes: ([x]) => [[x![0]!, x![1]!], [x![0]!, 1]],
      body: ([x], [out, lib], [xs]) => fill(x!, null, out!, lib!, xs![0]!, xs![1]!, 0),
    });
    withCovariates = defineJsKernel({
      name: 'InvaeLog1pInputConcat',
      inputs: ['x', 'u'],
      outputShapes: ([x, u]) => [[x![0]!, x![1]! + u![1]!], [x![0]!, 1]],
      body: ([x, u], [out, lib], [xs, us]) => fill(x!, u!, out!, lib!, xs![0]!, xs![1]!, us![1]!),
    });
  }
  return { plain: plain, withCovariates: withCovariates! };
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
    const [input, library] = cov ? k.withCovariates([x, cov]) : k.plain([x]);
    return { input: input as tf.Tensor2D, library: library as tf.Tensor2D };
  }
  return tf.tidy(() => {
    const l = tf.log1p(x) as tf.Tensor2D;
    return { input: cov ? (tf.concat([l, cov], 1) as tf.Tensor2D) : l, library: tf.sum(x, -1, true) as tf.Tensor2D };
  });
}
