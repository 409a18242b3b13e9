import { describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { inlineMarked } from '../scripts/wat-inline.mjs';

// A module with two marked functions (one with a result, one storing with early returns) called from
// loops, one call written inside a comment, and an exported marked function.
const MODULE = `(module
  (memory (export "memory") 1)
  ;; @inline
  (func $axpb (param $a f32) (param $x f32) (result f32)
    (local $t f32)
    ;; a comment with (parentheses) inside the body
    (local.set $t (f32.mul (local.get $a) (local.get $x)))
    (f32.add (local.get $t) (f32.const 1)))
  ;; @inline
  (func $storeUpTo (export "storeUpTo") (param $p i32) (param $v f32) (param $n i32)
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (f32.store (local.get $p) (local.get $v))
    (if (i32.le_s (local.get $n) (i32.const 1)) (then (return)))
    (f32.store offset=4 (local.get $p) (local.get $v)))
  (func (export "run") (param $n i32) (result f32)
    (local $i i32) (local $s f32)
    ;; (call $axpb (f32.const 9) (f32.const 9)) stays a comment
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $s (call $axpb (f32.convert_i32_s (local.get $i)) (call $axpb (local.get $s) (f32.const 0.5))))
        (call $storeUpTo (i32.shl (local.get $i) (i32.const 3)) (local.get $s) (i32.rem_s (local.get $i) (i32.const 3)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $s)))`;

/** The parts of the WebAssembly JS API used here (the project's TypeScript libs do not declare it). */
const WA = (globalThis as unknown as {
  WebAssembly: { Instance: new (m: object, imports: object) => { exports: unknown }; Module: new (bytes: Uint8Array) => object };
}).WebAssembly;

async function instantiate(text: string) {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('t.wat', text, {});
  mod.validate();
  const bytes = mod.toBinary({}).buffer;
  mod.destroy();
  return new WA.Instance(new WA.Module(bytes), {}).exports as { run(n: number): number; memory: { buffer: ArrayBuffer } };
}

describe('wat-inline (build-time inlining of `;; @inline` functions)', () => {
  it('replaces every call outside the marked functions and comments, and computes the same values and memory', async () => {
    const inlined = inlineMarked(MODULE);
    // the outer call is inlined; the call nested in its argument is kept as a call
    expect(inlined.match(/\(call \$axpb/g)?.length).toBe(2); // the comment's and the nested one
    expect(inlined).not.toMatch(/\(call \$storeUpTo/);
    expect(inlined).toContain('(br $__inline');
    const [a, b] = await Promise.all([instantiate(MODULE), instantiate(inlined)]);
    expect(b.run(50)).toBe(a.run(50));
    expect(Buffer.from(new Uint8Array(b.memory.buffer, 0, 512)).equals(Buffer.from(new Uint8Array(a.memory.buffer, 0, 512)))).toBe(true);
  });

  it('leaves a module without marked functions unchanged', () => {
    const plain = MODULE.replace(/;; @inline\n/g, '');
    expect(inlineMarked(plain)).toBe(plain);
  });
});
