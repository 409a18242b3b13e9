#!/usr/bin/env node
// Training throughput of FinVAE and NFinVAE on simulated data (issue config: 20k cells × 2000 genes,
// latent 20+5, hidden 128, 2 layers, batch 256, BatchNorm, dropout 0.1). Prints JSON.
// Usage: npm run bench:train [-- --cells 20000 --genes 2000 --epochs 2 --models finvae,nfinvae --workers auto|N]
import { parseArgs } from 'node:util';
import { Invae, initEngine, simulate, VERSION } from '@invae/core';
import { registerBuiltinPriors, VERSION as PRIORS_VERSION } from '@invae/priors';

const { values } = parseArgs({
  options: {
    cells: { type: 'string', default: '20000' },
    genes: { type: 'string', default: '2000' },
    epochs: { type: 'string', default: '2' },
    models: { type: 'string', default: 'finvae,nfinvae' },
    backend: { type: 'string' },
    workers: { type: 'string', default: 'auto' },
  },
});
const nCells = Number(values.cells);
const nGenes = Number(values.genes);
const epochs = Number(values.epochs);
const engine = await initEngine({ backend: values.backend, report: null });
registerBuiltinPriors();

const t0 = performance.now();
const sim = simulate({ nCells, nGenes, nBatches: 4, nCellTypes: 6, nDiseases: 2, latentDimInv: 20, latentDimSpur: 5, seed: 0 });
const simulateSeconds = (performance.now() - t0) / 1000;
const data = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
const results = [];
for (const name of values.models.split(',')) {
  const model = name.trim().toLowerCase() === 'nfinvae' ? 'NFinVAE' : 'FinVAE';
  const w = Invae.setup(
    data,
    {
      model,
      invariant: { categorical: ['cell_type', 'disease'] },
      spurious: { categorical: ['batch'] },
      options: { latentDimInv: 20, latentDimSpur: 5, hiddenDim: 128, nLayers: 2, batchNorm: true, dropoutRate: 0.1, seed: 0 },
    },
    { warn: () => {} },
  );
  // One warm-up epoch (engine compilation, allocator), then the timed epochs.
  const h = await w.train(data, { epochs: epochs + 1, batchSize: 256, seed: 0, workers: values.workers === 'auto' ? 'auto' : Number(values.workers) });
  const timed = h.epochs.slice(1);
  const seconds = timed.reduce((s, e) => s + e.seconds, 0);
  results.push({
    model,
    epochs: timed.length,
    secondsPerEpoch: seconds / timed.length,
    cellsPerSecond: (nCells * timed.length) / seconds,
    finalLoss: h.epochs.at(-1).loss,
  });
  w.dispose();
}
console.log(
  JSON.stringify(
    {
      benchmark: 'train',
      config: { nCells, nGenes, latentDimInv: 20, latentDimSpur: 5, hiddenDim: 128, nLayers: 2, batchSize: 256, batchNorm: true, dropout: 0.1 },
      engine: { name: engine.engine, package: engine.package, version: engine.packageVersion, tfjs: engine.tfjsVersion },
      versions: { node: process.version, core: VERSION, priors: PRIORS_VERSION },
      simulateSeconds,
      results,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    },
    null,
    2,
  ),
);
