import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvaeModel, denseMatrix, denseToCsr, initEngine, rowSource, tf, trainModel, withDropoutSeed } from '../src/index';
import { disposeBatch, minibatchFromRows } from '../src/data/gather';
import { buildCountsCsr, csrWords, knownNonZeros, nonZeroStats } from '../src/nn/counts-csr';
import { setSimdKernelsEnabled } from '../src/wasm/kernels';
import { Rng } from '../src/random/rng';
import { StandardNormalPrior } from './model-helpers';

// A minibatch's non-zero counts are found once (when it is uploaded) and every kernel that visits
// only the non-zeros (encoder input, sparse first layer and its gradient, NB count terms and their
// gradient) reads them from there: same numbers, no further scan of the counts.

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});
afterEach(() => setSimdKernelsEnabled(true));
afterAll(async () => {
  setSimdKernelsEnabled(true);
  await tf.setBackend('wasm');
});

/** Counts with about `zeros` zeros, one all-zero row, a few counts above the kernels' table (16) and a non-integer. */
function counts(b: number, g: number, seed: number, zeros = 0.7): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(b * g).map(() => (rng.uniform() < zeros ? 0 : Math.floor(1 + 40 * rng.uniform() ** 3)));
  for (let j = 0; j < g; j++) v[j] = 0;
  v[g + 1] = 2.5;
  return v;
}

function oneHot(b: number, k: number): Float32Array {
  const out = new Float32Array(b * k);
  for (let r = 0; r < b; r++) out[r * k + (r % k)] = 1;
  return out;
}

const engines = [
  { name: 'wasm (SIMD kernels)', backend: 'wasm', simd: true },
  { name: 'wasm (JavaScript kernels)', backend: 'wasm', simd: false },
  { name: 'cpu', backend: 'cpu', simd: true },
] as const;

describe('the CSR of a minibatch', () => {
  for (const e of engines) {
    it(`${e.name}: lists the non-zeros of the counts as denseToCsr does`, async () => {
      await tf.setBackend(e.backend);
      setSimdKernelsEnabled(e.simd);
      const [b, g] = [9, 37];
      const v = counts(b, g, 2);
      const expected = denseToCsr(denseMatrix(b, g, v));
      const x = tf.tensor2d(v, [b, g]);
      const csr = buildCountsCsr(x)!;
      expect(csr.nnz).toBe(expected.indices.length);
      const words = csrWords(csr.packed.dataSync() as Float32Array);
      expect(Array.from(words.subarray(0, b + 1))).toEqual(Array.from(expected.indptr));
      expect(Array.from(words.subarray(b + 1, b + 1 + csr.nnz))).toEqual(Array.from(expected.indices));
      expect(knownNonZeros(x)).toMatchObject({ csr, csrCols: g, nnz: csr.nnz });
      tf.dispose([x, csr.packed]);
    });

    it(`${e.name}: loss and gradients are the same with the minibatch's non-zeros as with scans`, async () => {
      await tf.setBackend(e.backend);
      setSimdKernelsEnabled(e.simd);
      const [b, g] = [24, 64];
      const v = counts(b, g, 3);
      const inv = { nRows: b, nCols: 3, data: oneHot(b, 3) };
      const spur = { nRows: b, nCols: 2, data: oneHot(b, 2) };
      const model = new InvaeModel(
        { model: 'FinVAE', dataDim: g, invCovarDim: 3, spurCovarDim: 2, encoderCovariates: 'all', latentDimInv: 4, latentDimSpur: 2, hiddenDim: 40, nLayers: 2, batchNorm: true, dropoutRate: 0.1, seed: 3 },
        { inv: new StandardNormalPrior(4), spur: new StandardNormalPrior(2) },
      );
      const eps = tf.randomNormal([b, 6], 0, 1, 'float32', 7) as tf.Tensor2D;
      const vars = model.trainableVariables;
      const step = (x: tf.Tensor2D, u: tf.Tensor2D, s: tf.Tensor2D) => {
        const { value, grads } = tf.variableGrads(() => withDropoutSeed(11, () => model.loss(x, u, s, { training: true, eps }).loss), vars);
        const out = { loss: value.dataSync()[0]!, grads: vars.map((w) => Array.from(grads[w.name]!.dataSync())) };
        value.dispose();
        tf.dispose(grads);
        return out;
      };
      const batch = minibatchFromRows(Int32Array.from({ length: b }, (_, i) => i), { values: v, nCols: g }, inv, spur);
      expect(batch.nonZeros).not.toBeNull();
      nonZeroStats.scans = 0;
      const withCsr = step(batch.x, batch.inv!, batch.spur!);
      expect(nonZeroStats.scans, 'kernels that scanned the counts with the CSR at hand').toBe(0);
      // the same values uploaded without their non-zeros: every kernel scans them
      const plain = [tf.tensor2d(v, [b, g]), tf.tensor2d(inv.data, [b, 3]), tf.tensor2d(spur.data, [b, 2])] as const;
      const scanned = step(...plain);
      expect(nonZeroStats.scans, 'the kernels scan counts that come without their non-zeros').toBeGreaterThan(0);
      expect(withCsr.loss).toBe(scanned.loss);
      withCsr.grads.forEach((gr, i) => expect(gr, vars[i]!.name).toEqual(scanned.grads[i]));
      disposeBatch(batch);
      tf.dispose([...plain, eps]);
      model.dispose();
    });
  }

  it('an epoch of training builds each minibatch\'s CSR once and scans no counts', async () => {
    await tf.setBackend('wasm');
    const [n, g, batchSize] = [96, 50, 32];
    const v = counts(n, g, 4);
    const model = new InvaeModel(
      { model: 'FinVAE', dataDim: g, invCovarDim: 3, spurCovarDim: 0, encoderCovariates: 'all', latentDimInv: 3, latentDimSpur: 1, hiddenDim: 16, nLayers: 2, seed: 1 },
      { inv: new StandardNormalPrior(3), spur: new StandardNormalPrior(1) },
    );
    const data = { x: rowSource(denseMatrix(n, g, v)), inv: { nRows: n, nCols: 3, data: oneHot(n, 3) }, spur: null };
    nonZeroStats.builds = 0;
    nonZeroStats.scans = 0;
    const before = tf.memory().numTensors;
    await trainModel(model, data, { epochs: 2, batchSize, seed: 0, workers: 1 });
    expect(nonZeroStats.builds, 'CSR builds: one per minibatch').toBe(2 * (n / batchSize));
    expect(nonZeroStats.scans, 'scans of the counts for their non-zeros').toBe(0);
    expect(tf.memory().numTensors, 'every CSR is freed with its minibatch').toBe(before);
    model.dispose();
  });
});
