/**
 * Scalar special functions in double precision, for the JavaScript kernels that run on the engine's
 * memory (see `../nn/js-kernel`). All take arguments > 0 and return NaN otherwise.
 */

/** ½ ln(2π). */
const HALF_LOG_2PI = 0.91893853320467274178;

/** Below this the arguments are shifted up by the recurrences before the asymptotic series. */
const ASYMPTOTIC_FROM = 10;

/**
 * ln Γ(x) for x > 0: shifted to x ≥ 10 by ln Γ(x) = ln Γ(x + n) − ln(x(x+1)…(x+n−1)), then the
 * Stirling series to the x⁻¹³ term (next term below 3e-17 at x = 10).
 */
export function lgamma64(x: number): number {
  if (!(x > 0)) return NaN;
  if (x === Infinity) return Infinity;
  let shift = 0;
  if (x < ASYMPTOTIC_FROM) {
    let p = 1;
    while (x < ASYMPTOTIC_FROM) {
      p *= x;
      x += 1;
    }
    shift = Math.log(p);
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  const series =
    inv * (1 / 12 + inv2 * (-1 / 360 + inv2 * (1 / 1260 + inv2 * (-1 / 1680 + inv2 * (1 / 1188 + inv2 * (-691 / 360360 + inv2 * (1 / 156)))))));
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + series - shift;
}

/**
 * Digamma ψ(x) for x > 0: shifted to x ≥ 10 by ψ(x) = ψ(x + 1) − 1/x, then the asymptotic series
 * ln x − 1/(2x) − Σ B₂ₖ/(2k x²ᵏ) to the x⁻¹⁴ term.
 */
export function digamma64(x: number): number {
  if (!(x > 0)) return NaN;
  if (x === Infinity) return Infinity;
  let acc = 0;
  while (x < ASYMPTOTIC_FROM) {
    acc -= 1 / x;
    x += 1;
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  const series =
    inv2 * (-1 / 12 + inv2 * (1 / 120 + inv2 * (-1 / 252 + inv2 * (1 / 240 + inv2 * (-1 / 132 + inv2 * (691 / 32760 + inv2 * (-1 / 12)))))));
  return acc + Math.log(x) - 0.5 * inv + series;
}

/** Integer counts up to this use exact products / sums instead of two special-function values. */
const SMALL_COUNT = 64;

/**
 * ln Γ(a + x) − ln Γ(a) for a > 0, x ≥ 0. For integer x ≤ 64 this is ln(a(a+1)…(a+x−1)), a product
 * with no cancellation (rescaled before it could overflow); otherwise the difference of
 * {@link lgamma64} values.
 */
export function lgammaRatio(x: number, a: number): number {
  if (x === 0) return a > 0 ? 0 : NaN;
  if (x > 0 && x <= SMALL_COUNT && Number.isInteger(x) && a > 0) {
    let p = 1;
    let s = 0;
    for (let k = 0; k < x; k++) {
      p *= a + k;
      if (p > 1e250) {
        s += Math.log(p);
        p = 1;
      }
    }
    return s + Math.log(p);
  }
  return lgamma64(a + x) - lgamma64(a);
}

/**
 * ψ(a + x) − ψ(a) for a > 0, x ≥ 0: Σₖ 1/(a + k) over k < x for integer x ≤ 64, otherwise the
 * difference of {@link digamma64} values.
 */
export function digammaDiff(x: number, a: number): number {
  if (x === 0) return a > 0 ? 0 : NaN;
  if (x > 0 && x <= SMALL_COUNT && Number.isInteger(x) && a > 0) {
    let s = 0;
    for (let k = 0; k < x; k++) s += 1 / (a + k);
    return s;
  }
  return digamma64(a + x) - digamma64(a);
}

const LOG_FACTORIAL_TABLE_SIZE = 4096;
let logFactorialTable: Float64Array | null = null;

/** The table of ln k! for k < {@link LOG_FACTORIAL_TABLE_SIZE} that {@link logFactorial} reads (built on first use; do not modify). */
export function logFactorials(): Float64Array {
  if (!logFactorialTable) {
    const t = new Float64Array(LOG_FACTORIAL_TABLE_SIZE);
    for (let k = 2; k < LOG_FACTORIAL_TABLE_SIZE; k++) t[k] = t[k - 1]! + Math.log(k);
    logFactorialTable = t;
  }
  return logFactorialTable;
}

/** ln Γ(x + 1) for x ≥ 0 (ln x! for integers, from a table below 4096). */
export function logFactorial(x: number): number {
  if (x >= 0 && x < LOG_FACTORIAL_TABLE_SIZE && Number.isInteger(x)) return logFactorials()[x]!;
  return lgamma64(x + 1);
}
