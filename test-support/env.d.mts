/** Types of ./env.mjs (see there). */
export declare const workspaceRoot: string;
export declare const REQUIRE_VAR: 'INVAE_REQUIRE_SHARED';
export declare function inputsRequired(env?: NodeJS.ProcessEnv): boolean;
export declare const sharedDir: string;
export declare function sharedPath(rel: string, envVar?: string): string;
export declare const judgePython: string;
export declare const JUDGE_MODULES: Record<JudgeModule, string>;
export type JudgeModule = 'numpy' | 'scipy' | 'pandas' | 'sklearn' | 'h5py' | 'hdf5plugin' | 'anndata' | 'PIL';
export declare function missingPythonModules(modules: readonly JudgeModule[]): { python: boolean; modules: JudgeModule[] };
export declare const snakemakeCommand: string;
export declare function snakemakeVersion(): string | null;
export declare function testEnvironment(): string;
