import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_PRESET, KnnClassifier, accuracy, initEngine, simulate, type LatentMatrix } from '@invae/core';
import { registerBuiltinPriors } from '@invae/priors';
import { integer } from '../parse';
import { claimOutput, writeFolderAtomically, writeH5adOutput } from '../output';
import type { GlobalOptions } from '../program';
import { runBenchmark } from '@invae/bench';
import { loadDataset } from '../dataset';
import { VERSION as CLI_VERSION } from '../version';
import { simulationToAnnData } from './simulate';

interface DemoOptions {
  cells: number;
  genes: number;
  epochs: number;
  seed: number;
  out: string;
  umap: boolean;
  overwrite?: boolean;
  json?: boolean;
  quiet?: boolean;
}

function rows(m: LatentMatrix, idx: number[]): LatentMatrix {
  const data = new Float32Array(idx.length * m.nCols);
  idx.forEach((r, i) => data.set(m.data.subarray(r * m.nCols, (r + 1) * m.nCols), i * m.nCols));
  return { nRows: idx.length, nCols: m.nCols, data };
}

/** How well `labels` can be told apart in `latent`: 15-NN accuracy, fitted on even cells, scored on odd cells. */
function knnSeparation(latent: LatentMatrix, labels: readonly string[]): number {
  const even = labels.map((_, i) => i).filter((i) => i % 2 === 0);
  const odd = labels.map((_, i) => i).filter((i) => i % 2 === 1);
  const clf = KnnClassifier.fit(rows(latent, even), even.map((i) => labels[i]!), { k: 15 });
  return accuracy(odd.map((i) => labels[i]!), clf.predict(rows(latent, odd)).labels);
}

/**
 * `invae demo`: the end-to-end job on embedded simulated data — simulate batches × cell types with
 * known latents, train FinVAE with the default preset (cell type invariant, batch spurious) and the
 * scVI-equivalent, score them and PCA with the scib-metrics set, print the table and write the
 * benchmark folder with report.html.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run invae end to end on embedded simulated data: simulate → train FinVAE (default preset) and the scVI-equivalent → scib-metrics table vs PCA → report.html')
    .option('--cells <n>', 'simulated cells', integer(100), 2000)
    .option('--genes <n>', 'simulated genes', integer(10), 300)
    .option('--epochs <n>', 'training epochs of each model', integer(1), 50)
    .option('--seed <n>', 'random seed', integer(0), 0)
    .option('-o, --out <dir>', 'output folder (simulated.h5ad and the benchmark report)', 'invae-demo')
    .option('--no-umap', 'skip the UMAP plots (faster)')
    .option('--overwrite', 'replace an existing output folder')
    .option('--json', 'print a machine-readable summary')
    .option('--quiet', 'no progress output')
    .action(async (opts: DemoOptions, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      // the engine is checked before the output folder is claimed
      const engine = await initEngine({ backend: global.backend, report: opts.json || opts.quiet ? null : undefined });
      registerBuiltinPriors();
      const out = path.resolve(opts.out);
      const lock = await claimOutput(out, { overwrite: opts.overwrite });
      try {
        await demo(out, opts, engine.engine);
      } finally {
        lock.release();
      }
    });
}

/** The run of `invae demo`, once its output folder is claimed. */
async function demo(out: string, opts: DemoOptions, engineName: string): Promise<void> {
  const t0 = performance.now();
  const sim = simulate({ nCells: opts.cells, nGenes: opts.genes, nBatches: 3, nCellTypes: 4, nDiseases: 1, latentDimInv: 4, latentDimSpur: 1, batchShift: 3, batchVariance: 0.3, seed: opts.seed });
  await fsp.mkdir(out, { recursive: true });
  const file = path.join(out, 'simulated.h5ad');
  await writeH5adOutput(file, simulationToAnnData(sim));
  const tRead = performance.now();
  const { adata, data, cellNames } = await loadDataset(file);
  const read = { step: 'read data', seconds: (performance.now() - tRead) / 1000 };
  const run = await runBenchmark(
    { data, obsm: adata.obsm, cellNames, name: path.basename(file) },
    {
      batch: 'batch',
      label: 'cell_type',
      methods: ['pca', 'scvi', 'finvae'],
      preset: DEFAULT_PRESET,
      nTopGenes: 0,
      epochs: opts.epochs,
      seed: opts.seed,
      umap: opts.umap,
      outDir: out,
      writeFolder: writeFolderAtomically,
      log: (m) => void (!opts.quiet && !opts.json && process.stderr.write(`${m}\n`)),
      timings: [read],
      startedAt: tRead,
      environment: { '@invae/cli': CLI_VERSION },
    },
  );
  const history = run.histories.FinVAE!;
  const inv = run.embeddings.FinVAE!;
  const latent = { nRows: inv.nRows, nCols: inv.nCols, data: Float32Array.from(inv.data) };
  const methods = run.results.methods.map((m) => ({ method: m.embedding, ...m.aggregates }));
  const summary = {
    engine: engineName,
    preset: DEFAULT_PRESET,
    data: { cells: sim.nCells, genes: sim.nGenes, batches: sim.categories.batch.length, cellTypes: sim.categories.cell_type.length, file },
    training: {
      epochs: history.epochs.length,
      firstLoss: history.epochs[0]!.loss,
      finalLoss: history.epochs.at(-1)!.loss,
      seconds: history.seconds,
      cellsPerSecond: history.epochs.at(-1)!.cellsPerSecond,
    },
    invariantLatent: {
      dims: latent.nCols,
      cellTypeKnnAccuracy: knnSeparation(latent, sim.obs.cell_type),
      batchKnnAccuracy: knnSeparation(latent, sim.obs.batch),
    },
    chance: { cellType: 1 / sim.categories.cell_type.length, batch: 1 / sim.categories.batch.length },
    benchmark: methods,
    report: path.join(out, 'report.html'),
    seconds: (performance.now() - t0) / 1000,
  };
  if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
    const f = (v: number | null | undefined) => (typeof v === 'number' ? v.toFixed(3) : '–');
    const table = [
      '| method | Batch correction | Bio conservation | Total |',
      '| --- | --- | --- | --- |',
      ...[...methods].sort((a, b) => (b.Total ?? -1) - (a.Total ?? -1)).map((m) => `| ${m.method}${m.method === 'FinVAE' ? ' †' : ''} | ${f(m['Batch correction'])} | ${f(m['Bio conservation'])} | ${f(m.Total)} |`),
    ];
    process.stdout.write(
      [
        `simulated ${summary.data.cells} cells × ${summary.data.genes} genes (${summary.data.batches} batches, ${summary.data.cellTypes} cell types)`,
        `trained FinVAE (preset ${DEFAULT_PRESET}) for ${summary.training.epochs} epochs: loss ${summary.training.firstLoss.toFixed(1)} → ${summary.training.finalLoss.toFixed(1)} (${Math.round(summary.training.cellsPerSecond)} cells/s on ${engineName})`,
        `invariant latent (${latent.nCols} dims): cell type told apart ${pct(summary.invariantLatent.cellTypeKnnAccuracy)} (chance ${pct(summary.chance.cellType)}), batch ${pct(summary.invariantLatent.batchKnnAccuracy)} (chance ${pct(summary.chance.batch)}: lower = better mixed)`,
        '',
        'scib-metrics (unscaled), the same code for every method:',
        ...table,
        "† reads 'cell_type' during training (supervised, as scANVI)",
        '',
        `report: ${summary.report}`,
        `done in ${summary.seconds.toFixed(1)} s`,
      ].join('\n') + '\n',
    );
  }
}
