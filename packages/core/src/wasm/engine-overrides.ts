import * as tf from '@tensorflow/tfjs';
import { simdKernels } from './kernels';

// Kernels of the wasm engine replaced by faster ones with the same results (installed when invae
// loads the engine, see `engine.ts`):
// - Identity copies its input into new memory, where the cpu and WebGL engines share the input's data
//   (one more reference). The engine calls Identity for every tensor a taped op saves for its gradient
//   (`Engine.clone`), ~100 per training step. Tensors are immutable — no kernel writes into its inputs,
//   and a variable's `assign` replaces its data rather than writing into it — so sharing gives the same
//   values.
// - Cast to the input's own dtype copies too; it shares the data in the same way. The gradients of
//   Multiply, Relu and others cast their float32 inputs to float32 (~30 copies per training step).
// - Transpose of a float32 matrix runs as the 4 × 4-shuffle SIMD kernel of `kernels.wat` (2–5× faster
//   than the engine's on the shapes of a training step: the products' gradients transpose every
//   activation matrix); other transposes keep the engine's kernel. A transpose only moves values.

interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: string;
}
interface WasmBackendLike {
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: string): TensorInfoLike;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}
type Args = { inputs: { x: TensorInfoLike }; backend: WasmBackendLike; attrs?: { perm?: number[]; dtype?: string } };
type Kernel = (args: Args) => TensorInfoLike;

function replace(kernelName: string, make: (original: Kernel) => Kernel): void {
  const config = tf.getKernel(kernelName, 'wasm');
  if (!config) return;
  const kernelFunc = make(config.kernelFunc as unknown as Kernel) as unknown as tf.KernelFunc;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...config, kernelFunc });
}

let installed = false;

/**
 * Installs the wasm engine's replacement kernels (see the module comment). Idempotent; a no-op where
 * the wasm engine's kernels are not registered.
 */
export function installWasmOverrides(): void {
  if (installed || !tf.getKernel(tf.Identity, 'wasm')) return;
  const share = (args: Args): TensorInfoLike => {
    const { x } = args.inputs;
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  replace(tf.Identity, (copy) => (args) => (args.inputs.x.dtype === 'string' ? copy(args) : share(args)));
  replace(tf.Cast, (convert) => (args) => (args.inputs.x.dtype !== 'string' && args.attrs?.dtype === args.inputs.x.dtype ? share(args) : convert(args)));
  replace(tf.Transpose, (engine) => (args) => {
    const { x } = args.inputs;
    const perm = args.attrs?.perm;
    const k = x.dtype === 'float32' && x.shape.length === 2 && perm?.[0] === 1 && perm[1] === 0 ? simdKernels() : null;
    if (!k) return engine(args);
    const [rows, cols] = x.shape as [number, number];
    const out = args.backend.makeOutput([cols, rows], 'float32');
    // offsets after the allocation (it may grow the memory; offsets stay valid)
    const src = args.backend.dataIdMap.get(x.dataId)!.memoryOffset;
    const dst = args.backend.dataIdMap.get(out.dataId)!.memoryOffset;
    k.transpose(src, rows, cols, dst);
    return out;
  });
  installed = true;
}
