// The plain form of a WebAssembly text module that uses relaxed SIMD's multiply-add: every
// `(f32x4.relaxed_madd a b c)` (a·b + c, fused where the CPU has FMA) becomes
// `(f32x4.add c (f32x4.mul a b))` (rounded twice), which every runtime with SIMD accepts. The build
// compiles both forms (see src/wasm/relaxed-simd.ts for the choice at run time).
import { children, skipExpr } from './wat-inline.mjs';

const MADD = '(f32x4.relaxed_madd';

/** `text` with every `f32x4.relaxed_madd` expression rewritten as a separate multiply and add (nested ones too). */
export function lowerRelaxedMadd(text) {
  let out = '';
  let at = 0;
  for (let i = text.indexOf(MADD); i >= 0; i = text.indexOf(MADD, at)) {
    const lineStart = text.lastIndexOf('\n', i) + 1;
    if (text.slice(lineStart, i).includes(';;')) {
      // in a comment: copy through the end of the line
      const eol = text.indexOf('\n', i);
      const stop = eol < 0 ? text.length : eol;
      out += text.slice(at, stop);
      at = stop;
      continue;
    }
    const end = skipExpr(text, i);
    const args = children(text, i, end).map(([s, e]) => lowerRelaxedMadd(text.slice(s, e)));
    if (args.length !== 3) throw new Error(`wat-relaxed: f32x4.relaxed_madd takes 3 (parenthesised) operands, found ${args.length} at offset ${i}`);
    out += `${text.slice(at, i)}(f32x4.add ${args[2]} (f32x4.mul ${args[0]} ${args[1]}))`;
    at = end;
  }
  return out + text.slice(at);
}
