/** Compiles src/wasm/kernels.wat to a WebAssembly binary. */
export function compileKernels(): Promise<Buffer>;
/** The TypeScript source of src/wasm/kernels-binary.ts for a binary. */
export function binaryModuleSource(bytes: Buffer): string;
