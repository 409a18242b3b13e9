import { beforeAll, describe, expect, it } from 'vitest';
import { BatchNorm1d, InvalidOptionError, Linear, MLP, SeedStream, detach, initEngine, tf } from '../src/index';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

describe('Linear / MLP initialisation', () => {
  it('weights are Xavier-uniform: within ±√(6/(in+out)) with variance 2/(in+out); biases within ±1/√in', () => {
    const inDim = 300;
    const outDim = 200;
    const l = new Linear(inDim, outDim, new SeedStream(7));
    expect(l.weight.shape).toEqual([outDim, inDim]); // PyTorch layout
    const w = l.weight.dataSync();
    const bound = Math.sqrt(6 / (inDim + outDim));
    let sum = 0;
    let sq = 0;
    let max = 0;
    for (const v of w) {
      sum += v;
      sq += v * v;
      max = Math.max(max, Math.abs(v));
    }
    const mean = sum / w.length;
    const variance = sq / w.length - mean * mean;
    expect(max).toBeLessThanOrEqual(bound);
    expect(max).toBeGreaterThan(0.99 * bound);
    expect(Math.abs(mean)).toBeLessThan(0.01 * bound);
    expect(variance / (2 / (inDim + outDim))).toBeGreaterThan(0.97);
    expect(variance / (2 / (inDim + outDim))).toBeLessThan(1.03);
    const b = l.bias.dataSync();
    expect(Math.max(...Array.from(b, Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(inDim));
    // y = x Wᵀ + b
    const x = tf.randomNormal([4, inDim]);
    const y = l.apply(x as tf.Tensor2D);
    const ref = tf.add(tf.matMul(x, tf.transpose(l.weight)), l.bias);
    expect(tf.max(tf.abs(tf.sub(y, ref))).dataSync()[0]).toBeLessThan(1e-5);
  });

  it('the same seed gives the same weights, another seed different ones', () => {
    const a = new Linear(5, 3, new SeedStream(1)).weight.dataSync();
    const b = new Linear(5, 3, new SeedStream(1)).weight.dataSync();
    const c = new Linear(5, 3, new SeedStream(2)).weight.dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('MLP layout and names follow the reference (fc.i / bn.i, hidden widths, end_with_act)', () => {
    const m = new MLP({ inputDim: 4, outputDim: 3, hiddenDim: 8, nLayers: 3, activation: 'relu', batchNorm: true }, new SeedStream(3));
    expect(m.namedVariables().map((v) => `${v.name}:${v.variable.shape.join('x')}:${v.trainable}`)).toEqual([
      'fc.0.weight:8x4:true',
      'fc.0.bias:8:true',
      'fc.1.weight:8x8:true',
      'fc.1.bias:8:true',
      'fc.2.weight:3x8:true',
      'fc.2.bias:3:true',
      'bn.0.weight:8:true',
      'bn.0.bias:8:true',
      'bn.0.running_mean:8:false',
      'bn.0.running_var:8:false',
      'bn.1.weight:8:true',
      'bn.1.bias:8:true',
      'bn.1.running_mean:8:false',
      'bn.1.running_var:8:false',
      'bn.2.weight:3:true',
      'bn.2.bias:3:true',
      'bn.2.running_mean:3:false',
      'bn.2.running_var:3:false',
    ]);
    // without end_with_act the output can be negative; with it (relu) it cannot
    const x = tf.randomNormal([64, 4], 0, 3, 'float32', 5) as tf.Tensor2D;
    expect(tf.min(m.forward(x, { training: false })).dataSync()[0]).toBeLessThan(0);
    const m2 = new MLP({ inputDim: 4, outputDim: 3, hiddenDim: 8, nLayers: 2, activation: 'relu', endWithAct: true }, new SeedStream(3));
    expect(tf.min(m2.forward(x, { training: false })).dataSync()[0]).toBeGreaterThanOrEqual(0);
  });

  it('lrelu uses the slope on negative inputs', () => {
    const m = new MLP({ inputDim: 1, outputDim: 1, hiddenDim: 1, nLayers: 1, activation: 'lrelu', slope: 0.1, endWithAct: true }, new SeedStream(1));
    m.fc[0]!.weight.assign(tf.tensor2d([[1]]));
    m.fc[0]!.bias.assign(tf.tensor1d([0]));
    expect(Array.from(m.forward(tf.tensor2d([[-2], [3]]), { training: false }).dataSync())).toEqual([
      expect.closeTo(-0.2, 6),
      expect.closeTo(3, 6),
    ]);
  });

  it('dropout: eval is the identity; training zeroes units or scales them by 1/(1−p), and inputVjp reuses the mask', () => {
    const m = new MLP({ inputDim: 4, outputDim: 50, hiddenDim: 50, nLayers: 1, activation: 'relu', endWithAct: false, dropoutRate: 0.4 }, new SeedStream(2));
    const x = tf.randomNormal([20, 4], 0, 1, 'float32', 3) as tf.Tensor2D;
    const plain = m.fc[0]!.apply(x).dataSync();
    expect(Array.from(m.forward(x, { training: false }).dataSync())).toEqual(Array.from(plain));
    const trace = m.trace(x, { training: true });
    const out = trace.out.dataSync();
    let zeros = 0;
    out.forEach((v, i) => {
      if (v === 0) zeros++;
      else expect(v / plain[i]!).toBeCloseTo(1 / 0.6, 4);
    });
    expect(zeros / out.length).toBeGreaterThan(0.3);
    expect(zeros / out.length).toBeLessThan(0.5);
    // the vector–Jacobian product uses the same mask as the forward pass
    const u = tf.onesLike(trace.out) as tf.Tensor2D;
    const vjp = m.inputVjp(trace, u);
    const want = tf.matMul(trace.layers[0]!.dropoutMask!, m.fc[0]!.weight);
    expect(tf.max(tf.abs(tf.sub(vjp, want))).dataSync()[0]).toBeLessThan(1e-5);
  });

  it('rejects bad options with typed errors', () => {
    expect(() => new MLP({ inputDim: 2, outputDim: 2, hiddenDim: 2, nLayers: 0, activation: 'relu' }, new SeedStream(1))).toThrow(InvalidOptionError);
    expect(() => new MLP({ inputDim: 2, outputDim: 2, hiddenDim: 2, nLayers: 1, activation: 'tanh' as 'relu' }, new SeedStream(1))).toThrow(InvalidOptionError);
  });

  it('inputVjp equals the autodiff input gradient of out·u (eval and training BN, lrelu)', () => {
    for (const training of [false, true]) {
      const m = new MLP({ inputDim: 3, outputDim: 4, hiddenDim: 6, nLayers: 3, activation: 'lrelu', batchNorm: !training }, new SeedStream(11));
      const x = tf.randomNormal([5, 3], 0, 1, 'float32', 2) as tf.Tensor2D;
      const u = tf.randomNormal([5, 4], 0, 1, 'float32', 3) as tf.Tensor2D;
      const trace = m.trace(x, { training });
      const vjp = m.inputVjp(trace, u);
      const auto = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(m.forward(xx as tf.Tensor2D, { training }), u)))(x);
      expect(tf.max(tf.abs(tf.sub(vjp, auto))).dataSync()[0]).toBeLessThan(1e-5);
    }
  });
});

describe('BatchNorm1d', () => {
  it('eval mode uses the running statistics', () => {
    const bn = new BatchNorm1d(2);
    bn.runningMean.assign(tf.tensor1d([1, -2]));
    bn.runningVar.assign(tf.tensor1d([4, 0.25]));
    bn.weight.assign(tf.tensor1d([2, 1]));
    bn.bias.assign(tf.tensor1d([0.5, 0]));
    const out = bn.apply(tf.tensor2d([[3, -1]]), { training: false }).out.dataSync();
    expect(out[0]).toBeCloseTo(2 * (2 / Math.sqrt(4.001)) + 0.5, 5);
    expect(out[1]).toBeCloseTo(1 / Math.sqrt(0.251), 5);
    // running statistics untouched in eval mode
    expect(Array.from(bn.runningMean.dataSync())).toEqual([1, -2]);
  });

  it('training mode normalises by the biased batch variance and updates running stats with momentum 0.01 (unbiased variance)', () => {
    const bn = new BatchNorm1d(1);
    const x = tf.tensor2d([[1], [2], [3], [6]]); // mean 3, biased var 3.5, unbiased 14/3
    const out = bn.apply(x, { training: true }).out.dataSync();
    const sd = Math.sqrt(3.5 + 1e-3);
    expect(Array.from(out).map((v) => Number(v.toFixed(5)))).toEqual([-2 / sd, -1 / sd, 0, 3 / sd].map((v) => Number(v.toFixed(5))));
    expect(bn.runningMean.dataSync()[0]).toBeCloseTo(0.99 * 0 + 0.01 * 3, 6);
    expect(bn.runningVar.dataSync()[0]).toBeCloseTo(0.99 * 1 + 0.01 * (14 / 3), 6);
  });

  it('does not leak tensors across a training-mode call', () => {
    const bn = new BatchNorm1d(3);
    const x = tf.randomNormal([8, 3]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      bn.apply(x, { training: true });
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('detach passes values and blocks gradients', () => {
    const x = tf.tensor1d([1, 2]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.add(tf.mul(detach(v), v), v)))(x);
    // d/dv (c·v + v) with c = v held constant = c + 1
    expect(Array.from(g.dataSync())).toEqual([2, 3]);
  });
});
