import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Adam, EarlyStopping, InvalidOptionError, LinearWarmup, ReduceLROnPlateau, initEngine } from '../src/index';
import { deferGradient, deferGradients } from '../src/fused/deferred-gradients';
import { dataWrittenInPlace, engineValues } from '../src/wasm/kernels';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

/** torch.optim.Adam written out in float64 (amsgrad off, coupled weight decay). */
function torchAdamF64(
  params: number[][],
  gradsPerStep: (p: number[][], step: number) => number[][],
  steps: number,
  o: { lr: number; beta1: number; beta2: number; eps: number; wd: number },
): number[][] {
  const p = params.map((a) => a.slice());
  const m = p.map((a) => a.map(() => 0));
  const v = p.map((a) => a.map(() => 0));
  for (let t = 1; t <= steps; t++) {
    const g = gradsPerStep(p, t);
    const bc1 = 1 - o.beta1 ** t;
    const bc2 = 1 - o.beta2 ** t;
    for (let i = 0; i < p.length; i++) {
      for (let j = 0; j < p[i]!.length; j++) {
        const gij = g[i]![j]! + o.wd * p[i]![j]!;
        m[i]![j] = o.beta1 * m[i]![j]! + (1 - o.beta1) * gij;
        v[i]![j] = o.beta2 * v[i]![j]! + (1 - o.beta2) * gij * gij;
        const denom = Math.sqrt(v[i]![j]!) / Math.sqrt(bc2) + o.eps;
        p[i]![j] = p[i]![j]! - (o.lr / bc1) * (m[i]![j]! / denom);
      }
    }
  }
  return p;
}

const track: tf.Variable[] = [];
function variable(values: number[], shape: number[]): tf.Variable {
  const v = tf.variable(tf.tensor(values, shape, 'float32'));
  track.push(v);
  return v;
}
afterAll(() => tf.dispose(track));

function expectClose(got: ArrayLike<number>, want: number[], tol: number) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]!)));
}

describe('Adam', () => {
  it('first step moves each parameter by lr·sign(g) (hand-computed), defaults lr 1e-3, eps 1e-8', () => {
    const w = variable([1, -2, 0.5], [3]);
    const opt = new Adam([w]);
    expect(opt.learningRate).toBe(1e-3);
    expect(opt.epsilon).toBe(1e-8);
    const g = tf.tensor1d([0.3, -4, 2]);
    opt.applyGradients([g]);
    g.dispose();
    // m̂ = g, v̂ = g² at t = 1, so Δ = lr·g/(|g| + eps)
    expectClose(w.dataSync(), [1 - 1e-3, -2 + 1e-3, 0.5 - 1e-3], 1e-6);
    expect(opt.step).toBe(1);
    opt.dispose();
  });

  it('places eps after the bias correction, as torch does', () => {
    const w = variable([0], [1]);
    const opt = new Adam([w], { learningRate: 1 });
    const g = tf.tensor1d([1e-8]);
    opt.applyGradients([g]);
    g.dispose();
    // torch: Δ = lr·g/(|g| + eps) = 1e-8/(2e-8) = 0.5 (tfjs/keras placement would give ≈ 0.031)
    expectClose(w.dataSync(), [-0.5], 1e-4);
    opt.dispose();
  });

  it('matches float64 torch Adam with weight decay over 25 steps on a quadratic (minimize)', () => {
    const c = [[0.5, -1, 2], [3, -0.25]];
    const init = [[1, 2, -3], [0.1, 0.2]];
    const o = { lr: 0.05, beta1: 0.8, beta2: 0.99, eps: 1e-6, wd: 0.01 };
    const want = torchAdamF64(init, (p) => p.map((a, i) => a.map((x, j) => x - c[i]![j]!)), 25, o);
    const a = variable(init[0]!, [3]);
    const b = variable(init[1]!, [1, 2]);
    const opt = new Adam([a, b], { learningRate: o.lr, beta1: o.beta1, beta2: o.beta2, epsilon: o.eps, weightDecay: o.wd });
    const ca = tf.tensor1d(c[0]!);
    const cb = tf.tensor2d([c[1]!]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 25; i++) {
      const loss = opt.minimize(() => tf.add(a.sub(ca).square().sum().div(2), b.sub(cb).square().sum().div(2)) as tf.Scalar);
      expect(Number.isFinite(loss)).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
    }
    expectClose(a.dataSync(), want[0]!, 2e-5);
    expectClose(b.dataSync(), want[1]!, 2e-5);
    tf.dispose([ca, cb]);
    opt.dispose();
  });

  it('takes named gradients from tf.variableGrads and keeps the tensor count constant', () => {
    const w = variable([1, 2, 3, 4], [2, 2]);
    const opt = new Adam([w], { learningRate: 0.1, weightDecay: 0.5 });
    const want = torchAdamF64([[1, 2, 3, 4]], (p) => [p[0]!.map((x) => 2 * x)], 3, { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0.5 });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const { value, grads } = tf.variableGrads(() => w.square().sum() as tf.Scalar, [w]);
      opt.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
    }
    expect(tf.memory().numTensors).toBe(before);
    expectClose(w.dataSync(), want[0]!, 1e-5);
    opt.dispose();
  });

  it('updates the variables whose gradients worker threads still compute last, with the values of the update in order', () => {
    const init = [Float32Array.from([1, -2, 3]), Float32Array.from([0.5, 0.25])];
    const grads = [Float32Array.from([0.1, 0.2, -0.3]), Float32Array.from([-1, 2])];
    const run = (deferFirst: boolean) => {
      const vars = init.map((v) => tf.variable(tf.tensor1d(v)));
      const opt = new Adam(vars, { learningRate: 0.01 });
      let secondAtSettle: number[] | null = null;
      deferGradients(() => {
        const g0 = tf.zeros([3]);
        const g1 = tf.tensor1d(grads[1]!);
        if (deferFirst) {
          // the first variable's gradient is written only when settled (as a worker's job would)
          deferGradient([g0], () => {
            secondAtSettle = Array.from(vars[1]!.dataSync());
            engineValues(g0).set(grads[0]!);
            dataWrittenInPlace(g0);
          });
        } else engineValues(g0).set(grads[0]!);
        opt.applyGradients([g0, g1]);
        tf.dispose([g0, g1]);
      });
      const out = vars.map((v) => Array.from(v.dataSync()));
      opt.dispose();
      tf.dispose(vars);
      return { out, secondAtSettle };
    };
    const deferred = run(true);
    expect(deferred.secondAtSettle, 'the other variable was updated before the deferred gradient was settled').not.toEqual(Array.from(init[1]!));
    const inOrder = run(false);
    expect(inOrder.out[0], 'the first gradient was written').not.toEqual(Array.from(init[0]!));
    expect(deferred.out).toEqual(inOrder.out);
  });

  it('saves and restores its state so a resumed run continues identically', async () => {
    const grad = (t: number) => tf.tensor1d([Math.sin(t), Math.cos(t)]);
    const run = (opt: Adam, from: number, to: number) => {
      for (let t = from; t < to; t++) {
        const g = grad(t);
        opt.applyGradients([g]);
        g.dispose();
      }
    };
    const w1 = variable([0.3, -0.7], [2]);
    const o1 = new Adam([w1], { learningRate: 0.02, weightDecay: 0.1 });
    run(o1, 0, 3);
    const state = await o1.getState();
    const snapshot = Array.from(w1.dataSync());
    const json = JSON.parse(JSON.stringify({ ...state, m: state.m.map((x) => Array.from(x)), v: state.v.map((x) => Array.from(x)) }));
    run(o1, 3, 6);
    const w2 = variable(snapshot, [2]);
    const o2 = new Adam([w2], { learningRate: 0.5, weightDecay: 0.1 });
    o2.setState({ ...json, m: json.m.map((x: number[]) => Float32Array.from(x)), v: json.v.map((x: number[]) => Float32Array.from(x)) });
    expect(o2.step).toBe(3);
    expect(o2.learningRate).toBe(0.02);
    run(o2, 3, 6);
    expect(Array.from(w2.dataSync())).toEqual(Array.from(w1.dataSync()));
    const o3 = new Adam([w2], { beta1: 0.5 });
    expect(() => o3.setState(state)).toThrow(InvalidOptionError);
    const w3 = variable([1, 2, 3], [3]);
    const o4 = new Adam([w3]);
    expect(() => o4.setState(state)).toThrow(/values/);
    [o1, o2, o3, o4].forEach((o) => o.dispose());
  });

  it('on wasm updates a variable and its moments in place where each holds its data alone: the bits of the new-tensor update; a shared variable is left to that path', async () => {
    const { fastPaths } = await import('../src/nn/fast-paths');
    const init = [Float32Array.from({ length: 1031 }, (_, i) => Math.sin(i)), Float32Array.from({ length: 6 }, (_, i) => i / 4 - 0.5)];
    const run = (inPlace: boolean, share: boolean) => {
      fastPaths.adamInPlace = inPlace;
      const vars = init.map((a, i) => tf.tidy(() => tf.variable(tf.tensor1d(a), true, `adam_inplace_${inPlace}_${share}_${i}`)));
      const opt = new Adam(vars, { learningRate: 0.01, weightDecay: 0.1 });
      const held = share ? tf.clone(vars[0]!) : null; // shares the variable's data (Identity on wasm)
      const ids = vars.map((v) => v.dataId);
      // the bias-like variable is also a product's weight operand, which the engine packs once per tensor
      const a = tf.tensor2d([[1, -2], [0.5, 3], [2, 1]]);
      for (let t = 0; t < 4; t++) {
        opt.minimize(() => tf.add(tf.sum(tf.square(tf.sub(vars[0]!, 0.3))), tf.sum(tf.square(tf.sub(tf.matMul(a, tf.reshape(vars[1]!, [2, 3])), 1)))) as tf.Scalar);
      }
      a.dispose();
      const sameData = vars.map((v, i) => v.dataId === ids[i]);
      const out = vars.map((v) => v.dataSync().slice() as Float32Array);
      const heldValues = held ? (held.dataSync().slice() as Float32Array) : null;
      tf.dispose([...vars, ...(held ? [held] : [])]);
      opt.dispose();
      fastPaths.adamInPlace = true;
      return { out, sameData, heldValues };
    };
    const fresh = run(false, false);
    const inPlace = run(true, false);
    const shared = run(true, true);
    expect(fresh.sameData).toEqual([false, false]);
    expect(inPlace.sameData).toEqual([true, true]);
    expect(shared.sameData).toEqual([false, true]);
    for (const r of [inPlace, shared]) r.out.forEach((a, i) => expect(Buffer.from(a.buffer).equals(Buffer.from(fresh.out[i]!.buffer))).toBe(true));
    // the clone keeps the variable's initial values
    expect(Array.from(shared.heldValues!)).toEqual(Array.from(init[0]!));
  });

  it('rejects bad hyper-parameters, gradients and use after dispose', () => {
    const w = variable([1], [1]);
    expect(() => new Adam([])).toThrow(InvalidOptionError);
    expect(() => new Adam([w], { beta1: 1 })).toThrow(InvalidOptionError);
    expect(() => new Adam([w], { learningRate: -1 })).toThrow(InvalidOptionError);
    expect(() => new Adam([w], { weightDecay: Number.NaN })).toThrow(InvalidOptionError);
    expect(() => new Adam([w, w])).toThrow(/twice/);
    const opt = new Adam([w]);
    const bad = tf.tensor1d([1, 2]);
    expect(() => opt.applyGradients([bad])).toThrow(/shape/);
    expect(() => opt.applyGradients({})).toThrow(/No gradient/);
    expect(() => opt.applyGradients([])).toThrow(InvalidOptionError);
    bad.dispose();
    const before = tf.memory().numTensors;
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before - 2);
    const g = tf.tensor1d([1]);
    expect(() => opt.applyGradients([g])).toThrow(/disposed/);
    g.dispose();
    expect(() => (opt.learningRate = -2)).toThrow(InvalidOptionError);
  });
});

describe('ReduceLROnPlateau (torch semantics)', () => {
  const holder = (lr: number) => ({ learningRate: lr });

  it('reduces after more than `patience` bad epochs, with the relative threshold', () => {
    const h = holder(1);
    const s = new ReduceLROnPlateau(h, { patience: 2, factor: 0.5 });
    // 8.9995 is better than 9 by less than 1e-4 relative: a bad epoch
    const metrics = [10, 9, 8.9995, 9, 9, 9, 9, 9];
    const reduced = metrics.map((m) => s.step(m));
    expect(reduced).toEqual([false, false, false, false, true, false, false, true]);
    expect(h.learningRate).toBe(0.25);
    expect(s.bestMetric).toBe(9);
  });

  it('counts no bad epochs during cooldown and respects minLr and eps', () => {
    const h = holder(1);
    const s = new ReduceLROnPlateau(h, { patience: 2, factor: 0.5, cooldown: 2 });
    const reduced = [5, 5, 5, 5, 5, 5, 5, 5, 5, 5].map((m) => s.step(m));
    expect(reduced.map((r, i) => (r ? i + 1 : 0)).filter(Boolean)).toEqual([4, 9]);
    const h2 = holder(1);
    const s2 = new ReduceLROnPlateau(h2, { patience: 0, factor: 0.1, minLr: 0.05 });
    expect([1, 1, 1, 1].map((m) => s2.step(m))).toEqual([false, true, true, false]);
    expect(h2.learningRate).toBe(0.05);
  });

  it('treats NaN as a bad epoch and round-trips its state through JSON', () => {
    const h = holder(0.1);
    const s = new ReduceLROnPlateau(h, { patience: 1 });
    expect(JSON.parse(JSON.stringify(s.toJSON())).best).toBeNull();
    s.step(1);
    s.step(Number.NaN);
    const saved = JSON.parse(JSON.stringify(s.toJSON()));
    const s2 = new ReduceLROnPlateau(h, { patience: 1 });
    s2.loadState(saved);
    expect(s2.badEpochs).toBe(1);
    expect(s2.step(Number.NaN)).toBe(true);
    expect(h.learningRate).toBeCloseTo(0.01, 12);
    expect(() => new ReduceLROnPlateau(h, { factor: 1 })).toThrow(InvalidOptionError);
    expect(() => new ReduceLROnPlateau(h, { patience: -1 })).toThrow(InvalidOptionError);
  });
});

describe('EarlyStopping (reference EarlyStopper rule)', () => {
  it('stops after `patience` epochs above best + minDelta; in-between losses change nothing', () => {
    const es = new EarlyStopping({ patience: 2, minDelta: 0.5, restoreBest: true });
    const d = [10, 9, 9.3, 9.6, 9.4, 9.7].map((l) => es.step(l));
    expect(d.map((x) => x.improved)).toEqual([true, true, false, false, false, false]);
    expect(d.map((x) => x.stop)).toEqual([false, false, false, false, false, true]);
    expect(es.bestEpoch).toBe(1);
    expect(es.bestLoss).toBe(9);
    expect(es.restoreBest).toBe(true);
  });

  it('any improvement resets the counter; NaN is bad; state round-trips', () => {
    const es = new EarlyStopping({ patience: 2 });
    es.step(5);
    es.step(6);
    expect(es.step(4.999).improved).toBe(true);
    es.step(Number.NaN);
    const saved = JSON.parse(JSON.stringify(es.toJSON()));
    const es2 = new EarlyStopping({ patience: 2 });
    es2.loadState(saved);
    expect(es2.step(7).stop).toBe(true);
    expect(es2.bestEpoch).toBe(2);
    expect(() => new EarlyStopping({ patience: 0 })).toThrow(InvalidOptionError);
    expect(() => new EarlyStopping({ patience: 1, minDelta: -1 })).toThrow(InvalidOptionError);
  });
});

describe('LinearWarmup', () => {
  it('ramps linearly over epochs × iterations, then stays at 1', () => {
    const w = new LinearWarmup({ epochs: 2, iterationsPerEpoch: 5 });
    expect(w.totalIterations).toBe(10);
    expect([1, 5, 10, 11, 100].map((t) => w.factor(t))).toEqual([0.1, 0.5, 1, 1, 1]);
    expect(w.weights(4, { kl: 1, tc: 6 })).toEqual({ kl: 0.4, tc: 6 * 0.4 });
    expect(w.done(10)).toBe(false);
    expect(w.done(11)).toBe(true);
    expect(new LinearWarmup({ epochs: 0, iterationsPerEpoch: 3 }).factor(1)).toBe(1);
    expect(() => new LinearWarmup({ epochs: -1, iterationsPerEpoch: 3 })).toThrow(InvalidOptionError);
    expect(() => new LinearWarmup({ epochs: 1, iterationsPerEpoch: 0 })).toThrow(InvalidOptionError);
  });
});
