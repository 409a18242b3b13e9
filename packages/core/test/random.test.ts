import { describe, expect, it } from 'vitest';
import {
  InvalidOptionError,
  Rng,
  categorical,
  deriveSeed,
  fillNormal,
  gamma,
  logGamma,
  negativeBinomial,
  normal,
  permutation,
  poisson,
  sampleWithoutReplacement,
  shuffled,
} from '../src/index';

function moments(draw: () => number, n: number): { mean: number; variance: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    s += x;
    s2 += x * x;
  }
  const mean = s / n;
  return { mean, variance: s2 / n - mean * mean };
}

describe('Rng (xoshiro128**)', () => {
  it('matches the reference xoshiro128** output for state [1,2,3,4]', () => {
    const r = Rng.fromState([1, 2, 3, 4]);
    const got = Array.from({ length: 8 }, () => r.nextUint32());
    // First outputs of Blackman & Vigna's C reference implementation from s = {1, 2, 3, 4}.
    expect(got).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
  });

  it('is deterministic for a seed and differs between seeds (also above 2^32)', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const d = new Rng(42 + 2 ** 32);
    const sa = Array.from({ length: 16 }, () => a.nextUint32());
    expect(Array.from({ length: 16 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 16 }, () => c.nextUint32())).not.toEqual(sa);
    expect(Array.from({ length: 16 }, () => d.nextUint32())).not.toEqual(sa);
  });

  it('saves and restores its state', () => {
    const a = new Rng(7);
    for (let i = 0; i < 10; i++) a.uniform();
    const st = a.state();
    const next = Array.from({ length: 5 }, () => a.uniform());
    const b = Rng.fromState(st);
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(next);
  });

  it('rejects bad seeds and states with typed errors', () => {
    expect(() => new Rng(-1)).toThrow(InvalidOptionError);
    expect(() => new Rng(1.5)).toThrow(InvalidOptionError);
    expect(() => new Rng(Number.NaN)).toThrow(/non-negative integer/);
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(InvalidOptionError);
    expect(() => Rng.fromState([1, 2, 3] as unknown as [number, number, number, number])).toThrow(InvalidOptionError);
  });

  it('uniform() lies in [0,1) with mean 1/2 and variance 1/12', () => {
    const r = new Rng(1);
    let min = 1;
    let max = 0;
    const m = moments(() => {
      const u = r.uniform();
      min = Math.min(min, u);
      max = Math.max(max, u);
      return u;
    }, 200_000);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(m.mean).toBeCloseTo(0.5, 2);
    expect(m.variance).toBeCloseTo(1 / 12, 3);
  });

  it('int(n) is unbiased over a small range and rejects bad bounds', () => {
    const r = new Rng(3);
    const counts = new Array(7).fill(0);
    const n = 70_000;
    for (let i = 0; i < n; i++) counts[r.int(7)]++;
    for (const c of counts) expect(Math.abs(c - n / 7)).toBeLessThan(5 * Math.sqrt(n / 7));
    expect(r.int(1)).toBe(0);
    expect(() => r.int(0)).toThrow(InvalidOptionError);
    expect(() => r.int(2.5)).toThrow(InvalidOptionError);
  });

  it('fork() and deriveSeed() give reproducible, distinct streams', () => {
    const f1 = new Rng(5).fork();
    const f2 = new Rng(5).fork();
    expect(f1.nextUint32()).toBe(f2.nextUint32());
    expect(deriveSeed(5, 1)).toBe(deriveSeed(5, 1));
    expect(deriveSeed(5, 1)).not.toBe(deriveSeed(5, 2));
    expect(deriveSeed(5, 1)).not.toBe(deriveSeed(6, 1));
    expect(deriveSeed(5, 1, 2)).not.toBe(deriveSeed(5, 2, 1));
    expect(Number.isSafeInteger(deriveSeed(2 ** 50, 3))).toBe(true);
  });
});

describe('distributions', () => {
  it('normal has the requested mean and variance; fillNormal too', () => {
    const r = new Rng(11);
    const m = moments(() => normal(r, 2, 3), 200_000);
    expect(m.mean).toBeCloseTo(2, 1);
    expect(m.variance / 9).toBeCloseTo(1, 1);
    const arr = fillNormal(new Rng(12), 100_001, -1, 0.5);
    expect(arr.length).toBe(100_001);
    let i = 0;
    const m2 = moments(() => arr[i++]!, arr.length);
    expect(m2.mean).toBeCloseTo(-1, 2);
    expect(m2.variance).toBeCloseTo(0.25, 2);
    expect(normal(r, 4, 0)).toBe(4);
    expect(() => normal(r, 0, -1)).toThrow(InvalidOptionError);
  });

  it.each([
    [0.3, 2],
    [1, 1],
    [2.5, 0.4],
    [50, 3],
  ])('gamma(shape %f, scale %f) has mean kθ and variance kθ²', (k, theta) => {
    const r = new Rng(21);
    let neg = false;
    const m = moments(() => {
      const g = gamma(r, k, theta);
      if (!(g >= 0)) neg = true;
      return g;
    }, 100_000);
    expect(neg).toBe(false);
    expect(m.mean / (k * theta)).toBeCloseTo(1, 1);
    expect(m.variance / (k * theta * theta)).toBeGreaterThan(0.93);
    expect(m.variance / (k * theta * theta)).toBeLessThan(1.07);
  });

  it('gamma rejects non-positive parameters', () => {
    const r = new Rng(0);
    expect(() => gamma(r, 0)).toThrow(InvalidOptionError);
    expect(() => gamma(r, 1, -2)).toThrow(InvalidOptionError);
    expect(() => gamma(r, Infinity)).toThrow(InvalidOptionError);
  });

  it.each([0.05, 3, 9.9, 10, 37.5, 1e4])('poisson(%f) returns integers with mean = variance = λ', (lambda) => {
    const r = new Rng(31);
    let bad = false;
    const m = moments(() => {
      const k = poisson(r, lambda);
      if (!Number.isInteger(k) || k < 0) bad = true;
      return k;
    }, 100_000);
    expect(bad).toBe(false);
    const se = Math.sqrt(lambda / 100_000);
    expect(Math.abs(m.mean - lambda)).toBeLessThan(5 * se);
    expect(m.variance / lambda).toBeGreaterThan(0.95);
    expect(m.variance / lambda).toBeLessThan(1.05);
  });

  it('poisson small-λ probabilities match the pmf', () => {
    const r = new Rng(32);
    const n = 100_000;
    const counts = new Array(6).fill(0);
    for (let i = 0; i < n; i++) {
      const k = poisson(r, 1.5);
      if (k < 6) counts[k]++;
    }
    for (let k = 0; k < 6; k++) {
      const p = Math.exp(-1.5 + k * Math.log(1.5) - logGamma(k + 1));
      expect(Math.abs(counts[k] / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n) + 1e-4);
    }
  });

  it('poisson edge cases', () => {
    const r = new Rng(0);
    expect(poisson(r, 0)).toBe(0);
    expect(() => poisson(r, -1)).toThrow(InvalidOptionError);
    expect(() => poisson(r, Number.NaN)).toThrow(InvalidOptionError);
  });

  it.each([
    [5, 2],
    [50, 0.5],
    [0.5, 10],
  ])('negativeBinomial(μ=%f, θ=%f) has mean μ and variance μ + μ²/θ', (mu, theta) => {
    const r = new Rng(41);
    const m = moments(() => negativeBinomial(r, mu, theta), 200_000);
    const variance = mu + (mu * mu) / theta;
    expect(Math.abs(m.mean - mu)).toBeLessThan(5 * Math.sqrt(variance / 200_000));
    expect(m.variance / variance).toBeGreaterThan(0.9);
    expect(m.variance / variance).toBeLessThan(1.1);
    expect(negativeBinomial(r, 0, theta)).toBe(0);
    expect(() => negativeBinomial(r, mu, 0)).toThrow(InvalidOptionError);
  });

  it('categorical follows the weights and skips zero weights', () => {
    const r = new Rng(51);
    const w = [1, 0, 3, 6];
    const n = 100_000;
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[categorical(r, w)]++;
    expect(counts[1]).toBe(0);
    expect(counts[0]! / n).toBeCloseTo(0.1, 2);
    expect(counts[2]! / n).toBeCloseTo(0.3, 2);
    expect(counts[3]! / n).toBeCloseTo(0.6, 2);
    expect(() => categorical(r, [0, 0])).toThrow(InvalidOptionError);
    expect(() => categorical(r, [1, -1])).toThrow(InvalidOptionError);
    expect(() => categorical(r, [])).toThrow(InvalidOptionError);
  });

  it('logGamma matches known values', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(2)).toBeCloseTo(0, 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(logGamma(11)).toBeCloseTo(Math.log(3628800), 10);
    // Values from Python's math.lgamma.
    expect(logGamma(171.5)).toBeCloseTo(709.1431630309282, 9);
    expect(logGamma(100.5)).toBeCloseTo(361.4355404677776, 9);
    expect(logGamma(3.7)).toBeCloseTo(1.4280723266653883, 12);
    expect(logGamma(0.1)).toBeCloseTo(2.2527126517342055, 12);
    expect(logGamma(0)).toBe(Infinity);
    expect(logGamma(-2)).toBeNaN();
  });
});

describe('permutations', () => {
  it('permutation is a deterministic permutation', () => {
    const p = permutation(new Rng(9), 1000);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(permutation(new Rng(9), 1000))).toEqual(Array.from(p));
    expect(Array.from(permutation(new Rng(10), 1000))).not.toEqual(Array.from(p));
    expect(permutation(new Rng(9), 0).length).toBe(0);
    expect(() => permutation(new Rng(9), -1)).toThrow(InvalidOptionError);
  });

  it('each position is uniformly distributed', () => {
    const r = new Rng(99);
    const n = 4;
    const trials = 40_000;
    const firstCounts = new Array(n).fill(0);
    for (let t = 0; t < trials; t++) firstCounts[permutation(r, n)[0]!]++;
    for (const c of firstCounts) expect(Math.abs(c - trials / n)).toBeLessThan(5 * Math.sqrt(trials / n));
  });

  it('shuffled leaves the input alone; sampleWithoutReplacement gives distinct items', () => {
    const input = ['a', 'b', 'c', 'd', 'e'];
    const copy = input.slice();
    const out = shuffled(new Rng(1), input);
    expect(input).toEqual(copy);
    expect(out.slice().sort()).toEqual(copy);
    const s = sampleWithoutReplacement(new Rng(2), 100, 30);
    expect(new Set(s).size).toBe(30);
    for (const v of s) expect(v).toBeLessThan(100);
    expect(() => sampleWithoutReplacement(new Rng(2), 3, 4)).toThrow(InvalidOptionError);
  });
});
