import { tf } from '../tf';
import { defineJsKernel, jsKernelsAvailable } from './js-kernel';
import { simdKernelsFor } from '../wasm/kernels';

let maskKernel: ReturnType<typeof defineJsKernel> | null = null;

/**
 * Dropout multiplier `[rows, cols]`: 1/(1 − rate) where a uniform draw exceeds `rate`, else 0. On
 * the wasm and cpu engines a JavaScript kernel writes it in one pass from a counter-based generator
 * (a splitmix32 stream of `seed`; on wasm the SIMD kernel of `kernels.wat` writes the same mask);
 * elsewhere it is built from `tf.randomUniform`. Either way the same seed gives the same mask on the
 * same engine. Without a seed the mask is drawn from a random one.
 */
export function dropoutMask(rows: number, cols: number, rate: number, seed: number | undefined, opts: { fused?: boolean } = {}): tf.Tensor2D {
  const keep = 1 - rate;
  if (opts.fused !== false && jsKernelsAvailable()) {
    maskKernel ??= defineJsKernel({
      name: 'InvaeDropoutMask',
      inputs: [],
      outputShapes: (_s, { rows: r, cols: c }) => [[r!, c!]],
      body: (_in, [out], _s, { seed: s, rate: p, scale }) => {
        // the SIMD kernel on the wasm engine: u > p ⇔ the draw (an integer < 2³²) > floor(p·2³²)
        const k = simdKernelsFor([out!]);
        if (k) return k.dropoutMask(out!.byteOffset, out!.length, s! | 0, Math.floor(p! * 4294967296) | 0, scale!);
        let state = s! | 0;
        const threshold = p!;
        const value = scale!;
        for (let i = 0; i < out!.length; i++) {
          state = (state + 0x9e3779b9) | 0;
          let z = state;
          z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
          z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
          z ^= z >>> 16;
          const u = (z >>> 0) / 4294967296;
          out![i] = (((u > threshold) as unknown as number) | 0) * value;
        }
      },
    });
    const s = seed ?? Math.floor(Math.random() * 0x7fffffff);
    return maskKernel([], { rows, cols, seed: s, rate, scale: 1 / keep })[0] as tf.Tensor2D;
  }
  return tf.tidy(() => tf.div(tf.step(tf.sub(tf.randomUniform([rows, cols], 0, 1, 'float32', seed), rate)), keep)) as tf.Tensor2D;
}
