import { beforeAll, describe, expect, it } from 'vitest';
import {
  EnvironmentClassifier,
  InvalidOptionError,
  KnnClassifier,
  LinearClassifier,
  Rng,
  accuracy,
  initEngine,
  macroF1,
  predictorFromState,
  tf,
  type LatentMatrix,
} from '../src/index';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

/** Three Gaussian blobs in 4 dims; environment e shifts the last dim (a spurious direction). */
function blobs(n: number, seed: number) {
  const rng = new Rng(seed);
  const centres = [
    [3, 0, 0, 0],
    [0, 3, 0, 0],
    [0, 0, 3, 0],
  ];
  const data = new Float32Array(n * 4);
  const labels: string[] = [];
  const envs: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    const e = Math.floor(rng.uniform() * 2);
    for (let j = 0; j < 4; j++) data[i * 4 + j] = centres[c]![j]! + (rng.uniform() - 0.5) * 2 + (j === 3 ? e * 2 : 0);
    labels.push(['alpha', 'beta', 'gamma'][c]!);
    envs.push(`batch${e}`);
  }
  return { latent: { nRows: n, nCols: 4, data } as LatentMatrix, labels, envs };
}

const train = blobs(300, 1);
const test = blobs(150, 2);

describe('invariant predictors', () => {
  it('linear classifier separates the classes and round-trips through its state', () => {
    const clf = LinearClassifier.fit(train.latent, train.labels, { epochs: 60, seed: 1 });
    expect(clf.classes).toEqual(['alpha', 'beta', 'gamma']);
    expect(clf.lossCurve.at(-1)!).toBeLessThan(clf.lossCurve[0]!);
    const p = clf.predict(test.latent);
    expect(accuracy(test.labels, p.labels)).toBeGreaterThan(0.95);
    for (let i = 0; i < 5; i++) expect(p.probabilities[i * 3]! + p.probabilities[i * 3 + 1]! + p.probabilities[i * 3 + 2]!).toBeCloseTo(1, 5);
    const back = predictorFromState(JSON.parse(JSON.stringify(clf.toJSON())));
    expect(back.predict(test.latent).labels).toEqual(p.labels);
    clf.dispose();
    back.dispose();
  });

  it('kNN votes among the k nearest training cells (checked against brute force)', () => {
    const clf = KnnClassifier.fit(train.latent, train.labels, { k: 5 });
    const p = clf.predict(test.latent);
    for (let q = 0; q < 10; q++) {
      const d = Array.from({ length: train.latent.nRows }, (_, i) => {
        let s = 0;
        for (let j = 0; j < 4; j++) s += (test.latent.data[q * 4 + j]! - train.latent.data[i * 4 + j]!) ** 2;
        return [s, i] as const;
      }).sort((a, b) => a[0] - b[0]);
      const votes = new Map<string, number>();
      for (const [, i] of d.slice(0, 5)) votes.set(train.labels[i]!, (votes.get(train.labels[i]!) ?? 0) + 1);
      const best = [...votes.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
      expect(p.labels[q]).toBe(best);
    }
    expect(accuracy(test.labels, p.labels)).toBeGreaterThan(0.95);
    expect(predictorFromState(clf.toJSON()).predict(test.latent).labels).toEqual(p.labels);
  });

  it('the environment classifier averages the loss over environments and predicts well', () => {
    const clf = EnvironmentClassifier.fit(train.latent, train.labels, train.envs, { epochs: 150, seed: 3 });
    expect(clf.lossCurve.at(-1)!).toBeLessThan(clf.lossCurve[0]! * 0.5);
    const p = clf.predict(test.latent);
    expect(accuracy(test.labels, p.labels)).toBeGreaterThan(0.95);
    const back = predictorFromState(JSON.parse(JSON.stringify(clf.toJSON())));
    expect(back.predict(test.latent).labels).toEqual(p.labels);
    clf.dispose();
    back.dispose();
  });

  it('leaks no tensors when predicting', () => {
    const clf = LinearClassifier.fit(train.latent, train.labels, { epochs: 2 });
    clf.predict(test.latent);
    const before = tf.memory().numTensors;
    clf.predict(test.latent);
    expect(tf.memory().numTensors).toBe(before);
    clf.dispose();
  });

  it('rejects wrong dimensions, unseen state and single-class data clearly', () => {
    const clf = KnnClassifier.fit(train.latent, train.labels);
    expect(() => clf.predict({ nRows: 1, nCols: 3, data: new Float32Array(3) })).toThrow(/3 dimensions, the predictor was fitted on 4/);
    expect(() => LinearClassifier.fit(train.latent, train.labels.map(() => 'x'))).toThrow(InvalidOptionError);
    expect(() => predictorFromState({ kind: 'forest' } as never)).toThrow(/Unknown predictor kind/);
    expect(() => LinearClassifier.fit({ nRows: 1, nCols: 1, data: new Float32Array([Number.NaN]) }, ['a'])).toThrow(/non-finite/);
  });

  it('accuracy and macro-F1 match hand-computed values', () => {
    const truth = ['a', 'a', 'b', 'b', 'c'];
    const pred = ['a', 'b', 'b', 'b', 'a'];
    expect(accuracy(truth, pred)).toBeCloseTo(3 / 5, 12);
    // F1: a = 2·1/(2+1+1) = 0.5, b = 4/5, c = 0 → mean 0.4333…
    expect(macroF1(truth, pred)).toBeCloseTo((0.5 + 0.8 + 0) / 3, 12);
  });
});
