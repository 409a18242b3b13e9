import { afterEach, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  ENGINE_ORDER,
  EngineUnavailableError,
  InvalidOptionError,
  initEngine,
  parseEngineRequest,
  type ModuleLoader,
} from '../src/index';

const missing = (specifier: string) => Object.assign(new Error(`Cannot find package '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' });

/** A loader that behaves like a machine where only the named packages are installed. */
function loaderWith(present: Record<string, () => unknown>): ModuleLoader & { calls: string[] } {
  const calls: string[] = [];
  const loader = async (specifier: string) => {
    calls.push(specifier);
    const make = present[specifier];
    if (!make) throw missing(specifier);
    return make();
  };
  return Object.assign(loader, { calls });
}

const realWasm = () => import('@tensorflow/tfjs-backend-wasm');

/** Stands in for @tensorflow/tfjs-node: importing it registers a backend named 'tensorflow'. */
function fakeNative(version: string) {
  return () => {
    if (!tf.findBackend('tensorflow')) {
      const cpuFactory = tf.findBackendFactory('cpu');
      if (!cpuFactory) throw new Error('cpu backend factory missing');
      tf.registerBackend('tensorflow', cpuFactory, 0);
    }
    return { version: { 'tfjs-node': version } };
  };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('engine selection order', () => {
  it('tries tfjs-node-gpu, tfjs-node, wasm, cpu in that order', () => {
    expect(ENGINE_ORDER).toEqual(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
  });

  it('falls back to wasm when neither native package is installed', async () => {
    const loader = loaderWith({ '@tensorflow/tfjs-backend-wasm': realWasm });
    const info = await initEngine({ backend: 'auto', loader, report: null });
    expect(loader.calls).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm']);
    expect(info.engine).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.skipped.map((s) => s.engine)).toEqual(['tensorflow-gpu', 'tensorflow']);
    expect(info.skipped[0]!.error).toContain('@tensorflow/tfjs-node-gpu');
  });

  it('picks tfjs-node when it loads and the GPU build does not', async () => {
    const loader = loaderWith({ '@tensorflow/tfjs-node': fakeNative('4.22.0'), '@tensorflow/tfjs-backend-wasm': realWasm });
    const info = await initEngine({ backend: 'auto', loader, report: null });
    expect(info.engine).toBe('tensorflow');
    expect(info.package).toBe('@tensorflow/tfjs-node');
    expect(info.packageVersion).toBe('4.22.0');
    expect(loader.calls).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
  });

  it('prefers the GPU build when both native packages load', async () => {
    const loader = loaderWith({
      '@tensorflow/tfjs-node-gpu': fakeNative('4.22.0'),
      '@tensorflow/tfjs-node': fakeNative('4.22.0'),
    });
    const info = await initEngine({ backend: 'auto', loader, report: null });
    expect(info.engine).toBe('tensorflow-gpu');
    expect(loader.calls).toEqual(['@tensorflow/tfjs-node-gpu']);
  });

  it('falls back to cpu when wasm cannot load either', async () => {
    const loader = loaderWith({});
    const info = await initEngine({ backend: 'auto', loader, report: null });
    expect(info.engine).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(info.skipped.map((s) => s.engine)).toEqual(['tensorflow-gpu', 'tensorflow', 'wasm']);
  });
});

describe('forcing an engine', () => {
  it('INVAE_BACKEND=cpu forces the cpu backend and it computes', async () => {
    vi.stubEnv('INVAE_BACKEND', 'cpu');
    const info = await initEngine({ report: null });
    expect(info.engine).toBe('cpu');
    expect(info.requested).toBe('cpu');
    const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
    expect(Array.from(await y.data())).toEqual([11]);
  });

  it('INVAE_BACKEND=wasm forces the wasm backend and it computes', async () => {
    vi.stubEnv('INVAE_BACKEND', 'wasm');
    const info = await initEngine({ report: null });
    expect(info.engine).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
    expect(Array.from(await y.data())).toEqual([11]);
  });

  it('on wasm, clones (the tensors taped ops save for their gradients) share their data instead of copying it, and stay valid and counted', async () => {
    await initEngine({ backend: 'wasm', report: null });
    const before = tf.memory();
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const y = tf.clone(x);
    // one buffer for both
    expect(y.dataId).toBe(x.dataId);
    expect(tf.memory().numDataBuffers - before.numDataBuffers).toBe(1);
    expect(tf.memory().numTensors - before.numTensors).toBe(2);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    y.dispose();
    expect(tf.memory().numBytes).toBe(before.numBytes);
    // gradients through saved (shared) tensors are unchanged
    const v = tf.variable(tf.tensor1d([0.5, -1, 2]));
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.exp(v), tf.sigmoid(v))) as tf.Scalar, [v]);
    const g = Array.from(grads[v.name]!.dataSync());
    const expected = [0.5, -1, 2].map((a) => Math.exp(a) / (1 + Math.exp(-a)) + Math.exp(a) * (1 / (1 + Math.exp(-a))) * (1 - 1 / (1 + Math.exp(-a))));
    g.forEach((gi, i) => expect(gi).toBeCloseTo(expected[i]!, 5));
    v.assign(tf.tensor1d([1, 1, 1]));
    expect(Array.from(v.dataSync())).toEqual([1, 1, 1]);
    tf.dispose([v, grads[v.name]!]);
    // string tensors are still copied by the original kernel
    const s = tf.clone(tf.tensor1d(['a', 'b'], 'string'));
    expect(s.dataSync()).toEqual(['a', 'b']);
    // a cast to the tensor's own dtype shares too; a conversion still converts
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      const t = tf.tensor1d([1, 0, 3], dtype);
      const c = tf.cast(t, dtype);
      expect(c.dataId, dtype).toBe(t.dataId);
      t.dispose();
      expect(Array.from(c.dataSync()), dtype).toEqual(dtype === 'bool' ? [1, 0, 1] : [1, 0, 3]);
      c.dispose();
    }
    const f = tf.tensor1d([1.7, -2.2, 0]);
    const i = tf.cast(f, 'int32');
    expect(i.dataId).not.toBe(f.dataId);
    expect(Array.from(i.dataSync())).toEqual([1, -2, 0]);
    tf.dispose([f, i]);
  });

  it('on wasm, float32 matrix transposes (the SIMD kernel) equal the engine kernel bit for bit; other transposes keep it', async () => {
    await initEngine({ backend: 'wasm', report: null });
    const { setSimdKernelsEnabled } = await import('../src/wasm/kernels');
    const cases: [number[], number[], tf.DataType][] = [
      [[256, 128], [1, 0], 'float32'], [[37, 130], [1, 0], 'float32'], [[5, 3], [1, 0], 'float32'], [[1, 7], [1, 0], 'float32'], [[9, 1], [1, 0], 'float32'],
      [[4, 6, 5], [2, 0, 1], 'float32'], [[6, 10], [1, 0], 'int32'], [[3, 4], [0, 1], 'float32'],
    ];
    for (const [shape, perm, dtype] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(Float32Array.from({ length: n }, (_, i) => (dtype === 'int32' ? i : Math.sin(i) * 1e3)), shape, dtype);
      const ours = tf.transpose(x, perm);
      setSimdKernelsEnabled(false); // the engine's own kernel
      const engine = tf.transpose(x, perm);
      setSimdKernelsEnabled(true);
      expect(ours.shape).toEqual(engine.shape);
      expect(Array.from(ours.dataSync()), `${shape} ${perm} ${dtype}`).toEqual(Array.from(engine.dataSync()));
      tf.dispose([x, ours, engine]);
    }
  });

  it('the API option wins over INVAE_BACKEND', async () => {
    vi.stubEnv('INVAE_BACKEND', 'wasm');
    const info = await initEngine({ backend: 'cpu', report: null });
    expect(info.engine).toBe('cpu');
  });

  it('forcing tensorflow without tfjs-node installed is a clear error naming the package', async () => {
    const loader = loaderWith({ '@tensorflow/tfjs-backend-wasm': realWasm });
    const err = await initEngine({ backend: 'tensorflow', loader, report: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineUnavailableError);
    const e = err as EngineUnavailableError;
    expect(e.code).toBe('ENGINE_UNAVAILABLE');
    expect(e.message).toContain('@tensorflow/tfjs-node');
    expect(e.hint).toContain('npm install @tensorflow/tfjs-node');
    expect(e.packages).toContain('@tensorflow/tfjs-node');
    // nothing but the native packages was tried
    expect(loader.calls).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
  });

  it('forcing tensorflow with the real loader fails the same way on a machine without it', async () => {
    const err = await initEngine({ backend: 'tensorflow', report: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineUnavailableError);
    expect((err as Error).message).toMatch(/@tensorflow\/tfjs-node/);
  });

  it('forcing wasm when it is missing names the wasm package', async () => {
    const err = await initEngine({ backend: 'wasm', loader: loaderWith({}), report: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineUnavailableError);
    expect((err as Error).message).toContain('@tensorflow/tfjs-backend-wasm');
  });

  it('rejects unknown engine names with a typed error', () => {
    expect(() => parseEngineRequest('gpu', 'INVAE_BACKEND')).toThrow(InvalidOptionError);
    expect(() => parseEngineRequest('gpu', 'INVAE_BACKEND')).toThrow(/INVAE_BACKEND/);
    expect(parseEngineRequest(undefined)).toBe('auto');
    expect(parseEngineRequest(' WASM ')).toBe('wasm');
    expect(parseEngineRequest('tensorflow')).toBe('tensorflow');
  });
});

describe('reporting', () => {
  it('reports the chosen engine once, not on every call', async () => {
    const lines: string[] = [];
    await initEngine({ backend: 'cpu', report: null });
    await initEngine({ backend: 'wasm', report: (l) => lines.push(l) });
    await initEngine({ backend: 'wasm', report: (l) => lines.push(l) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^invae engine: wasm \(@tensorflow\/tfjs-backend-wasm 4\.\d+\.\d+, tfjs-core 4\.\d+\.\d+\)$/);
  });
});
