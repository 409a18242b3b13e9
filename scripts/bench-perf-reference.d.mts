// Types of bench-perf-reference.mjs (for the TypeScript tests and test-support's gate that import it).
import type { spawnSync } from 'node:child_process';

/** One bench-reference.py run: its JSON, or the model/threads and the script's message when it failed. */
export interface ReferenceRun {
  implementation: 'reference';
  model: string;
  threads: number;
  cells?: number;
  genes?: number;
  batchSize?: number;
  warmupSteps?: number;
  timedSteps?: number;
  timedCells?: number;
  cellsPerSecond?: number;
  msPerStep?: number;
  /** Process CPU time (every thread) per timed step, ms. */
  cpuMsPerStep?: number;
  setupSeconds?: number;
  stepsPerEpoch?: number;
  torch?: string;
  torchThreads?: number;
  anndata?: string;
  python?: string;
  referenceCommit?: string | null;
  stubbedModules?: string[];
  error?: string;
}

/** The part of a bench:perf training entry the side-by-side assembly reads. */
export interface TrainingEntry {
  model: string;
  nCells: number;
  workersUsed: number;
  cellsPerSecond: number;
  [key: string]: unknown;
}

/** A training entry beside the reference. */
export type SideBySideEntry<T extends TrainingEntry> = T & {
  referenceThreads: number | null;
  ratioToReference: number | null;
  ratioToReferenceByThreads: Record<string, number | null> | null;
};

/** bench:perf's `reference`: "not requested", why it could not run, or its runs. */
export type ReferenceReport =
  | string
  | { dir: string; python: string; error: string }
  | { dir: string; python: string; commit: string | null; torch: string | null; threads: number[]; runs: ReferenceRun[]; error?: undefined };

export interface ReferenceRunOptions {
  script?: string;
  dir: string;
  h5ad: string;
  model: string;
  warmup: number;
  steps: number;
  threads: number;
  batchSize?: number;
  timeoutMs?: number;
}

export declare const referenceScript: string;
export declare const REFERENCE_KEYS: { inv: string[]; spur: string[] };
export declare function referencePython(env?: NodeJS.ProcessEnv, exists?: (p: string) => boolean): string;
export declare function referenceDir(option: string | undefined, env?: NodeJS.ProcessEnv): string | null;
export declare function parseReferenceThreads(text: string): number[];
export declare function referenceArgs(opts: ReferenceRunOptions): string[];
export declare function referenceUnavailable(dir: string, python: string, spawn?: typeof spawnSync): string | null;
export declare function runReference(python: string, opts: ReferenceRunOptions, spawn?: typeof spawnSync): ReferenceRun;
export declare function ratio(invaeCellsPerSecond: number | undefined, referenceCellsPerSecond: number | undefined): number | null;
export declare function sideBySide<T extends TrainingEntry>(training: T[], referenceRuns: ReferenceRun[]): SideBySideEntry<T>[];
export declare function referenceTable(training: SideBySideEntry<TrainingEntry>[], reference: ReferenceReport): string[];
export declare function simulationAnnData(sim: unknown, aq: unknown): unknown;

/** Runs repeated over rounds as one per `key`: medians of cellsPerSecond, msPerStep, cpuMsPerStep; every round's cells/s in `roundsCellsPerSecond`. */
export function medianOfRounds<T extends { cellsPerSecond?: number; msPerStep?: number; cpuMsPerStep?: number; error?: string }>(runs: readonly T[], key: (run: T) => string): (T & { roundsCellsPerSecond?: number[] })[];
