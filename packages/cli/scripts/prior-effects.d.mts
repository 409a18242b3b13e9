// Types of prior-effects.mjs (for the TypeScript tests that import it).

/** A row-major matrix. */
export interface Matrix {
  nRows: number;
  nCols: number;
  data: ArrayLike<number>;
}

/** The built CLI entry point. */
export declare const defaultBin: string;
/** Pearson correlation. */
export declare function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number;
/** Leave-one-out kNN accuracy of `labels` from the columns `cols`. */
export declare function knnAccuracy(m: Matrix, cols: number[], labels: readonly unknown[], k?: number): number;
/** Share of the most frequent label. */
export declare function majorityShare(labels: readonly unknown[]): number;
/** R² of a linear fit of a two-level label on the columns `cols`. */
export declare function linearR2(m: Matrix, cols: number[], labels: readonly unknown[]): number;

interface RunOptions {
  dir: string;
  bin?: string;
  epochs?: number;
}

/** Result of {@link diseaseEffect}. */
export interface DiseaseEffect {
  cells: number;
  trainSeconds: number;
  diseaseFromInv: number;
  diseaseChance: number;
  stateFromInv: number;
  stateChance: number;
  batchFromInv: number;
  batchFromSpur: number;
  batchChance: number;
  batchR2FromInv: number;
  batchR2FromSpur: number;
}
export declare function diseaseEffect(options: RunOptions & { seed?: number; extra?: string[]; simExtra?: string[] }): Promise<DiseaseEffect>;

/** Result of {@link treatmentEffect}. */
export interface TreatmentEffect {
  cells: number;
  heldOutCells: number;
  trainSeconds: number;
  heldOutDose: number;
  neighbours: [number, number];
  heldOutPosition: number;
  truePosition: number;
  trainDosePositions: Record<string, number>;
  neighbourDistance: number;
}
export declare function treatmentEffect(options: RunOptions): Promise<TreatmentEffect>;

/** Result of {@link geneProgramEffect}. */
export interface GeneProgramEffect {
  cells: number;
  programs: string[];
  trainSeconds: number;
  dedicatedDims: number[];
  dedicatedCorrelation: Record<string, number>;
  decoderPaths: { names: string[]; genesPerDim: number[] } | null;
  withoutDedicatedDims?: { bestCorrelationOfAnyDim: Record<string, number> };
}
export declare function geneProgramEffect(options: RunOptions & { baseline?: boolean }): Promise<GeneProgramEffect>;
