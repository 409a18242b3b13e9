// Test helpers for the fused kernels: which engine kernels a computation ran, and relative errors.
import { tf } from '../../src/index';

/** Runs `fn` and returns its value with the names of the engine kernels it ran, in order. */
export function recordKernels<T>(fn: () => T): { value: T; names: string[] } {
  const names: string[] = [];
  const eng = tf.engine();
  const orig = eng.runKernel.bind(eng);
  eng.runKernel = ((name: string, ...rest: unknown[]) => {
    names.push(name);
    return (orig as (...a: unknown[]) => unknown)(name, ...rest);
  }) as typeof eng.runKernel;
  try {
    return { value: fn(), names };
  } finally {
    eng.runKernel = orig;
  }
}

/** max |got − want| over max |want| (1 when `want` is all zeros). */
export function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
  }
  return err / (scale || 1);
}
