import { setFlagsFromString } from 'node:v8';

/**
 * Whether invae's WebAssembly kernels use relaxed SIMD's fused multiply-add (`f32x4.relaxed_madd`)
 * in their products (dense and sparse layers, the decoder's output layer): one rounding per
 * multiply-add instead of two, and ~20% faster products where the CPU has FMA.
 *
 * Node 22 and later accept relaxed SIMD as they are; on Node 20 it sits behind V8's
 * `--experimental-wasm-relaxed-simd`, which this switches on (once, before the first kernels are
 * compiled). `INVAE_RELAXED_SIMD=0` in the environment keeps the plain kernels (a multiply and an
 * add, the bits of earlier versions). Either way every thread of a process uses the same kernels,
 * so results still do not depend on the thread count; they may differ in the last bits between
 * the two settings, or between CPUs with and without FMA.
 */
export function relaxedSimd(): boolean {
  if (state === undefined) state = relaxedSimdFor(typeof process !== 'undefined' ? process.env : {});
  return state;
}

let state: boolean | undefined;

/** A module of one function that uses `f32x4.relaxed_madd` (valid only where relaxed SIMD is on). */
const PROBE = Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11);

interface WasmValidate {
  validate(bytes: Uint8Array): boolean;
}

/** The choice of {@link relaxedSimd} for the environment `env` (switching V8's flag on where needed). */
export function relaxedSimdFor(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.INVAE_RELAXED_SIMD === '0') return false;
  const WA = (globalThis as unknown as { WebAssembly?: WasmValidate }).WebAssembly;
  if (!WA) return false;
  try {
    if (WA.validate(PROBE)) return true;
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    return WA.validate(PROBE);
  } catch {
    return false;
  }
}
