/** Compiles src/wasm/kernels.wat to a WebAssembly binary: plain, or with `relaxed` its multiply-adds fused. */
export function compileKernels(options?: { relaxed?: boolean }): Promise<Buffer>;
/** Compiles src/fused/gemm.wat (SIMD on a shared memory), or another version of it at `file`, to a WebAssembly binary (plain, or relaxed). */
export function compileGemm(file?: string, options?: { relaxed?: boolean }): Promise<Buffer>;
/** The TypeScript source of src/wasm/kernels-binary.ts for its plain and relaxed binaries (or of another `*-binary.ts`: its .wat and constants' prefix). */
export function binaryModuleSource(plain: Buffer, relaxed: Buffer, from?: string, prefix?: string): string;
/** The TypeScript source of src/fused/gemm-binary.ts for its plain and relaxed binaries. */
export function gemmModuleSource(plain: Buffer, relaxed: Buffer): string;
