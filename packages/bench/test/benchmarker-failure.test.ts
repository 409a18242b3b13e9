import { beforeAll, describe, expect, it, vi } from 'vitest';
import { Benchmarker, pca } from '../src/index';
import { blobs, engine } from './helpers';

// A metric implementation that fails, to check that the Benchmarker records it instead of crashing.
vi.mock('../src/metrics/kbet', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/metrics/kbet')>();
  return {
    ...original,
    kbetPerLabel: () => {
      throw new Error('diffusion solver did not converge');
    },
  };
});

beforeAll(engine);

describe('Benchmarker with a failing metric', () => {
  it('reports the metric as NaN with the error as its reason and scores every other metric', () => {
    const { x, labels, batches } = blobs(3, 150, 4, 3, 2, { sep: 5 });
    const events: { metric: string; error?: string }[] = [];
    const bm = new Benchmarker({ embeddings: { e: x }, labels, batches, unintegrated: pca(x, 3).coordinates, onProgress: (e) => events.push(e) });
    bm.benchmark();
    const m = bm.getResults().methods[0]!;
    expect(m.metrics.KBET).toBeNull();
    expect(m.nanReasons.KBET).toEqual([{ label: null, reason: 'failed: diffusion solver did not converge' }]);
    expect(events.find((e) => e.metric === 'KBET')!.error).toBe('diffusion solver did not converge');
    for (const [k, v] of Object.entries(m.metrics)) if (k !== 'KBET') expect(Number.isFinite(v), k).toBe(true);
    expect(m.aggregates.Total).not.toBeNull();
  });
});
