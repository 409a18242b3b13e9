import { beforeAll, describe, expect, it } from 'vitest';
import { BenchInputError, leaveOneBatchOut, leaveOneBatchOutFolds, type Embedding } from '../src/index';
import { blobs, engine, judge, judged } from './helpers';

beforeAll(engine);

describe('leaveOneBatchOut', () => {
  const { x, labels, batches } = blobs(21, 180, 4, 3, 3, { sep: 8 });

  it('builds one fold per batch: train on the other batches, test on the held-out one', () => {
    const folds = leaveOneBatchOutFolds(x, labels, batches);
    expect(folds.map((f) => f.heldOut)).toEqual(['batch0', 'batch1', 'batch2']);
    for (const f of folds) {
      expect(f.train.latent.nRows + f.test.latent.nRows).toBe(180);
      expect(f.test.latent.nRows).toBe(batches.filter((b) => b === f.heldOut).length);
      // The first held-out cell's row is copied from the predict latent.
      const first = batches.indexOf(f.heldOut);
      expect(Array.from(f.test.latent.data.subarray(0, 4))).toEqual(Array.from(x.data.subarray(first * 4, first * 4 + 4), Math.fround));
      expect(f.test.labels[0]).toBe(labels[first]);
    }
  });

  it('predicts separated labels perfectly (linear and kNN), per held-out batch and on average', () => {
    const folds = leaveOneBatchOutFolds(x, labels, batches);
    for (const classifier of ['linear', 'knn'] as const) {
      const r = leaveOneBatchOut(folds, { classifier });
      expect(r.classifier).toBe(classifier);
      expect(r.perBatch).toHaveLength(3);
      for (const p of r.perBatch) {
        expect(p.accuracy).toBe(1);
        expect(p.macroF1).toBe(1);
        expect(p.unseenLabels).toEqual([]);
      }
      expect(r.mean).toEqual({ accuracy: 1, macroF1: 1 });
    }
  });

  judged.it('scores a held-out batch with a label no other batch has: accuracy and macro-F1 as scikit-learn', () => {
    const lab = [...labels];
    for (let i = 0; i < 180; i++) if (batches[i] === 'batch2' && lab[i] === 'type0') lab[i] = 'novel';
    // Every batch-2 cell of 'novel' sits at type0's centre: it cannot be right, type0 is predicted.
    const r = leaveOneBatchOut(leaveOneBatchOutFolds(x, lab, batches), { classifier: 'knn' });
    const p = r.perBatch.find((b) => b.batch === 'batch2')!;
    expect(p.unseenLabels).toEqual(['novel']);
    const truth = lab.filter((_, i) => batches[i] === 'batch2');
    const predicted = truth.map((t) => (t === 'novel' ? 'type0' : t));
    const ref = judge<{ acc: number; f1: number }>(
      'from sklearn.metrics import accuracy_score, f1_score\nout = {"acc": accuracy_score(inp[0], inp[1]), "f1": f1_score(inp[0], inp[1], average="macro")}',
      [truth, predicted],
    );
    expect(p.accuracy).toBeCloseTo(ref.acc, 12);
    expect(p.macroF1).toBeCloseTo(ref.f1, 12);
    // The mean is unweighted over the held-out batches.
    expect(r.mean.accuracy).toBeCloseTo(r.perBatch.reduce((s, b) => s + b.accuracy!, 0) / 3, 12);
    expect(r.mean.macroF1).toBeCloseTo(r.perBatch.reduce((s, b) => s + b.macroF1!, 0) / 3, 12);
  });

  it('uses the predict latent for held-out cells and skips impossible folds with a reason', () => {
    // Held-out cells encoded differently (all at the origin) are predicted from that latent.
    const zero: Embedding = { data: new Float64Array(x.data.length), nRows: 180, nCols: 4 };
    const r = leaveOneBatchOut(leaveOneBatchOutFolds(x, labels, batches, zero), { classifier: 'knn' });
    expect(r.mean.accuracy!).toBeLessThan(0.7);
    const single = leaveOneBatchOut(leaveOneBatchOutFolds(x, labels, labels.map(() => 'b')));
    expect(single.perBatch[0]!.skipped).toMatch(/no training cells/);
    expect(single.mean).toEqual({ accuracy: null, macroF1: null });
    const oneLabel = leaveOneBatchOut(leaveOneBatchOutFolds(x, labels.map((l, i) => (batches[i] === 'batch0' ? l : 'same')), batches));
    expect(oneLabel.perBatch[0]!.skipped).toMatch(/single label \('same'\)/);
    expect(oneLabel.perBatch[1]!.accuracy).not.toBeNull();
    expect(() => leaveOneBatchOutFolds(x, labels, batches, { data: new Float64Array(8), nRows: 2, nCols: 4 })).toThrow(BenchInputError);
    expect(() => leaveOneBatchOut([], { classifier: 'svm' as 'knn' })).toThrow(/Unknown classifier/);
  });
});
