import type { Command } from 'commander';
import { Invae, KnnClassifier, accuracy, initEngine, simulate, type InvaeDataset, type LatentMatrix } from '@invae/core';
import { registerBuiltinPriors } from '@invae/priors';
import { integer } from '../parse';
import { epochReporter } from '../progress';
import type { GlobalOptions } from '../program';

interface DemoOptions {
  cells: number;
  genes: number;
  epochs: number;
  seed: number;
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
 * known latents, train FinVAE with cell type as invariant and batch as spurious covariate, embed,
 * and report how well cell types separate and batches mix in the invariant latent space.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run invae end to end on embedded simulated data (simulate → train FinVAE → embed → summary)')
    .option('--cells <n>', 'simulated cells', integer(50), 2000)
    .option('--genes <n>', 'simulated genes', integer(10), 300)
    .option('--epochs <n>', 'training epochs', integer(1), 40)
    .option('--seed <n>', 'random seed', integer(0), 0)
    .option('--json', 'print a machine-readable summary')
    .option('--quiet', 'no progress output')
    .action(async (opts: DemoOptions, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const engine = await initEngine({ backend: global.backend, report: opts.json || opts.quiet ? null : undefined });
      registerBuiltinPriors();
      const t0 = performance.now();
      const sim = simulate({ nCells: opts.cells, nGenes: opts.genes, nBatches: 3, nCellTypes: 4, nDiseases: 1, latentDimInv: 4, latentDimSpur: 1, batchShift: 3, batchVariance: 0.3, seed: opts.seed });
      const data: InvaeDataset = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
      const workflow = Invae.setup(data, {
        model: 'FinVAE',
        invariant: { categorical: ['cell_type'] },
        spurious: { categorical: ['batch'] },
        options: { latentDimInv: 4, latentDimSpur: 2, hiddenDim: 64, seed: opts.seed },
        // Learned prior means let each cell type (and batch) place its own centre in its block.
        invPrior: { name: 'gaussian', options: { fixMean: false } },
        spurPrior: { name: 'gaussian', options: { fixMean: false } },
      });
      try {
        const reporter = epochReporter({ quiet: opts.quiet || opts.json });
        const history = await workflow.train(data, { epochs: opts.epochs, batchSize: 128, learningRate: 3e-3, seed: opts.seed, onEpoch: reporter.onEpoch }).finally(reporter.done);
        const inv = workflow.latent(data, { part: 'inv' });
        const spur = workflow.latent(data, { part: 'spur' });
        const summary = {
          engine: engine.engine,
          data: { cells: sim.nCells, genes: sim.nGenes, batches: sim.categories.batch.length, cellTypes: sim.categories.cell_type.length },
          training: {
            epochs: history.epochs.length,
            firstLoss: history.epochs[0]!.loss,
            finalLoss: history.epochs.at(-1)!.loss,
            seconds: history.seconds,
            cellsPerSecond: history.epochs.at(-1)!.cellsPerSecond,
          },
          invariantLatent: {
            dims: inv.nCols,
            cellTypeKnnAccuracy: knnSeparation(inv, sim.obs.cell_type),
            batchKnnAccuracy: knnSeparation(inv, sim.obs.batch),
          },
          spuriousLatent: { dims: spur.nCols, batchKnnAccuracy: knnSeparation(spur, sim.obs.batch) },
          chance: { cellType: 1 / sim.categories.cell_type.length, batch: 1 / sim.categories.batch.length },
          seconds: (performance.now() - t0) / 1000,
        };
        if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        else {
          const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
          process.stdout.write(
            [
              `simulated ${summary.data.cells} cells × ${summary.data.genes} genes (${summary.data.batches} batches, ${summary.data.cellTypes} cell types)`,
              `trained FinVAE for ${summary.training.epochs} epochs: loss ${summary.training.firstLoss.toFixed(1)} → ${summary.training.finalLoss.toFixed(1)} (${Math.round(summary.training.cellsPerSecond)} cells/s on ${engine.engine})`,
              `invariant latent (${inv.nCols} dims): cell type told apart ${pct(summary.invariantLatent.cellTypeKnnAccuracy)} (chance ${pct(summary.chance.cellType)}), batch ${pct(summary.invariantLatent.batchKnnAccuracy)} (chance ${pct(summary.chance.batch)}: lower = better mixed)`,
              `spurious latent (${spur.nCols} dims): batch told apart ${pct(summary.spuriousLatent.batchKnnAccuracy)}`,
              `done in ${summary.seconds.toFixed(1)} s`,
            ].join('\n') + '\n',
          );
        }
      } finally {
        workflow.dispose();
      }
    });
}
