// Use the third-party prior of examples/prior-plugin from code: register it, then name it.
import { Invae, initEngine, registerPrior, simulate } from '@invae/core';
import { registerBuiltinPriors } from '@invae/priors';
import plugin from '../../../../examples/prior-plugin/index.js'; // or: import plugin from 'invae-example-prior-plugin'

await initEngine({ report: null });
registerBuiltinPriors(); // the spurious block keeps the default 'gaussian' prior
registerPrior(plugin); // now resolvable by its name, 'example-homoscedastic'

const sim = simulate({ nCells: 300, nGenes: 60, nBatches: 2, nCellTypes: 2, seed: 1 });
const data = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
const model = Invae.setup(data, {
  invariant: { categorical: ['cell_type'] },
  spurious: { categorical: ['batch'] },
  invPrior: { name: plugin.name, options: { initialLogVariance: -1 } }, // validated by plugin.resolveOptions
  options: { latentDimInv: 3, latentDimSpur: 1 },
});
await model.train(data, { epochs: 5 });
console.log(model.spec.invPrior); // { name: 'example-homoscedastic', version: '0.1.0', options: { initialLogVariance: -1 } }
await model.save('model-example-prior', { overwrite: true });
model.dispose();

// Loading needs the plugin registered first (invae embed/predict: --plugin ./examples/prior-plugin/index.js).
const again = await Invae.load('model-example-prior');
console.log(`reloaded with prior ${again.spec.invPrior.name}`);
again.dispose();
