import { InvalidOptionError } from '../errors';
import type { Rng } from './rng';

function checkCount(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > 0x7fffffff) {
    throw new InvalidOptionError(name, `${name} must be an integer in [0, 2^31), got ${n}.`);
  }
}

/** A uniformly random permutation of 0..n−1 (Fisher–Yates). */
export function permutation(rng: Rng, n: number): Int32Array {
  checkCount('n', n);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  shuffleInPlace(rng, out);
  return out;
}

/**
 * Shuffles a mutable array or typed array in place (Fisher–Yates) and returns it. Use
 * {@link shuffled} to leave the input untouched.
 */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(rng: Rng, items: T): T {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}

/** A shuffled copy of `items`; the input is not modified. */
export function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  return shuffleInPlace(rng, items.slice());
}

/** `k` distinct indices from 0..n−1, in random order (partial Fisher–Yates). */
export function sampleWithoutReplacement(rng: Rng, n: number, k: number): Int32Array {
  checkCount('n', n);
  checkCount('k', k);
  if (k > n) throw new InvalidOptionError('k', `Cannot draw ${k} distinct items from ${n}.`);
  const pool = new Int32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const tmp = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = tmp;
  }
  return pool.slice(0, k);
}
