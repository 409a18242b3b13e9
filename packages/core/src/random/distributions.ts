import { InvalidOptionError } from '../errors';
import { logGamma } from './log-gamma';
import type { Rng } from './rng';

function requireFinite(name: string, value: number, what: string): void {
  if (!Number.isFinite(value)) throw new InvalidOptionError(name, `${what}: ${name} must be finite, got ${value}.`);
}

function requirePositive(name: string, value: number, what: string): void {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new InvalidOptionError(name, `${what}: ${name} must be a positive finite number, got ${value}.`);
  }
}

/** A standard normal draw (Box–Muller, cosine branch; one draw per call so the state stays simple). */
export function standardNormal(rng: Rng): number {
  const u1 = rng.uniformOpen();
  const u2 = rng.uniform();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A normal draw with the given mean and standard deviation (`sd` ≥ 0). */
export function normal(rng: Rng, mean = 0, sd = 1): number {
  requireFinite('mean', mean, 'normal');
  if (!(sd >= 0) || !Number.isFinite(sd)) throw new InvalidOptionError('sd', `normal: sd must be a finite number ≥ 0, got ${sd}.`);
  return mean + sd * standardNormal(rng);
}

/**
 * Fills `out` (or a new Float64Array of length `n`) with independent N(mean, sd²) draws, using both
 * Box–Muller outputs per pair of uniforms.
 */
export function fillNormal(rng: Rng, n: number, mean = 0, sd = 1, out?: Float64Array | Float32Array): Float64Array | Float32Array {
  requireFinite('mean', mean, 'fillNormal');
  if (!(sd >= 0) || !Number.isFinite(sd)) throw new InvalidOptionError('sd', `fillNormal: sd must be a finite number ≥ 0, got ${sd}.`);
  const target = out ?? new Float64Array(n);
  if (target.length < n) throw new InvalidOptionError('out', `fillNormal: out has length ${target.length} < n = ${n}.`);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(rng.uniformOpen()));
    const theta = 2 * Math.PI * rng.uniform();
    target[i] = mean + sd * r * Math.cos(theta);
    if (i + 1 < n) target[i + 1] = mean + sd * r * Math.sin(theta);
  }
  return target;
}

/**
 * A gamma draw with shape k > 0 and scale θ > 0 (mean kθ, variance kθ²), by Marsaglia & Tsang (2000);
 * shapes below 1 use the boost Γ(k) = Γ(k+1)·U^(1/k).
 */
export function gamma(rng: Rng, shape: number, scale = 1): number {
  requirePositive('shape', shape, 'gamma');
  requirePositive('scale', scale, 'gamma');
  return scale * standardGamma(rng, shape);
}

function standardGamma(rng: Rng, shape: number): number {
  if (shape < 1) {
    const g = standardGamma(rng, shape + 1);
    return g * Math.pow(rng.uniformOpen(), 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.uniformOpen();
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) return d * v;
    if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * A Poisson draw with mean λ ≥ 0: sequential inversion for λ < 10, Hörmann's transformed rejection
 * (PTRS, 1993) above. λ = 0 gives 0.
 */
export function poisson(rng: Rng, lambda: number): number {
  if (!(lambda >= 0) || !Number.isFinite(lambda)) {
    throw new InvalidOptionError('lambda', `poisson: lambda must be a finite number ≥ 0, got ${lambda}.`);
  }
  if (lambda === 0) return 0;
  if (lambda < 10) {
    let p = Math.exp(-lambda);
    let cdf = p;
    let k = 0;
    const u = rng.uniform();
    // The loop cap guards against float round-off leaving cdf just below u.
    while (u > cdf && k < 1000) {
      k++;
      p *= lambda / k;
      cdf += p;
    }
    return k;
  }
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.uniform() - 0.5;
    const v = rng.uniformOpen();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logGamma(k + 1)) return k;
  }
}

/**
 * A negative-binomial draw parameterised as in scVI / inVAE: mean μ ≥ 0 and inverse dispersion θ > 0
 * (variance μ + μ²/θ), drawn as the gamma–Poisson mixture Poisson(Gamma(shape θ, scale μ/θ)).
 */
export function negativeBinomial(rng: Rng, mean: number, theta: number): number {
  if (!(mean >= 0) || !Number.isFinite(mean)) {
    throw new InvalidOptionError('mean', `negativeBinomial: mean must be a finite number ≥ 0, got ${mean}.`);
  }
  requirePositive('theta', theta, 'negativeBinomial');
  if (mean === 0) return 0;
  return poisson(rng, standardGamma(rng, theta) * (mean / theta));
}

/**
 * An index drawn with probability proportional to `weights[i]` (non-negative, finite, not all zero;
 * they need not sum to 1).
 */
export function categorical(rng: Rng, weights: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    if (!(w >= 0) || !Number.isFinite(w)) {
      throw new InvalidOptionError('weights', `categorical: weight ${i} is ${w}; weights must be finite and ≥ 0.`);
    }
    total += w;
  }
  if (!(total > 0)) throw new InvalidOptionError('weights', 'categorical: the weights are empty or all zero.');
  const u = rng.uniform() * total;
  let acc = 0;
  let last = -1;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    if (w === 0) continue;
    acc += w;
    last = i;
    if (u < acc) return i;
  }
  return last; // round-off: u landed at the very top
}
