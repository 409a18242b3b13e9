// Public exports of the model part of @invae/core (layers, likelihoods, priors interface, FinVAE/NFinVAE,
// parity import). Re-exported by index.ts.
export {};
