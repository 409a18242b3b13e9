// Public exports of the data/training part of @invae/core (random numbers, simulator, covariate
// encoders, minibatches, optimisers and schedules). Re-exported by index.ts.
export * from './random/index';
export * from './covariates/index';
export * from './data/index';
export * from './optim/index';
export * from './simulate/index';
