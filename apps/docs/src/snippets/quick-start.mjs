// Train FinVAE from code, read the invariant latent space, predict cell types, save the model.
import { Invae, initEngine, simulate } from '@invae/core';
import { registerBuiltinPriors } from '@invae/priors';

await initEngine({ report: null }); // tfjs-node-gpu › tfjs-node › wasm › cpu: the first that loads
registerBuiltinPriors(); // resolves priors by name: gaussian, score-matching, disease, treatment, gene-program

// Simulated counts whose invariant latents depend on cell type and disease, and spurious latents on batch.
const sim = simulate({ nCells: 600, nGenes: 100, nBatches: 3, nCellTypes: 3, seed: 0 });
const data = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };

const model = Invae.setup(data, {
  model: 'FinVAE',
  invariant: { categorical: ['cell_type', 'disease'] }, // biology
  spurious: { categorical: ['batch'] }, // technical
  options: { latentDimInv: 4, latentDimSpur: 2 },
});
const history = await model.train(data, { epochs: 15 });
console.log(`trained ${history.epochs.length} epochs, final loss ${history.epochs.at(-1).loss.toFixed(1)}`);

const zInv = model.latent(data, { part: 'inv' }); // row-major Float32Array, cells × latentDimInv
console.log(`invariant latent: ${zInv.nRows} cells × ${zInv.nCols} dimensions`);

model.trainPredictor(data, 'cell_type'); // linear softmax on the invariant latent means
const { labels } = model.predict(data);
const correct = labels.filter((l, i) => l === String(data.obs.cell_type[i])).length;
console.log(`cell-type accuracy on the training cells: ${(correct / labels.length).toFixed(2)}`);

await model.save('invae-model', { overwrite: true }); // model.json + weights.safetensors
model.dispose();
