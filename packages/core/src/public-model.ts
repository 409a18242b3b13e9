// Public exports of the model part of @invae/core — what scvi-tools calls the model: the user API
// (`Invae`: setup, train, latent, predict, save/load), presets, datasets and AnnData in and out.
// Re-exported by index.ts.
export * from './model/index';
