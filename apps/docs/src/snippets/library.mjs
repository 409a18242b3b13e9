// AnnData in, AnnData out: read an .h5ad, train inVAE on it, write the invariant latent space into obsm.
import { Invae, initEngine, writeResults } from '@invae/core';
import { readH5ad, writeH5ad } from '@invae/io-anndata';
import { registerBuiltinPriors } from '@invae/priors';

await initEngine({ report: null });
registerBuiltinPriors(); // `gaussian` and `score-matching` priors, resolved by name

const adata = await readH5ad('cells.h5ad'); // raw counts in X (or pass `layer: 'counts'` to setup)
const model = Invae.setup(adata, { model: 'FinVAE', invariant: { categorical: ['cell_type'] }, spurious: { categorical: ['batch'] } });
await model.train(adata, { epochs: 10, onEpoch: (r) => console.log(r.epoch, r.loss) });
const latent = model.latent(adata, { part: 'inv' }); // cells × latentDimInv, row-major Float32Array
writeResults(adata, { latent }); // obsm['X_inVAE']; with a predictor, also `prediction: model.predict(adata)`
await writeH5ad('cells-invae.h5ad', adata);
await model.save('model/');
console.log(`wrote obsm['X_inVAE'] (${latent.nRows} × ${latent.nCols}) to cells-invae.h5ad`);
