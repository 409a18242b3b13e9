import { tf } from '../tf';
import { readSafetensors, type SafetensorsContents } from '../io/safetensors';
import { WeightMismatchError } from '../module/errors';
import type { InvaeModel } from '../module/invae';

/**
 * Converts safetensors contents to float32 tensors by name. BatchNorm's integer
 * `num_batches_tracked` counters (which invae does not use) are dropped; any other non-float tensor
 * is reported.
 * @throws WeightMismatchError for non-floating-point tensors.
 */
export function stateDictTensors(contents: SafetensorsContents, source = '<state dict>'): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  const conflicts: string[] = [];
  for (const [name, t] of contents.tensors) {
    if (name.endsWith('num_batches_tracked')) continue;
    if (t.dtype !== 'F32' && t.dtype !== 'F64') {
      conflicts.push(`${name}: dtype ${t.dtype}, expected F32`);
      continue;
    }
    out.set(name, tf.tensor(Float32Array.from(t.data as Float32Array | Float64Array), [...t.shape], 'float32'));
  }
  if (conflicts.length) {
    for (const t of out.values()) t.dispose();
    throw new WeightMismatchError(source, { conflicts });
  }
  return out;
}

/**
 * Loads a PyTorch `state_dict()` of the reference module (saved as safetensors, names unchanged,
 * Linear weights `[out, in]`) into an already built {@link InvaeModel} with the same architecture.
 * Names, shapes and dtypes are validated before anything is assigned.
 * @throws SafetensorsFormatError for a malformed file, WeightMismatchError when it does not fit.
 */
export async function loadTorchStateDict(model: InvaeModel, safetensorsPath: string): Promise<void> {
  const contents = await readSafetensors(safetensorsPath);
  const tensors = stateDictTensors(contents, safetensorsPath);
  try {
    model.setWeights(tensors, { strict: true, source: safetensorsPath });
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
