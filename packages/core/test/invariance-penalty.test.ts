import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../src/index';
import { conditionalBatchMmd } from '../src/module/invariance-penalty';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

/** Seeded standard-normal rows. */
function gaussianRows(n: number, d: number, shift: number[], seed: number): number[][] {
  let s = seed >>> 0;
  const u = () => ((s = (s * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return Array.from({ length: n }, () => Array.from({ length: d }, (_, j) => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()) + (shift[j] ?? 0)));
}
const oneHot = (codes: number[], k: number) => codes.map((c) => Array.from({ length: k }, (_, j) => (j === c ? 1 : 0)));
const mmd = (z: number[][], inv: number[][] | null, spur: number[][]) =>
  tf.tidy(() => conditionalBatchMmd(tf.tensor2d(z), inv ? tf.tensor2d(inv) : null, tf.tensor2d(spur)).dataSync()[0]!);

describe('conditional batch MMD (invariance penalty)', () => {
  const n = 120;
  const batch = Array.from({ length: n }, (_, i) => i % 2);
  const label = Array.from({ length: n }, (_, i) => Math.floor(i / 60));

  it('is near zero when batches are alike within each condition, large when a batch is shifted', () => {
    const alike = gaussianRows(n, 3, [0, 0, 0], 1);
    const shifted = alike.map((r, i) => (batch[i] ? r.map((v) => v + 3) : r));
    const a = mmd(alike, oneHot(label, 2), oneHot(batch, 2));
    const b = mmd(shifted, oneHot(label, 2), oneHot(batch, 2));
    expect(a).toBeGreaterThanOrEqual(-1e-5);
    expect(a).toBeLessThan(0.15);
    expect(b).toBeGreaterThan(5 * a + 0.5);
  });

  it('does not ask different conditions to mix: batch fully confounded with the condition gives 0', () => {
    // every condition has a single batch: nothing to compare within conditions
    const z = gaussianRows(n, 2, [0, 0], 2).map((r, i) => (label[i] ? r.map((v) => v + 5) : r));
    expect(Math.abs(mmd(z, oneHot(label, 2), oneHot(label, 2)))).toBeLessThan(1e-5);
    // marginal version (no conditions): the same separation now counts
    expect(mmd(z, null, oneHot(label, 2))).toBeGreaterThan(0.5);
  });

  it('has a gradient that pulls shifted batches together', () => {
    const z0 = gaussianRows(n, 2, [0, 0], 3).map((r, i) => (batch[i] ? r.map((v) => v + 1) : r));
    const spur = tf.tensor2d(oneHot(batch, 2));
    const g = tf.grad((z: tf.Tensor) => conditionalBatchMmd(z as tf.Tensor2D, null, spur))(tf.tensor2d(z0));
    const gd = g.arraySync() as number[][];
    // descending the gradient moves batch 1 (shifted +1) towards batch 0: its mean gradient is positive
    const mean1 = gd.filter((_, i) => batch[i]).reduce((a, r) => a + r[0]!, 0);
    const mean0 = gd.filter((_, i) => !batch[i]).reduce((a, r) => a + r[0]!, 0);
    expect(mean1).toBeGreaterThan(0);
    expect(mean0).toBeLessThan(0);
  });
});

