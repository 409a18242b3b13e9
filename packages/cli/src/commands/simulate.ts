import path from 'node:path';
import * as aq from 'arquero';
import { Option, type Command } from 'commander';
import { simulate, type SimulateOptions, type SimulatedData } from '@invae/core';
import { writeH5ad, type AnnData, type UnsValue } from '@invae/io-anndata';
import { integer } from '../parse';

interface SimulateCliOptions {
  out: string;
  cells?: number;
  genes?: number;
  batches?: number;
  cellTypes?: number;
  diseases?: number;
  latentInv?: number;
  latentSpur?: number;
  seed?: number;
  likelihood?: 'nb' | 'poisson';
  json?: boolean;
}

/** Builds the AnnData written by `invae simulate`: CSR counts, categorical obs, true latents in obsm, options in uns. */
export function simulationToAnnData(sim: SimulatedData): AnnData {
  if (sim.counts.kind !== 'csr') throw new Error('simulationToAnnData expects CSR counts');
  const c = sim.counts;
  const obsTable = aq.table({
    _index: sim.cellNames,
    batch: sim.obs.batch,
    cell_type: sim.obs.cell_type,
    disease: sim.obs.disease,
    library_size: Array.from(sim.librarySize),
  });
  const categorical = (categories: string[]) => ({ kind: 'categorical' as const, categories, ordered: false });
  const varColumns: Record<string, unknown[]> = { _index: sim.geneNames };
  if (sim.theta.length) varColumns.theta = Array.from(sim.theta);
  const options = Object.fromEntries(Object.entries(sim.options).map(([k, v]) => [k, Array.isArray(v) ? v.slice() : v])) as Record<string, UnsValue>;
  return {
    nObs: sim.nCells,
    nVars: sim.nGenes,
    X: {
      kind: 'csr',
      shape: [c.nRows, c.nCols],
      dtype: 'float32',
      data: Float32Array.from(c.data),
      indices: Int32Array.from(c.indices),
      indptr: Float64Array.from(c.indptr),
    },
    obs: {
      table: obsTable,
      indexName: '_index',
      columns: {
        batch: categorical(sim.categories.batch),
        cell_type: categorical(sim.categories.cell_type),
        disease: categorical(sim.categories.disease),
        library_size: { kind: 'numeric', dtype: 'float64' },
      },
    },
    var: {
      table: aq.table(varColumns),
      indexName: '_index',
      columns: sim.theta.length ? { theta: { kind: 'numeric', dtype: 'float64' } } : {},
    },
    layers: {},
    obsm: {
      X_true_inv: { kind: 'dense', shape: [sim.nCells, sim.latentDimInv], dtype: 'float32', data: sim.zInv },
      ...(sim.latentDimSpur > 0
        ? { X_true_spur: { kind: 'dense' as const, shape: [sim.nCells, sim.latentDimSpur], dtype: 'float32', data: sim.zSpur } }
        : {}),
    },
    varm: {},
    obsp: {},
    varp: {},
    uns: {
      simulation: {
        generator: 'invae simulate',
        options,
        prior_mean_inv: {
          kind: 'dense',
          shape: [sim.categories.cell_type.length * sim.categories.disease.length, sim.latentDimInv],
          dtype: 'float32',
          data: sim.priorMeanInv,
        },
      },
    },
  };
}

/**
 * `invae simulate --out FILE.h5ad`: simulates counts with known invariant and spurious latents
 * (batches × cell types × disease states, see `simulate` in @invae/core) and writes them as .h5ad.
 */
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('simulate single-cell counts with known invariant/spurious latents and write an .h5ad')
    .requiredOption('-o, --out <file>', 'output .h5ad file (written atomically)')
    .option('--cells <n>', 'number of cells (default 2000)', integer(1))
    .option('--genes <n>', 'number of genes (default 500)', integer(1))
    .option('--batches <n>', 'number of batches (default 3)', integer(1))
    .option('--cell-types <n>', 'number of cell types (default 2)', integer(1))
    .option('--diseases <n>', 'number of disease states (default 2)', integer(1))
    .option('--latent-inv <n>', 'invariant latent dimensions (default 9)', integer(1))
    .option('--latent-spur <n>', 'spurious latent dimensions (default 1)', integer(0))
    .option('--seed <n>', 'random seed (default 0)', integer(0))
    .addOption(new Option('--likelihood <name>', 'count distribution (default nb)').choices(['nb', 'poisson']))
    .option('--json', 'print a machine-readable summary')
    .action(async (opts: SimulateCliOptions) => {
      const options: SimulateOptions = {
        nCells: opts.cells,
        nGenes: opts.genes,
        nBatches: opts.batches,
        nCellTypes: opts.cellTypes,
        nDiseases: opts.diseases,
        latentDimInv: opts.latentInv,
        latentDimSpur: opts.latentSpur,
        seed: opts.seed,
        likelihood: opts.likelihood,
        format: 'csr',
      };
      for (const k of Object.keys(options) as (keyof SimulateOptions)[]) if (options[k] === undefined) delete options[k];
      const t0 = performance.now();
      const sim = simulate(options);
      const out = path.resolve(opts.out);
      await writeH5ad(out, simulationToAnnData(sim));
      const nnz = sim.counts.kind === 'csr' ? sim.counts.data.length : 0;
      const summary = {
        file: out,
        nCells: sim.nCells,
        nGenes: sim.nGenes,
        nnz,
        zeroFraction: 1 - nnz / (sim.nCells * sim.nGenes),
        seconds: (performance.now() - t0) / 1000,
        options: sim.options,
      };
      if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        process.stdout.write(
          `wrote ${out}: ${sim.nCells} cells × ${sim.nGenes} genes, ${(100 * summary.zeroFraction).toFixed(1)}% zeros, ` +
            `${sim.options.nBatches} batches, ${sim.options.nCellTypes} cell types, ${sim.options.nDiseases} disease states (seed ${sim.options.seed})\n`,
        );
      }
    });
}
