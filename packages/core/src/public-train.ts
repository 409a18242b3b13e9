// Public exports of the training plan, persistence and predictors of @invae/core. Re-exported by index.ts.
export * from './train/index';
export * from './persist/index';
export * from './predict/index';
