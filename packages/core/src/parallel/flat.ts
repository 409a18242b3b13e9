import { tf } from '../tf';

/** Number of values of each variable and of all of them together. */
export function sizesOf(vars: readonly tf.Variable[]): { sizes: number[]; total: number } {
  const sizes = vars.map((v) => v.size);
  return { sizes, total: sizes.reduce((a, b) => a + b, 0) };
}

interface WasmBackendInternals {
  dataIdMap?: { get(dataId: object): { memoryOffset?: number; dtype?: string } | undefined };
  wasm?: { HEAPU8?: Uint8Array };
}

/**
 * Copies a float32 tensor's values into `out` (from offset 0). On the wasm engine they are copied
 * straight out of its heap: `dataSync` would allocate a new array per call, and a few MB of garbage
 * per training step makes V8 run full (mark-compact) collections every other step. Falls back to
 * `dataSync` on other engines, or if the wasm backend's layout is not the one expected.
 */
export function readInto(t: tf.Tensor, out: Float32Array): void {
  if (t.dtype === 'float32' && tf.getBackend() === 'wasm') {
    const b = tf.backend() as unknown as WasmBackendInternals;
    const info = b.dataIdMap?.get(t.dataId);
    const heap = b.wasm?.HEAPU8;
    if (info && info.dtype === 'float32' && typeof info.memoryOffset === 'number' && info.memoryOffset % 4 === 0 && heap && info.memoryOffset + 4 * t.size <= heap.byteLength) {
      out.set(new Float32Array(heap.buffer, heap.byteOffset + info.memoryOffset, t.size));
      return;
    }
  }
  out.set(t.dataSync() as Float32Array);
}

/**
 * Reads the values of `vars` (in order) into `out[0..total)` with one device read: the variables are
 * concatenated on the engine first.
 */
export function readVariables(vars: readonly tf.Variable[], out: Float32Array): void {
  if (vars.length === 0) return;
  const flat = tf.tidy(() => tf.concat(vars.map((v) => tf.reshape(v, [-1]))));
  try {
    readInto(flat, out);
  } finally {
    flat.dispose();
  }
}

/**
 * Tensors shaped like `vars` (in order) holding consecutive slices of `values`. Each slice is copied
 * into its own tensor (no split kernel on the engine), so the caller may reuse `values` (e.g. a shared
 * buffer) right away.
 */
export function splitLike(vars: readonly tf.Variable[], values: Float32Array): tf.Tensor[] {
  const { total } = sizesOf(vars);
  if (values.length < total) throw new RangeError(`splitLike: ${values.length} values for ${total}.`);
  // the wasm engine copies a new tensor's values into its heap at once: views suffice (no garbage);
  // other engines may keep the array, so they get copies
  const copy = tf.getBackend() !== 'wasm';
  let off = 0;
  return vars.map((v) => {
    const view = values.subarray(off, off + v.size);
    const t = tf.tensor(copy ? view.slice() : view, v.shape, 'float32');
    off += v.size;
    return t;
  });
}

/** Assigns `values[0..total)` to `vars` (in order). */
export function writeVariables(vars: readonly tf.Variable[], values: Float32Array): void {
  if (vars.length === 0) return;
  const parts = splitLike(vars, values);
  try {
    vars.forEach((v, i) => v.assign(parts[i]!));
  } finally {
    tf.dispose(parts);
  }
}
