/**
 * Deep files: h5wasm's Group.get validates the whole path of every child (H5LTpath_valid re-resolves each prefix),
 * which made reading a 300-level uns cost O(depth³) path steps (20 s to minutes). The reader now lists each
 * group's children once and builds entities from their paths, and lists each element's attributes once.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readH5ad } from '../src/index';
import { loadH5, readerModule } from '../src/h5';
import { runPython, tmpDir } from './helpers';

/** Counts the calls to every function of the reading h5wasm module while `fn` runs. */
async function countCalls<T>(fn: () => Promise<T>): Promise<{ result: T; calls: Record<string, number>; total: number }> {
  await loadH5();
  const mod = readerModule()!;
  const calls: Record<string, number> = {};
  const saved: [string, unknown][] = [];
  for (const k of Object.keys(mod)) {
    const f = mod[k];
    if (typeof f !== 'function' || !/^[a-z]/.test(k)) continue;
    saved.push([k, f]);
    mod[k] = (...a: unknown[]) => {
      calls[k] = (calls[k] ?? 0) + 1;
      return (f as (...x: unknown[]) => unknown)(...a);
    };
  }
  try {
    const result = await fn();
    return { result, calls, total: Object.values(calls).reduce((a, b) => a + b, 0) };
  } finally {
    for (const [k, f] of saved) mod[k] = f;
  }
}

describe('deeply nested uns', () => {
  it('reads a 300-level uns with a bounded number of h5wasm calls per level and no whole-path validation', async () => {
    const depth = 300;
    const f = path.join(tmpDir('deep'), 'deep.h5ad');
    runPython('make_deep.py', [f, String(depth)]);
    const t0 = performance.now();
    const { result: a, calls, total } = await countCalls(() => readH5ad(f));
    const ms = performance.now() - t0;
    let u: unknown = a.uns;
    for (let i = 0; i < depth; i++) u = (u as Record<string, unknown>).l;
    expect(u).toEqual({ leaf: 1 });
    // Group.get → get_type → H5LTpath_valid: O(depth) path resolutions per child; never used on read-only files
    expect(calls.get_type ?? 0).toBe(0);
    // per level: list children (2), list attributes (1), read encoding-type/-version (3 each)
    expect(total).toBeLessThan(10 * depth);
    console.log(`300-level uns: ${Math.round(ms)} ms (main thread, incl. the worker pre-scan), ${total} h5wasm calls`);
  }, 120_000);
});
