import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf, Adam, BatchNorm1d, MLP, SeedStream } from '../src/index';
import { fastPaths } from '../src/nn/fast-paths';
import { affineProduct, plainProduct } from '../src/nn/linear-product';
import { log1pInput } from '../src/nn/log1p-input';
import { batchNormBackward, batchNormForward } from '../src/nn/batchnorm-kernels';
import { setSimdKernelsEnabled } from '../src/wasm/kernels';
import { withDropoutSeed } from '../src/nn/mlp';
import { recordKernels, relErr } from './support/kernels';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

describe('affineProduct', () => {
  // wide input (in > out: dW as (xᵀ·dy)ᵀ) and narrow input (dW as dyᵀ·x)
  // partial panels of 8 (out, in not multiples of 8), one row, and a 128-wide layer
  for (const [rows, inDim, outDim, kernel] of [
    [6, 40, 3, true],
    [5, 4, 9, true],
    [1, 13, 21, true],
    [37, 128, 25, true],
    [6, 40, 3, false],
    [5, 4, 9, false],
  ] as const) {
    it(`equals x·Wᵀ + b with autodiff gradients (${rows}×${inDim} → ${outDim}, ${kernel ? 'SIMD product kernels' : 'engine products'})`, () => {
      fastPaths.affineKernel = kernel;
      let names: string[];
      try {
        ({ names } = recordKernels(() => affineCase(rows, inDim, outDim)));
      } finally {
        fastPaths.affineKernel = true;
      }
      expect(names.includes('InvaeAffine'), 'forward kernel').toBe(kernel);
      expect(names.includes('InvaeAffineGrad'), 'gradient kernel').toBe(kernel);
      expect(names.includes('InvaeAffineWeightGrad'), 'weight-gradient kernel').toBe(kernel);
    });
  }

  function affineCase(rows: number, inDim: number, outDim: number): void {
    {
      const x = tf.randomNormal([rows, inDim], 0, 1, 'float32', 1) as tf.Tensor2D;
      const w = tf.randomNormal([outDim, inDim], 0, 1, 'float32', 2) as tf.Tensor2D;
      const b = tf.randomNormal([outDim], 0, 1, 'float32', 3) as tf.Tensor1D;
      const up = tf.randomNormal([rows, outDim], 0, 1, 'float32', 4);
      const plain = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D, false, true), bb), up));
      const fast = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(affineProduct(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D), up));
      // float32 sums of inDim products in another order (and, with relaxed SIMD, fused): relative to the largest output
      const y = affineProduct(x, w, b);
      const yRef = tf.add(tf.matMul(x, w, false, true), b);
      expect(y.shape).toEqual(yRef.shape);
      expect(relErr(y.dataSync(), yRef.dataSync())).toBeLessThan(1e-6);
      const g1 = tf.grads(plain)([x, w, b]);
      const g2 = tf.grads(fast)([x, w, b]);
      g1.forEach((g, i) => expect(maxAbsDiff(g2[i]!, g), `gradient ${i}`).toBeLessThan(1e-4));
      // data input: same weight and bias gradients, none for x
      const dataInput = (ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(affineProduct(x, ww as tf.Tensor2D, bb as tf.Tensor1D, { inputGrad: false }), up));
      const g3 = tf.grads(dataInput)([w, b]);
      expect(maxAbsDiff(g3[0]!, g1[1]!)).toBeLessThan(1e-4);
      expect(maxAbsDiff(g3[1]!, g1[2]!)).toBeLessThan(1e-4);
      tf.dispose([x, w, b, up, ...g1, ...g2, ...g3]);
    }
  }

  it('an MLP with dataInput gives the same parameter gradients and no leaks', () => {
    const make = () => new MLP({ inputDim: 30, outputDim: 4, hiddenDim: 8, nLayers: 2, activation: 'lrelu', batchNorm: true }, new SeedStream(5));
    const a = make();
    const b = make();
    const x = tf.randomUniform([7, 30], 0, 3, 'float32', 6) as tf.Tensor2D;
    const vars = (m: MLP) => m.namedVariables().filter((v) => v.trainable).map((v) => v.variable);
    const run = (m: MLP, dataInput: boolean) => tf.variableGrads(() => tf.sum(tf.square(m.forward(x, { training: true, dataInput }))) as tf.Scalar, vars(m));
    const ga = run(a, false);
    const gb = run(b, true);
    expect(Math.abs(ga.value.dataSync()[0]! - gb.value.dataSync()[0]!)).toBeLessThan(1e-4);
    const na = Object.values(ga.grads);
    const nb = Object.values(gb.grads);
    na.forEach((g, i) => expect(maxAbsDiff(nb[i]!, g)).toBeLessThan(1e-4));
    tf.dispose([ga.value, gb.value, ...na, ...nb]);
    const before = tf.memory().numTensors;
    tf.dispose(Object.values(run(b, true).grads));
    expect(tf.memory().numTensors).toBe(before + 1); // only the value tensor of the last run remains
    tf.dispose([x, ...vars(a), ...vars(b)]);
  });
});

describe('plainProduct', () => {
  // leftover rows (m % 4) and a partial last panel (n % 8); the kernels' sums run over k in order
  for (const [m, k, n] of [[6, 5, 3], [37, 50, 128], [256, 128, 20]] as const) {
    for (const kernel of [true, false]) {
      it(`equals a · b with the autodiff gradients of matMul (${m}×${k} · ${k}×${n}, ${kernel ? 'SIMD product kernels' : 'engine products'})`, () => {
        fastPaths.productKernel = kernel;
        try {
          const { names } = recordKernels(() => {
            const a = tf.randomNormal([m, k], 0, 1, 'float32', 11) as tf.Tensor2D;
            const b = tf.randomNormal([k, n], 0, 1, 'float32', 12) as tf.Tensor2D;
            const up = tf.randomNormal([m, n], 0, 1, 'float32', 13);
            const y = plainProduct(a, b);
            const yRef = tf.matMul(a, b);
            expect(y.shape).toEqual([m, n]);
            expect(relErr(y.dataSync(), yRef.dataSync())).toBeLessThan(1e-6);
            const g1 = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), up)))([a, b]);
            const g2 = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(plainProduct(x as tf.Tensor2D, w as tf.Tensor2D), up)))([a, b]);
            g1.forEach((g, i) => {
              expect(g2[i]!.shape).toEqual(g.shape);
              expect(relErr(g2[i]!.dataSync(), g.dataSync()), `gradient ${i}`).toBeLessThan(1e-6);
            });
            tf.dispose([a, b, up, y, yRef, ...g1, ...g2]);
          });
          expect(names.includes('InvaeProduct'), 'forward kernel').toBe(kernel);
          expect(names.includes('InvaeProductGrad'), 'gradient kernel').toBe(kernel);
        } finally {
          fastPaths.productKernel = true;
        }
      });
    }
  }
});

describe('log1pInput', () => {
  it('builds [log1p(x) | u] and Σx like the tensor-op path, with and without covariates', () => {
    const xs = new Float32Array(6 * 9).map((_, i) => (i % 3 === 0 ? 0 : (i * 7) % 11) + (i % 5 === 0 ? 0.5 : 0));
    const x = tf.tensor2d(xs, [6, 9]);
    const u = tf.tensor2d(new Float32Array(6 * 2).map((_, i) => i % 2), [6, 2]);
    for (const cov of [u, null]) {
      const f = log1pInput(x, cov);
      const p = log1pInput(x, cov, { fused: false });
      expect(f.input.shape).toEqual([6, cov ? 11 : 9]);
      expect(maxAbsDiff(f.input, p.input)).toBeLessThan(1e-6);
      expect(maxAbsDiff(f.library, p.library)).toBeLessThan(1e-4);
      tf.dispose([f.input, f.library, p.input, p.library]);
    }
    tf.dispose([x, u]);
  });
});

describe('Adam kernel', () => {
  it('gives the tensor-op update (weight decay, 6 steps) within float32 rounding', () => {
    const run = (kernel: boolean) => {
      const prev = fastPaths.adamKernel;
      fastPaths.adamKernel = kernel;
      try {
        const a = tf.variable(tf.tensor2d([[0.5, -1.5, 2], [3, 0, -0.25]]));
        const b = tf.variable(tf.tensor1d([1e-3, 40]));
        const big = tf.variable(tf.randomNormal([200, 200], 0, 1, 'float32', 9)); // above the kernel's size limit
        const opt = new Adam([a, b, big], { learningRate: 0.05, weightDecay: 0.1, beta1: 0.8 });
        for (let s = 0; s < 6; s++) {
          const g = [tf.sin(tf.mul(a, s + 1)), tf.mul(b, 0.5 - s), tf.cos(big)];
          opt.applyGradients(g);
          tf.dispose(g);
        }
        const out = [...a.dataSync(), ...b.dataSync(), ...big.dataSync().slice(0, 50)];
        opt.dispose();
        tf.dispose([a, b, big]);
        return out;
      } finally {
        fastPaths.adamKernel = prev;
      }
    };
    const fused = run(true);
    const plain = run(false);
    fused.forEach((v, i) => expect(Math.abs(v - plain[i]!), `element ${i}`).toBeLessThan(2e-6 * Math.max(1, Math.abs(plain[i]!))));
  });
});

describe('fused BatchNorm (training)', () => {
  it('its JavaScript kernels equal its engine-op form to float32 rounding, with no tensor left behind', () => {
    const x = tf.randomNormal([256, 37], -1, 4, 'float32', 31) as tf.Tensor2D;
    const up = tf.randomNormal([256, 37], 0, 1, 'float32', 32);
    const results = [false, true].map((kernel) => {
      fastPaths.batchNormKernel = kernel;
      try {
        const bn = new BatchNorm1d(37);
        bn.weight.assign(tf.randomNormal([37], 1, 0.5, 'float32', 33));
        bn.bias.assign(tf.randomNormal([37], 0, 1, 'float32', 34));
        const loss = (xx: tf.Tensor2D) => tf.sum(tf.mul(bn.apply(xx, { training: true, fused: true, updateStats: false }).out, up)) as tf.Scalar;
        const before = tf.memory().numTensors;
        const { value, grads } = tf.variableGrads(() => loss(x), [bn.weight, bn.bias]);
        const dx = tf.grad((xx: tf.Tensor) => loss(xx as tf.Tensor2D))(x);
        const r = bn.apply(x, { training: true, fused: true });
        const out = { value: value.dataSync()[0]!, out: r.out.dataSync(), scale: r.scale.dataSync(), grads: [dx, grads[bn.weight.name]!, grads[bn.bias.name]!].map((t) => t.dataSync()), stats: [bn.runningMean.dataSync(), bn.runningVar.dataSync()] };
        tf.dispose([value, dx, r.out, r.scale, ...Object.values(grads)]);
        expect(tf.memory().numTensors, 'tensors left').toBe(before);
        bn.weight.dispose();
        bn.bias.dispose();
        bn.runningMean.dispose();
        bn.runningVar.dispose();
        return out;
      } finally {
        fastPaths.batchNormKernel = true;
      }
    });
    const [ops, kern] = results as [(typeof results)[0], (typeof results)[0]];
    const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
      expect(a.length).toBe(b.length);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!), `${what} ${i}`).toBeLessThan(tol * Math.max(1, Math.abs(b[i]!)));
    };
    close(kern.out, ops.out, 2e-6, 'out');
    close(kern.scale, ops.scale, 2e-6, 'scale');
    expect(Math.abs(kern.value - ops.value)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ops.value)));
    kern.grads.forEach((g, i) => close(g, ops.grads[i]!, 1e-5, `gradient ${i}`));
    kern.stats.forEach((s, i) => close(s, ops.stats[i]!, 2e-6, `running statistic ${i}`));
  });

  for (const [n, c] of [[256, 38], [7, 2]] as const) {
    it(`its SIMD kernels (even column counts) equal its JavaScript kernels bit for bit (${n} × ${c})`, () => {
      const x = tf.randomNormal([n, c], -1, 4, 'float32', 41) as tf.Tensor2D;
      const dy = tf.randomNormal([n, c], 0, 1, 'float32', 42) as tf.Tensor2D;
      const gamma = tf.randomNormal([c], 1, 0.5, 'float32', 43) as tf.Tensor1D;
      const beta = tf.randomNormal([c], 0, 1, 'float32', 44) as tf.Tensor1D;
      const run = (simd: boolean) => {
        setSimdKernelsEnabled(simd);
        try {
          const fwd = batchNormForward(x, gamma, beta, 1e-3);
          const bwd = batchNormBackward(dy, fwd[1], fwd[4], gamma);
          const values = [...fwd, ...bwd].map((t) => Buffer.from((t.dataSync() as Float32Array).buffer));
          tf.dispose([...fwd, ...bwd]);
          return values;
        } finally {
          setSimdKernelsEnabled(true);
        }
      };
      const js = run(false);
      const simd = run(true);
      const names = ['out', 'x̂', 'mean', 'variance', 'inv', 'dx', 'dγ', 'dβ'];
      simd.forEach((v, i) => expect(v.equals(js[i]!), names[i]).toBe(true));
      tf.dispose([x, dy, gamma, beta]);
    });
  }

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`its running-statistics kernel gives the engine ops' float32 values bit for bit (${backend})`, async () => {
      await initEngine({ backend, report: null });
      try {
        const { runningStatsUpdate } = await import('../src/nn/batchnorm-kernels');
        const [rm, rv, m, v] = [41, 42, 43, 44].map((s, i) => tf.randomNormal([37], i === 1 || i === 3 ? 2 : 0, 3, 'float32', s).abs() as tf.Tensor1D);
        for (const [mo, n] of [[0.01, 256], [0.1, 7], [0.3, 2]] as const) {
          const unbiased = n / (n - 1);
          const [km, kv] = runningStatsUpdate(rm!, rv!, m!, v!, mo, unbiased);
          const em = tf.add(tf.mul(rm!, 1 - mo), tf.mul(m!, mo));
          const ev = tf.add(tf.mul(rv!, 1 - mo), tf.mul(v!, mo * unbiased));
          expect(Buffer.from((km.dataSync() as Float32Array).buffer).equals(Buffer.from((em.dataSync() as Float32Array).buffer)), `mean, momentum ${mo}`).toBe(true);
          expect(Buffer.from((kv.dataSync() as Float32Array).buffer).equals(Buffer.from((ev.dataSync() as Float32Array).buffer)), `variance, momentum ${mo}`).toBe(true);
          tf.dispose([km, kv, em, ev]);
        }
        tf.dispose([rm!, rv!, m!, v!]);
      } finally {
        await initEngine({ backend: 'wasm', report: null });
      }
    });
  }

  it('equals the elementwise form: output, gradients for x, γ, β, and running statistics', () => {
    const x = tf.randomNormal([9, 5], 2, 3, 'float32', 21) as tf.Tensor2D;
    const up = tf.randomNormal([9, 5], 0, 1, 'float32', 22);
    const results = [false, true].map((fused) => {
      const bn = new BatchNorm1d(5);
      bn.weight.assign(tf.tensor1d([0.5, 1, 2, -1, 3]));
      bn.bias.assign(tf.tensor1d([0, 1, -1, 0.5, 2]));
      const loss = (xx: tf.Tensor2D) => tf.sum(tf.mul(bn.apply(xx, { training: true, fused, updateStats: false }).out, up)) as tf.Scalar;
      const { grads } = tf.variableGrads(() => loss(x), [bn.weight, bn.bias]);
      const dx = tf.grad((xx: tf.Tensor) => loss(xx as tf.Tensor2D))(x);
      const out = bn.apply(x, { training: true, fused }).out; // updates the running statistics once
      return { out, grads: [dx, grads[bn.weight.name]!, grads[bn.bias.name]!], stats: [bn.runningMean.dataSync(), bn.runningVar.dataSync()] };
    });
    expect(maxAbsDiff(results[1]!.out, results[0]!.out)).toBeLessThan(1e-5);
    results[0]!.grads.forEach((g, i) => expect(maxAbsDiff(results[1]!.grads[i]!, g), `gradient ${i}`).toBeLessThan(1e-4));
    for (let k = 0; k < 2; k++) {
      const a = results[0]!.stats[k]!;
      const b = results[1]!.stats[k]!;
      a.forEach((v, i) => expect(Math.abs(b[i]! - v)).toBeLessThan(1e-5 * Math.max(1, Math.abs(v))));
    }
  });
});

describe('MLP block op (BatchNorm → activation → dropout in training)', () => {
  /** Output, gradients for the input and every trainable variable, and running statistics of one seeded training pass. */
  function pass(mlp: MLP, x: tf.Tensor2D, up: tf.Tensor2D, seed: number) {
    const vars = mlp.namedVariables().filter((v) => v.trainable).map((v) => v.variable);
    return tf.tidy(() => {
      const loss = (xx: tf.Tensor) => withDropoutSeed(seed, () => tf.sum(tf.mul(mlp.forward(xx as tf.Tensor2D, { training: true }), up)) as tf.Scalar);
      const out = withDropoutSeed(seed, () => mlp.forward(x, { training: true })); // one update of the running statistics
      const dx = tf.grad(loss)(x);
      const { grads } = tf.variableGrads(() => loss(x), vars);
      const bits = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).slice().buffer);
      return {
        out: bits(out),
        dx: bits(dx),
        grads: vars.map((v) => bits(grads[v.name]!)),
        stats: mlp.bn.flatMap((b) => [bits(b.runningMean), bits(b.runningVar)]),
      };
    });
  }

  for (const backend of ['wasm', 'cpu'] as const) {
    for (const [activation, dropoutRate, endWithAct, hidden] of [['relu', 0.3, false, 6], ['lrelu', 0.3, true, 6], ['relu', 0, false, 5], ['lrelu', 0.5, false, 7]] as const) {
      it(`gives the bits of the separate ops (${backend}, ${activation}, dropout ${dropoutRate}, ${endWithAct ? 'ending with the activation' : 'no final activation'}, width ${hidden})`, async () => {
        await initEngine({ backend, report: null });
        try {
          const x = tf.randomNormal([13, 4], 0, 2, 'float32', 5) as tf.Tensor2D;
          const up = tf.randomNormal([13, 3], 0, 1, 'float32', 6) as tf.Tensor2D;
          const runs = [false, true].map((block) => {
            fastPaths.batchNormBlock = block;
            const mlp = new MLP({ inputDim: 4, outputDim: 3, hiddenDim: hidden, nLayers: 3, activation, slope: 0.2, endWithAct, batchNorm: true, dropoutRate }, new SeedStream(9));
            // γ, β away from 1, 0 so that negative normalised values reach the activation
            for (const b of mlp.bn) {
              b.weight.assign(tf.randomNormal(b.weight.shape, 1, 0.5, 'float32', 7));
              b.bias.assign(tf.randomNormal(b.bias.shape, 0, 0.5, 'float32', 8));
            }
            const before = tf.memory().numTensors;
            const r = pass(mlp, x, up, 11);
            expect(tf.memory().numTensors, 'no tensor left behind').toBe(before);
            mlp.namedVariables().forEach((v) => v.variable.dispose());
            return r;
          });
          const [plain, fused] = runs as [ReturnType<typeof pass>, ReturnType<typeof pass>];
          expect(fused.out.equals(plain.out), 'output').toBe(true);
          expect(fused.dx.equals(plain.dx), 'dx').toBe(true);
          fused.grads.forEach((g, i) => expect(g.equals(plain.grads[i]!), `gradient ${i}`).toBe(true));
          fused.stats.forEach((s, i) => expect(s.equals(plain.stats[i]!), `running statistic ${i}`).toBe(true));
          tf.dispose([x, up]);
        } finally {
          fastPaths.batchNormBlock = true;
          await initEngine({ backend: 'wasm', report: null });
        }
      });
    }
  }

  it('runs one kernel each way per block in a training pass, and none in eval mode or in a trace', async () => {
    const mlp = new MLP({ inputDim: 4, outputDim: 3, hiddenDim: 6, nLayers: 2, activation: 'relu', batchNorm: true, dropoutRate: 0.2 }, new SeedStream(3));
    const x = tf.randomNormal([8, 4], 0, 1, 'float32', 1) as tf.Tensor2D;
    const kernels = (f: () => void) => recordKernels(() => tf.tidy(f)).names;
    const train = kernels(() => void tf.grad((xx: tf.Tensor) => tf.sum(mlp.forward(xx as tf.Tensor2D, { training: true })) as tf.Scalar)(x));
    expect(train.filter((n) => n === 'InvaeBatchNormBlockForward')).toHaveLength(2);
    expect(train.filter((n) => n === 'InvaeBatchNormBlockBackward')).toHaveLength(2);
    expect(train.filter((n) => n === 'Relu' || n === 'InvaeBatchNormForward')).toHaveLength(0);
    expect(kernels(() => void mlp.forward(x, { training: false })).filter((n) => n.startsWith('InvaeBatchNormBlock'))).toHaveLength(0);
    expect(kernels(() => void mlp.trace(x, { training: true })).filter((n) => n.startsWith('InvaeBatchNormBlock'))).toHaveLength(0);
    mlp.namedVariables().forEach((v) => v.variable.dispose());
    x.dispose();
  });
});
