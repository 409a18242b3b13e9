import { tf } from '../tf';

/**
 * Backends on which {@link defineJsKernel} kernels run: both keep float32 tensors in memory that
 * JavaScript can address directly (the wasm heap; the cpu backend's typed arrays), so a kernel reads
 * its inputs and writes its outputs in place — nothing is copied between the host and the engine.
 */
export const JS_KERNEL_BACKENDS: readonly string[] = ['wasm', 'cpu'];

/** Body of a JavaScript kernel: reads `inputs`, writes every element of `outputs`. Must not allocate on the engine. */
export type JsKernelBody = (
  inputs: readonly Float32Array[],
  outputs: readonly Float32Array[],
  shapes: readonly (readonly number[])[],
  attrs: Readonly<Record<string, number>>,
  scratch: readonly Float32Array[],
) => void;

/** A JavaScript kernel: float32 inputs in a fixed order, float32 outputs whose shapes follow from the inputs'. */
export interface JsKernelSpec {
  /** Unique kernel name (prefixed `Invae`). */
  readonly name: string;
  /** Input names, in the order the body receives them. */
  readonly inputs: readonly string[];
  /** Output shapes from the input shapes (in `inputs` order) and the attributes. */
  readonly outputShapes: (inputShapes: readonly (readonly number[])[], attrs: Readonly<Record<string, number>>) => number[][];
  /**
   * Scratch buffers (float32 element counts) the body may use, allocated with the outputs (on the
   * wasm engine in its memory, so SIMD kernels can address them) and freed after the body.
   */
  readonly scratch?: (inputShapes: readonly (readonly number[])[], attrs: Readonly<Record<string, number>>) => number[];
  /** The computation. */
  readonly body: JsKernelBody;
}

interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: string;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfoLike;
  disposeData(dataId: object): boolean;
  typedArrayFromHeap(t: TensorInfoLike): Float32Array;
}

interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } };
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfoLike;
}

function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function kernelFunc(spec: JsKernelSpec, backendName: string) {
  return (args: { inputs: Record<string, unknown>; backend: unknown; attrs?: Record<string, unknown> }) => {
    const ins = spec.inputs.map((n) => args.inputs[n] as TensorInfoLike);
    ins.forEach((t, i) => {
      if (!t || t.dtype !== 'float32') throw new Error(`${spec.name}: input '${spec.inputs[i]}' must be float32, got ${t?.dtype}`);
    });
    const attrs = (args.attrs ?? {}) as Record<string, number>;
    const inShapes = ins.map((t) => t.shape);
    const shapes = spec.outputShapes(inShapes, attrs);
    const scratchSizes = spec.scratch ? spec.scratch(inShapes, attrs) : [];
    if (backendName === 'wasm') {
      const b = args.backend as WasmBackendLike;
      // allocate first: growing the heap detaches views taken before
      const outs = shapes.map((s) => b.makeOutput(s, 'float32'));
      const tmp = scratchSizes.map((n) => b.makeOutput([Math.max(1, n)], 'float32'));
      try {
        const inViews = ins.map((t) => b.typedArrayFromHeap(t));
        const outViews = outs.map((t) => b.typedArrayFromHeap(t));
        const tmpViews = tmp.map((t) => b.typedArrayFromHeap(t));
        spec.body(inViews, outViews, inShapes, attrs, tmpViews);
      } finally {
        for (const t of tmp) b.disposeData(t.dataId);
      }
      return outs;
    }
    const b = args.backend as CpuBackendLike;
    const inViews = ins.map((t) => {
      const v = b.data.get(t.dataId).values;
      return (v instanceof Float32Array ? v : (b.readSync(t.dataId) as Float32Array));
    });
    const outArrays = shapes.map((s) => new Float32Array(size(s)));
    spec.body(inViews, outArrays, inShapes, attrs, scratchSizes.map((n) => new Float32Array(n)));
    return outArrays.map((a, i) => b.makeTensorInfo(shapes[i]!, 'float32', a));
  };
}

/**
 * Registers `spec` for the {@link JS_KERNEL_BACKENDS} (once per process, however often the module is
 * loaded) and returns a function that runs it on float32 tensors. Use it only where
 * {@link jsKernelsAvailable} is true. The kernel has no gradient of its own: wrap it in `tf.customGrad`.
 */
export function defineJsKernel(spec: JsKernelSpec): (inputs: readonly tf.Tensor[], attrs?: Record<string, number>) => tf.Tensor[] {
  for (const backendName of JS_KERNEL_BACKENDS) {
    if (!tf.getKernel(spec.name, backendName)) {
      tf.registerKernel({ kernelName: spec.name, backendName, kernelFunc: kernelFunc(spec, backendName) as unknown as tf.KernelFunc });
    }
  }
  return (inputs, attrs = {}) => {
    if (inputs.length !== spec.inputs.length) throw new Error(`${spec.name}: expected ${spec.inputs.length} inputs, got ${inputs.length}`);
    const named: Record<string, tf.Tensor> = {};
    spec.inputs.forEach((n, i) => (named[n] = inputs[i]!));
    const out = tf.engine().runKernel(spec.name, named as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
    return Array.isArray(out) ? out : [out];
  };
}

/** Whether the active backend runs {@link defineJsKernel} kernels. */
export function jsKernelsAvailable(): boolean {
  return JS_KERNEL_BACKENDS.includes(tf.getBackend());
}

let uninitializedKernel: ((inputs: readonly tf.Tensor[], attrs?: Record<string, number>) => tf.Tensor[]) | null = null;

/**
 * A new float32 tensor of `shape` whose contents are unspecified (on the wasm engine whatever its
 * memory held; elsewhere zeros): for staging or results written in full before they are read,
 * without the engine's fill or a host array of zeros. Use it only where {@link jsKernelsAvailable} is true.
 */
export function uninitializedTensor(shape: readonly number[]): tf.Tensor {
  // the shape travels as attributes (rank ≤ 4 here)
  uninitializedKernel ??= defineJsKernel({
    name: 'InvaeUninitialized',
    inputs: [],
    outputShapes: (_, a) => [[a.d0!, a.d1!, a.d2!, a.d3!].slice(0, a.rank!)],
    body: () => {},
  });
  if (shape.length < 1 || shape.length > 4) throw new RangeError(`uninitializedTensor: rank ${shape.length} (1 to 4 supported)`);
  const [d0, d1, d2, d3] = [...shape, 0, 0, 0];
  return uninitializedKernel([], { rank: shape.length, d0: d0!, d1: d1!, d2: d2!, d3: d3! })[0]!;
}
