// The disease prior from code: the prior declares which obs columns it reads and how they are encoded.
import { Invae, initEngine, priorCovariates, simulate } from '@invae/core';
import { registerBuiltinPriors } from '@invae/priors';

await initEngine({ report: null });
registerBuiltinPriors();

const sim = simulate({ nCells: 400, nGenes: 80, nBatches: 2, nCellTypes: 2, nDiseases: 2, seed: 2 });
const data = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };

// severity (optional) lists the disease levels from least to most severe: an ordinal code instead of one-hot.
const invPrior = { name: 'disease', options: { disease: 'disease', cellType: 'cell_type', severity: ['disease_0', 'disease_1'] } };
console.log(priorCovariates(invPrior, 'inv')); // the covariate encoding the prior declares
const model = Invae.setup(data, {
  invariant: priorCovariates(invPrior, 'inv'),
  spurious: { categorical: ['batch'] },
  invPrior,
  options: { latentDimInv: 4, latentDimSpur: 1 },
});
await model.train(data, { epochs: 5 });
console.log(`prior: ${model.spec.invPrior.name} ${model.spec.invPrior.version}`);
model.dispose();
