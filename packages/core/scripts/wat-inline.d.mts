/** A WebAssembly text module with every call to a `;; @inline` function replaced by the function's body. */
export function inlineMarked(text: string): string;
