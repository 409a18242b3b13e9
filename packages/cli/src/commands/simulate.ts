import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import * as aq from 'arquero';
import { Option, type Command } from 'commander';
import { simulate, type SimulateOptions, type SimulatedData } from '@invae/core';
import type { AnnData, UnsValue } from '@invae/io-anndata';
import { InvalidOptionError } from '@invae/core';
import { integer, list, number } from '../parse';
import { claimOutputs, writeH5adOutput, writeTextAtomically } from '../output';

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
  diseaseShift?: number;
  batchShift?: number;
  batchVariance?: number;
  treatments?: number;
  doses?: string[];
  controlFraction?: number;
  treatmentShift?: number;
  programs?: number;
  programSize?: number;
  programEffect?: number;
  programsOut?: string;
  overwrite?: boolean;
  json?: boolean;
}

/** The planted gene programs as GMT (`.gmt`) or a JSON map `{program: [genes]}` (any other extension). */
function geneSetsText(sim: SimulatedData, file: string): string {
  const p = sim.programs!;
  if (file.toLowerCase().endsWith('.gmt')) return p.names.map((n, i) => [n, 'invae simulate: planted program', ...p.genes[i]!].join('\t')).join('\n') + '\n';
  return `${JSON.stringify(Object.fromEntries(p.names.map((n, i) => [n, p.genes[i]!])), null, 2)}\n`;
}

/**
 * Builds the AnnData written by `invae simulate`: CSR counts, categorical obs, true latents in obsm,
 * options in uns. With treatments, obs also holds `treatment` (categorical, `control` first) and
 * `dose` (0 = control), and uns the treatment directions; with gene programs, obs holds each
 * program's true activity as `true_activity_<program>`, obsm `X_true_programs` (cells × programs)
 * and uns the programs' genes.
 */
export function simulationToAnnData(sim: SimulatedData): AnnData {
  if (sim.counts.kind !== 'csr') throw new Error('simulationToAnnData expects CSR counts');
  const c = sim.counts;
  const categorical = (categories: string[]) => ({ kind: 'categorical' as const, categories, ordered: false });
  const obsColumns: Record<string, unknown[]> = {
    _index: sim.cellNames,
    batch: sim.obs.batch,
    cell_type: sim.obs.cell_type,
    disease: sim.obs.disease,
    library_size: Array.from(sim.librarySize),
  };
  const obsKinds: Record<string, { kind: 'categorical'; categories: string[]; ordered: boolean } | { kind: 'numeric'; dtype: 'float64' }> = {
    batch: categorical(sim.categories.batch),
    cell_type: categorical(sim.categories.cell_type),
    disease: categorical(sim.categories.disease),
    library_size: { kind: 'numeric', dtype: 'float64' },
  };
  const extraUns: Record<string, UnsValue> = {};
  if (sim.treatment) {
    obsColumns.treatment = sim.treatment.labels;
    obsKinds.treatment = categorical(sim.treatment.categories);
    obsColumns.dose = sim.treatment.dose;
    obsKinds.dose = { kind: 'numeric', dtype: 'float64' };
    const nT = sim.treatment.categories.length - 1;
    extraUns.treatment_directions = { kind: 'dense', shape: [nT, sim.latentDimInv], dtype: 'float32', data: sim.treatment.directions };
  }
  const programObsm: Record<string, { kind: 'dense'; shape: [number, number]; dtype: 'float32'; data: Float32Array }> = {};
  if (sim.programs) {
    const p = sim.programs;
    const P = p.names.length;
    p.names.forEach((name, k) => {
      obsColumns[`true_activity_${name}`] = Array.from({ length: sim.nCells }, (_, i) => p.activity[i * P + k]!);
      obsKinds[`true_activity_${name}`] = { kind: 'numeric', dtype: 'float64' };
    });
    programObsm.X_true_programs = { kind: 'dense', shape: [sim.nCells, P], dtype: 'float32', data: p.activity };
    extraUns.programs = Object.fromEntries(p.names.map((n, k) => [n, p.genes[k]!]));
  }
  const obsTable = aq.table(obsColumns);
  const varColumns: Record<string, unknown[]> = { _index: sim.geneNames };
  if (sim.theta.length) varColumns.theta = Array.from(sim.theta);
  const options = Object.fromEntries(Object.entries(sim.options).map(([k, v]) => [k, Array.isArray(v) ? v.slice() : v])) as Record<string, UnsValue>;
  return {
    nObs: sim.nCells,
    nVars: sim.nGenes,
    X: {
      kind: 'csr',
      shape: [c.shape[0], c.shape[1]],
      dtype: 'float32',
      data: Float32Array.from(c.data),
      indices: Int32Array.from(c.indices),
      indptr: Float64Array.from(c.indptr),
    },
    obs: {
      table: obsTable,
      indexName: '_index',
      columns: obsKinds,
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
      ...programObsm,
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
        ...extraUns,
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
    .option('--disease-shift <x>', 'shift of a disease state on its invariant dimensions (default 1)', number())
    .option('--batch-shift <x>', 'mean of the spurious latents in batch b is b × this (default 1)', number())
    .option('--batch-variance <x>', 'variance of the spurious latents in batch b is 1 + (b + 1) × this (default 1)', number(0))
    .option('--treatments <n>', 'treatments besides the control: obs treatment + dose, a Hill dose-response along a latent direction per treatment (default 0)', integer(0))
    .option('--doses <list>', 'doses of treated cells, comma-separated (default 0.1,1,10,100; control cells get 0)', list)
    .option('--control-fraction <p>', 'fraction of untreated cells (default 0.2)', number(0))
    .option('--treatment-shift <x>', 'latent shift of a full treatment response (default 3)', number())
    .option('--programs <n>', 'planted gene programs: disjoint gene sets whose per-cell activity raises their genes (default 0)', integer(0))
    .option('--program-size <n>', 'genes per program (default genes / 20)', integer(1))
    .option('--program-effect <x>', 'log-rate change of a program gene per unit of activity (default 1)', number())
    .option('--programs-out <file>', 'write the planted programs as gene sets: GMT (.gmt) or JSON (other extensions)')
    .option('--overwrite', 'replace existing output files')
    .option('--json', 'print a machine-readable summary')
    .action(async (opts: SimulateCliOptions) => {
      if (opts.programsOut && !opts.programs) throw new InvalidOptionError('programs-out', '--programs-out needs --programs N (N ≥ 1).');
      const doses = opts.doses?.map((d) => {
        const n = Number(d);
        if (!Number.isFinite(n) || n <= 0) throw new InvalidOptionError('doses', `--doses must be positive numbers, got '${d}'.`);
        return n;
      });
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
        diseaseShift: opts.diseaseShift,
        batchShift: opts.batchShift,
        batchVariance: opts.batchVariance,
        nTreatments: opts.treatments,
        doses,
        controlFraction: opts.controlFraction,
        treatmentShift: opts.treatmentShift,
        nPrograms: opts.programs,
        programSize: opts.programSize,
        programEffect: opts.programEffect,
        format: 'csr',
      };
      for (const k of Object.keys(options) as (keyof SimulateOptions)[]) if (options[k] === undefined) delete options[k];
      const out = path.resolve(opts.out);
      if (opts.programsOut && path.resolve(opts.programsOut) === out) throw new InvalidOptionError('programs-out', '--programs-out and --out name the same file.');
      const claim = await claimOutputs([
        { out: opts.out, options: { overwrite: opts.overwrite } },
        { out: opts.programsOut, options: { overwrite: opts.overwrite, flag: 'programs-out' } },
      ]);
      const t0 = performance.now();
      let sim: SimulatedData;
      try {
        sim = simulate(options);
        const existed = existsSync(out);
        await writeH5adOutput(out, simulationToAnnData(sim));
        if (opts.programsOut) {
          // The two outputs go together: a failed gene-set file takes back the new .h5ad.
          await writeTextAtomically(opts.programsOut, geneSetsText(sim, opts.programsOut)).catch(async (e: unknown) => {
            if (!existed) await rm(out, { force: true });
            throw e;
          });
        }
      } finally {
        claim.release();
      }
      const nnz = sim.counts.kind === 'csr' ? sim.counts.data.length : 0;
      const summary = {
        file: out,
        nCells: sim.nCells,
        nGenes: sim.nGenes,
        nnz,
        zeroFraction: 1 - nnz / (sim.nCells * sim.nGenes),
        seconds: (performance.now() - t0) / 1000,
        options: sim.options,
        ...(sim.programs ? { programs: Object.fromEntries(sim.programs.names.map((n, k) => [n, sim.programs!.genes[k]!])), programsOut: opts.programsOut ?? null } : {}),
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
