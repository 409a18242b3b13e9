import * as tf from '@tensorflow/tfjs';

// The wasm engine's Identity kernel copies its input into new memory, where the cpu and WebGL engines
// share the input's data (one more reference). The engine calls Identity for every tensor a taped op
// saves for its gradient (`Engine.clone`), so on wasm each training step copied ~100 activations
// (about 1 ms of a 50 ms step). Tensors are immutable — no kernel writes into its inputs, and a
// variable's `assign` replaces its data rather than writing into it — so sharing gives the same values.

interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: string;
}
interface RefCountingBackend {
  incRef(dataId: object): void;
}

let installed = false;

/**
 * Replaces the wasm engine's Identity kernel by one that shares its input's data (as the cpu engine's
 * does); string tensors keep the original kernel. Idempotent; a no-op where the wasm engine's kernel
 * is not registered.
 */
export function shareWasmIdentity(): void {
  if (installed) return;
  const original = tf.getKernel(tf.Identity, 'wasm');
  if (!original) return;
  const copy = original.kernelFunc;
  const kernelFunc = ((args: { inputs: { x: TensorInfoLike }; backend: RefCountingBackend }) => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return (copy as unknown as (a: typeof args) => TensorInfoLike)(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  }) as unknown as tf.KernelFunc;
  tf.unregisterKernel(tf.Identity, 'wasm');
  tf.registerKernel({ kernelName: tf.Identity, backendName: 'wasm', kernelFunc });
  installed = true;
}
