import type { LatentMatrix } from './types';

/** Copies rows `rows` of a latent matrix into a new Float32Array. */
export function takeRows(m: LatentMatrix, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * m.nCols);
  for (let i = 0; i < rows.length; i++) out.set(m.data.subarray(rows[i]! * m.nCols, (rows[i]! + 1) * m.nCols), i * m.nCols);
  return out;
}

/** One-hot rows (`rows.length` × k) of integer targets. */
export function oneHotRows(targets: Int32Array, rows: ArrayLike<number>, k: number): Float32Array {
  const out = new Float32Array(rows.length * k);
  for (let i = 0; i < rows.length; i++) out[i * k + targets[rows[i]!]!] = 1;
  return out;
}
