import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '@invae/core';
import { lanczosLargestMagnitude, lanczosSource, lanczosWasmModule, type SymmetricOperator } from '../src/internal/linalg';
// @ts-expect-error: build script (JavaScript, no types)
import { compileWasm, wasmModuleSource } from '../scripts/build-wasm.mjs';

/** A random sparse symmetric n × n operator (about `perRow` entries per row, both triangles). */
function sparseSymmetric(n: number, perRow: number, seed: number): SymmetricOperator {
  const rng = new Rng(seed);
  const rows: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  for (let i = 0; i < n; i++) {
    rows[i]!.set(i, rng.uniform());
    for (let e = 0; e < perRow / 2; e++) {
      const j = rng.int(n);
      const v = rng.uniform() - 0.5;
      rows[i]!.set(j, v);
      rows[j]!.set(i, v);
    }
  }
  const cols = rows.map((r) => Int32Array.from(r.keys()));
  const vals = rows.map((r) => Float64Array.from(r.values()));
  return {
    n,
    apply(x, y) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        const c = cols[i]!;
        const v = vals[i]!;
        for (let p = 0; p < c.length; p++) s += v[p]! * x[c[p]!]!;
        y[i] = s;
      }
    },
  };
}

/** Bitwise equality of two float64 arrays (NaN and −0 included). */
function sameBits(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('Lanczos on lanczos.wat (SIMD re-orthogonalisation and Ritz vectors)', () => {
  it('the committed lanczos-binary.ts is the compiled lanczos.wat', async () => {
    const src = wasmModuleSource('lanczos', await compileWasm('lanczos'));
    expect(readFileSync(new URL('../src/internal/lanczos-binary.ts', import.meta.url), 'utf8')).toBe(src);
  });

  it('compiles here', () => {
    expect(lanczosWasmModule()).not.toBeNull();
  });

  // Sizes not multiples of 4, odd and even counts (the kernels' quad, pair and single paths) and odd
  // basis sizes (the kernels' single-vector path).
  for (const [n, count, maxBasis] of [[1003, 7, 31], [998, 6, 40], [257, 1, 9], [64, 5, 64]] as const) {
    it(`gives bit-identical eigenpairs to the plain loops (n ${n}, ${count} pairs, basis ${maxBasis})`, () => {
      const op = sparseSymmetric(n, 8, n);
      const plain = lanczosLargestMagnitude(op, count, new Rng(3), 1e-4, maxBasis, null);
      const simd = lanczosLargestMagnitude(op, count, new Rng(3), 1e-4, maxBasis, lanczosWasmModule());
      expect(simd.converged).toBe(plain.converged);
      expect(sameBits(simd.values, plain.values)).toBe(true);
      expect(sameBits(simd.vectors, plain.vectors)).toBe(true);
      // And they are eigenpairs: ‖A v − λ v‖ small for the converged ones.
      const v = new Float64Array(n);
      const y = new Float64Array(n);
      for (let c = 0; c < simd.converged; c++) {
        for (let i = 0; i < n; i++) v[i] = simd.vectors[i * count + c]!;
        op.apply(v, y);
        let r = 0;
        for (let i = 0; i < n; i++) r += (y[i]! - simd.values[c]! * v[i]!) ** 2;
        expect(Math.sqrt(r)).toBeLessThan(1e-2);
      }
    });
  }

  it('restarts on an invariant subspace identically (a block-diagonal operator of rank 12)', () => {
    const n = 203;
    // Twelve nonzero eigenvalues on disjoint coordinates: the Krylov space of one start vector is at
    // most 13-dimensional, so a basis of 30 needs fresh directions.
    const op: SymmetricOperator = {
      n,
      apply(x, y) {
        y.fill(0);
        for (let i = 0; i < 12; i++) y[i] = (i + 1) * x[i]!;
      },
    };
    const plain = lanczosLargestMagnitude(op, 5, new Rng(9), 1e-8, 30, null);
    const simd = lanczosLargestMagnitude(op, 5, new Rng(9), 1e-8, 30, lanczosWasmModule());
    expect(sameBits(simd.values, plain.values)).toBe(true);
    expect(sameBits(simd.vectors, plain.vectors)).toBe(true);
    expect(Array.from(simd.values, (x) => Math.round(x * 1e6) / 1e6)).toEqual([12, 11, 10, 9, 8]);
  });

  it('the helper-thread source text carries the compiled module', () => {
    const src = lanczosSource();
    const run = new Function(`${src}\nreturn { lanczosLargestMagnitude, lanczosWasm };`) as () => { lanczosLargestMagnitude: typeof lanczosLargestMagnitude; lanczosWasm: object | null };
    const { lanczosLargestMagnitude: solve, lanczosWasm } = run();
    expect(lanczosWasm).not.toBeNull();
    const op = sparseSymmetric(501, 6, 4);
    const a = solve(op, 4, new Rng(2), 1e-4, 21, lanczosWasm);
    const b = lanczosLargestMagnitude(op, 4, new Rng(2), 1e-4, 21, null);
    expect(sameBits(a.vectors, b.vectors)).toBe(true);
  });
});
