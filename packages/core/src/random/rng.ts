import { InvalidOptionError } from '../errors';

/** The four 32-bit words of a {@link Rng}'s xoshiro128** state; save it to resume a stream. */
export type RngState = readonly [number, number, number, number];

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** One splitmix32 step: returns the next state and a well-mixed 32-bit output. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [next, z >>> 0];
}

/** Throws unless `seed` is a non-negative safe integer. */
export function checkSeed(seed: unknown, option = 'seed'): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new InvalidOptionError(option, `${option} must be a non-negative integer, got ${String(seed)}.`, {
      hint: `Pass an integer such as 0 or 42 as ${option}.`,
    });
  }
  return seed;
}

/**
 * A seeded pseudo-random number generator: xoshiro128** (Blackman & Vigna) whose 128-bit state is
 * filled from the seed by splitmix32. The same seed gives the same stream on every platform and
 * run (only 32-bit integer arithmetic is used). Not cryptographically secure.
 *
 * Distributions (normal, gamma, Poisson, ...) live in `distributions.ts` and take a `Rng`.
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /**
   * @param seed non-negative safe integer (both its low and high 32 bits are used).
   */
  constructor(seed: number) {
    checkSeed(seed);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    let st = lo ^ Math.imul(hi, 0x9e3779b1);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(st);
      st = next;
      words.push(out);
    }
    // Mix the high word in a second time so seeds differing only above bit 32 diverge strongly.
    words[3] = (words[3]! ^ splitmix32(hi)[1]) >>> 0;
    this.setState(words as unknown as RngState);
  }

  /** Creates a generator positioned at a previously saved {@link RngState}. */
  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  private setState(state: RngState): void {
    const words: unknown = state;
    if (!Array.isArray(words) || words.length !== 4 || words.some((w) => !Number.isInteger(w) || w < 0 || w >= TWO_POW_32)) {
      throw new InvalidOptionError('state', 'An Rng state must be four unsigned 32-bit integers.');
    }
    const [a, b, c, d] = words as number[];
    if ((a! | b! | c! | d!) === 0) {
      throw new InvalidOptionError('state', 'An all-zero xoshiro128** state is invalid (the stream would be constant).');
    }
    this.s0 = a! | 0;
    this.s1 = b! | 0;
    this.s2 = c! | 0;
    this.s3 = d! | 0;
  }

  /** The current state (a copy); `Rng.fromState(rng.state())` continues the same stream. */
  state(): RngState {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const s1 = this.s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / TWO_POW_53;
  }

  /** Uniform double in (0, 1): never exactly 0, safe to take the log of. */
  uniformOpen(): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    return u;
  }

  /** Uniform double in [low, high). */
  uniformRange(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /**
   * Uniform integer in [0, n) without modulo bias (Lemire's method with rejection).
   * @param n exclusive upper bound, 1 ≤ n ≤ 2^32.
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new InvalidOptionError('n', `Rng.int needs an integer bound in [1, 2^32], got ${n}.`);
    }
    if (n === 1) return 0;
    // Rejection on the top range keeps every value equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const r = this.nextUint32();
      if (r < limit) return r % n;
    }
  }

  /**
   * A new independent generator derived from this one's next outputs (advances this stream).
   * Use it to give sub-tasks their own streams so that adding draws in one does not shift another.
   */
  fork(): Rng {
    const words: number[] = [];
    for (let i = 0; i < 4; i++) words.push(splitmix32(this.nextUint32() ^ Math.imul(i + 1, 0x632be5ab))[1]);
    if ((words[0]! | words[1]! | words[2]! | words[3]!) === 0) words[0] = 1;
    return Rng.fromState(words as unknown as RngState);
  }
}

/**
 * Mixes a seed and a list of small integers (e.g. an epoch number) into a new seed, so that
 * `new Rng(deriveSeed(seed, epoch))` gives a reproducible, well-separated stream per epoch.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  checkSeed(seed);
  let h = (seed >>> 0) ^ Math.imul(Math.floor(seed / TWO_POW_32) >>> 0, 0x9e3779b1);
  let h2 = 0x27d4eb2f;
  for (const p of [...parts, parts.length]) {
    if (!Number.isSafeInteger(p)) throw new InvalidOptionError('parts', `deriveSeed parts must be integers, got ${p}.`);
    h = splitmix32(h ^ (p >>> 0))[1];
    h2 = splitmix32(h2 ^ h ^ (Math.floor(p / TWO_POW_32) >>> 0))[1];
  }
  // 53-bit result: 32 bits from h, 21 from h2.
  return (h2 >>> 11) * TWO_POW_32 + (h >>> 0);
}
