/**
 * Natural logarithm of a float32 value given its bit pattern, about twice as fast as `Math.log` in
 * V8 (no call into the C library): ln x = e·ln 2 + ln m₀ + ln(1 + r), with the exponent e and the
 * mantissa m read from the bits, m₀ the centre of one of 256 mantissa bins (tabulated ln m₀ and 1/m₀)
 * and r = (m − m₀)/m₀, |r| < 2⁻⁹, whose log1p comes from its series to r⁴ (remainder below 7e-15).
 * The result is the logarithm of the float32 value to ~1e-14 relative (the rounding of the argument
 * to float32, ≤ 6e-8 relative, is the caller's choice). Zero, negative, subnormal, infinite and NaN
 * inputs go to `Math.log`.
 */
const BINS = 256;
const M0 = new Float64Array(BINS);
const INV_M0 = new Float64Array(BINS);
const LOG_M0 = new Float64Array(BINS);
for (let k = 0; k < BINS; k++) {
  const m0 = 1 + (k + 0.5) / BINS;
  M0[k] = m0;
  INV_M0[k] = 1 / m0;
  LOG_M0[k] = Math.log(m0);
}

/** 2⁻²³: the weight of the last mantissa bit of a float32 in [1, 2). */
const MANTISSA_ULP = 1.1920928955078125e-7;

/**
 * ln of the float32 whose bits are `bits` (an Int32Array element); `value` is that number, used
 * only outside the positive normal range. See the module comment.
 */
export function logFromFloat32Bits(bits: number, value: number): number {
  // positive normal numbers only: 0x00800000 ≤ bits < 0x7f800000
  if (bits < 0x00800000 || bits >= 0x7f800000) return Math.log(value);
  const mant = bits & 0x7fffff;
  const k = mant >>> 15;
  const r = (1 + mant * MANTISSA_ULP - M0[k]!) * INV_M0[k]!;
  return ((bits >>> 23) - 127) * Math.LN2 + LOG_M0[k]! + r * (1 - r * (0.5 - r * (1 / 3 - r * 0.25)));
}

const scratchF = new Float32Array(1);
const scratchI = new Int32Array(scratchF.buffer);

/** ln of `x` rounded to float32 (see {@link logFromFloat32Bits}). */
export function logF32(x: number): number {
  scratchF[0] = x;
  return logFromFloat32Bits(scratchI[0]!, scratchF[0]!);
}
