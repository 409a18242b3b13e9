/** Compiles src/wasm/kernels.wat to a WebAssembly binary. */
export function compileKernels(): Promise<Buffer>;
/** Compiles src/fused/gemm.wat (SIMD on a shared memory), or another version of it at `file`, to a WebAssembly binary. */
export function compileGemm(file?: string): Promise<Buffer>;
/** The TypeScript source of src/wasm/kernels-binary.ts for a binary (or of another `*-binary.ts`: its .wat and constant name). */
export function binaryModuleSource(bytes: Buffer, from?: string, constName?: string): string;
/** The TypeScript source of src/fused/gemm-binary.ts for a binary. */
export function gemmModuleSource(bytes: Buffer): string;
