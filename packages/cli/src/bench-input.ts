import path from 'node:path';
import { InvalidOptionError, type PresetName } from '@invae/core';
import { readH5ad } from '@invae/io-anndata';
import { benchmarkInputOf, type BenchmarkInput, type RunBenchmarkOptions } from '@invae/bench';

/** Every option of `invae bench` (as commander parses them). */
export type BenchOptions = Omit<RunBenchmarkOptions, 'methods' | 'outDir'> & { methods: string[]; out: string; preset: PresetName; plugin?: string[]; overwrite?: boolean; json?: boolean; quiet?: boolean; noTable?: boolean; deGroupby?: string; deGroup?: string; deReference?: string };
import { loadDataset } from './dataset';

/**
 * The input of `invae bench` read from an .h5ad: the dataset (counts from X or `layer`) when methods
 * need it; otherwise obs, obsm and the counts if there are any (embeddings alone are scored without
 * them, so a file without X, or with 0 genes, is fine then).
 */
export async function readBenchInput(file: string, layer: string | undefined, needCounts: boolean): Promise<BenchmarkInput> {
  const name = path.basename(file);
  if (needCounts) {
    const { adata, data, cellNames } = await loadDataset(file, layer);
    return { data, obsm: adata.obsm, cellNames, name };
  }
  const adata = await readH5ad(file, { X: !layer, requireX: false, layers: Boolean(layer) });
  return benchmarkInputOf(adata, layer ?? null, name);
}


/**
 * The differential-expression request of `invae bench` (`--de-groupby/--de-group/--de-reference`), or
 * null when none was asked; throws when the flags are incomplete.
 */
export function benchDeOption(opts: { deGroupby?: string; deGroup?: string; deReference?: string }): { groupby: string; group: string; reference: string | null } | null {
  if ((opts.deGroupby === undefined) !== (opts.deGroup === undefined) || (opts.deReference !== undefined && opts.deGroupby === undefined)) {
    throw new InvalidOptionError('de-groupby', 'differential expression needs both --de-groupby and --de-group (and --de-reference only with them).', { hint: 'e.g. --de-groupby cell_type --de-group B' });
  }
  return opts.deGroupby !== undefined && opts.deGroup !== undefined ? { groupby: opts.deGroupby, group: opts.deGroup, reference: opts.deReference ?? null } : null;
}
