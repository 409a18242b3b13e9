/** A WebAssembly text module with every `(f32x4.relaxed_madd a b c)` rewritten as `(f32x4.add c (f32x4.mul a b))`. */
export function lowerRelaxedMadd(text: string): string;
