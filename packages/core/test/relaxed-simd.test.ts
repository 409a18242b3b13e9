import { describe, expect, it } from 'vitest';
import { WasmThreadPool } from '@invae/common';
import { relaxedSimd, relaxedSimdFor } from '../src/wasm/relaxed-simd';
import { GEMM_RELAXED_WASM_BASE64, GEMM_WASM_BASE64 } from '../src/fused/gemm-binary';
import { KERNELS } from '../src/fused/threads';
import { lowerRelaxedMadd } from '../scripts/wat-relaxed.mjs';
import { cpuHasFma, fmaF32 } from './support/fma';

/** C = A · B for A = [1, 1 + 2⁻¹²] (1 × 2) and B = [−(1 + 2⁻¹¹), 1 + 2⁻¹²]ᵀ on `bytes`' gemm, one thread. */
function fmaProbe(b64: string): number {
  const pool = new WasmThreadPool({ name: 'probe', bytes: Buffer.from(b64, 'base64'), kernels: KERNELS, threads: 1 });
  try {
    pool.reset();
    const a = pool.alloc(2), b = pool.alloc(2), packed = pool.alloc(16), c = pool.alloc(8);
    pool.view(a, 2).set([1, 1 + 2 ** -12]);
    pool.view(b, 2).set([-(1 + 2 ** -11), 1 + 2 ** -12]);
    pool.call('packPanels', b, 1, 1, 2, 1, packed, 0, 1);
    pool.call('gemm', a, 2, 1, packed, c, 1, 0, 1, 2, 0, 1, 0, 1);
    return pool.view(c, 1)[0]!;
  } finally {
    pool.close();
  }
}

describe('relaxed SIMD (fused multiply-add) kernels', () => {
  it('are on by default where the runtime accepts relaxed SIMD (Node 20 after switching on its flag), off with INVAE_RELAXED_SIMD=0', () => {
    expect(relaxedSimdFor({ INVAE_RELAXED_SIMD: '0' })).toBe(false);
    expect(relaxedSimdFor({})).toBe(Number(process.versions.node.split('.')[0]) >= 20);
    expect(relaxedSimd()).toBe(process.env.INVAE_RELAXED_SIMD !== '0' && relaxedSimdFor({}));
  });

  it('round a product once in the relaxed binary and twice in the plain one', () => {
    // (1 + 2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴: rounded to float32 it loses 2⁻²⁴, which the fused sum keeps
    expect(fmaProbe(GEMM_WASM_BASE64)).toBe(0);
    if (!relaxedSimdFor({})) return;
    const fused = fmaProbe(GEMM_RELAXED_WASM_BASE64);
    const fma = cpuHasFma();
    if (fma === null) expect([0, 2 ** -24]).toContain(fused);
    else expect(fused).toBe(fma ? 2 ** -24 : 0);
  });

  it('fmaF32 (the tests\' fused multiply-add) rounds once', () => {
    expect(fmaF32(1 + 2 ** -12, 1 + 2 ** -12, -(1 + 2 ** -11))).toBe(2 ** -24);
    expect(Math.fround(-(1 + 2 ** -11) + Math.fround((1 + 2 ** -12) ** 2))).toBe(0);
    // (1 + 2⁻²³)(2⁻²⁴ − 2⁻⁴⁷) + 1 + 2⁻²³ = 1 + 2⁻²³ + 2⁻²⁴ − 2⁻⁷⁰: its float64 sum is a float32 tie (to
    // even: 1 + 2⁻²²), the exact value just below it (1 + 2⁻²³)
    const [a, b, c] = [1 + 2 ** -23, 2 ** -24 - 2 ** -47, 1 + 2 ** -23];
    expect(Math.fround(a * b + c)).toBe(1 + 2 ** -22);
    expect(fmaF32(a, b, c)).toBe(1 + 2 ** -23);
    expect(fmaF32(1.5, 2, -1)).toBe(2);
  });

  it('the plain text turns each relaxed multiply-add into a multiply and an add, nested ones and comments included', () => {
    const text = [
      '(local.set $a (f32x4.relaxed_madd (local.get $s) (v128.load offset=16 (local.get $w)) (local.get $a)))',
      ';; (f32x4.relaxed_madd in a comment) stays',
      '(f32x4.relaxed_madd (local.get $x) (local.get $y) (f32x4.relaxed_madd (local.get $p) (local.get $q) (local.get $r)))',
    ].join('\n');
    expect(lowerRelaxedMadd(text)).toBe(
      [
        '(local.set $a (f32x4.add (local.get $a) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $w)))))',
        ';; (f32x4.relaxed_madd in a comment) stays',
        '(f32x4.add (f32x4.add (local.get $r) (f32x4.mul (local.get $p) (local.get $q))) (f32x4.mul (local.get $x) (local.get $y)))',
      ].join('\n'),
    );
    expect(() => lowerRelaxedMadd('(f32x4.relaxed_madd (local.get $x) (local.get $y))')).toThrow(/3 \(parenthesised\) operands/);
  });
});
