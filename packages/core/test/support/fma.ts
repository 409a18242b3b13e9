import { readFileSync } from 'node:fs';

/** Whether this CPU has fused multiply-add (the x86 `fma` flag, or any 64-bit Arm); null where unknown. */
export function cpuHasFma(): boolean | null {
  if (process.arch === 'arm64') return true;
  try {
    return /^flags\s*:.*\bfma\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return null;
  }
}

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/** The float32 next to float32 `x` (finite, non-zero) in the direction of `toward`. */
function nextFloat32(x: number, toward: number): number {
  f32[0] = x;
  i32[0]! += (toward > x) === (x > 0) ? 1 : -1;
  return f32[0]!;
}

/**
 * a·b + c rounded once to float32 (a fused multiply-add) for float32 a, b, c: the product is exact in
 * float64, the sum is held exactly as s + err (two-sum), and s's rounding to float32 is corrected
 * where s falls exactly halfway between two float32 values.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const v = s - p;
  const err = p - (s - v) + (c - v);
  const r = Math.fround(s);
  if (err === 0 || r === s || r === 0) return r;
  const other = nextFloat32(r, s);
  if ((r + other) / 2 !== s) return r;
  // s is a tie, rounded to even; the exact sum lies on err's side of it
  return err > 0 === other > r ? other : r;
}
