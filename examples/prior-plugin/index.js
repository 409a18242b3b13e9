// A third-party prior plugin for invae, written in plain ESM JavaScript against @invae/core's public API.
//
// Model ("homoscedastic linear Gaussian"): p(z | u) = N(W u + b, diag(exp(s))), with one learned
// log-variance s_k per latent dimension that does not depend on the covariates u. Without
// covariates the mean is just b.
//
// Use it from code:
//   import plugin from './examples/prior-plugin/index.js';
//   registerPrior(plugin);
//   Invae.setup(data, { ..., invPrior: { name: plugin.name, options: { initialLogVariance: 0 } } });
// or from the command line:
//   invae train data.h5ad --inv cell_type --spur batch --inv-prior ./examples/prior-plugin/index.js \
//     --inv-prior-options '{"initialLogVariance": -1}' --out model

import { Linear, PriorOptionError, SeedStream, prefixed, tf } from '@invae/core';

const NAME = 'example-homoscedastic';

class HomoscedasticPrior {
  constructor(ctx, options) {
    this.family = 'gaussian';
    this.latentDim = ctx.latentDim;
    this.covarDim = ctx.covarDim;
    this.role = ctx.role;
    const seeds = new SeedStream(ctx.seed);
    this.mean = ctx.covarDim > 0 ? new Linear(ctx.covarDim, ctx.latentDim, seeds) : null;
    this.offset = this.mean ? null : tf.variable(tf.zeros([ctx.latentDim]), true);
    this.logVariance = tf.variable(tf.fill([ctx.latentDim], options.initialLogVariance), true);
  }

  /** Mean [B, latentDim] (or [latentDim] without covariates) and variance [latentDim]. */
  params(u) {
    return tf.tidy(() => ({
      mean: this.mean && u ? this.mean.apply(u) : this.offset.clone(),
      variance: tf.exp(this.logVariance),
    }));
  }

  namedVariables() {
    const p = `prior_example_${this.role}`;
    const out = this.mean ? prefixed(`${p}.mean`, this.mean) : [{ name: `${p}.offset`, variable: this.offset, trainable: true }];
    out.push({ name: `${p}.log_variance`, variable: this.logVariance, trainable: true });
    return out;
  }

  dispose() {
    for (const v of this.namedVariables()) v.variable.dispose();
  }
}

/** @type {import('@invae/core').PriorPlugin<{ initialLogVariance: number }>} */
const plugin = {
  name: NAME,
  version: '0.1.0',
  family: 'gaussian',
  description: 'Gaussian prior with a linear mean and one learned variance per latent (example third-party plugin).',
  resolveOptions(options) {
    for (const key of Object.keys(options)) {
      if (key !== 'initialLogVariance') throw new PriorOptionError(NAME, key, 'unknown option', { hint: 'known options: initialLogVariance' });
    }
    const v = options.initialLogVariance ?? 0;
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > 10) {
      throw new PriorOptionError(NAME, 'initialLogVariance', `expected a number in [-10, 10], got ${JSON.stringify(v)}`);
    }
    return { initialLogVariance: v };
  },
  create(ctx, options) {
    return new HomoscedasticPrior(ctx, options);
  },
};

export { plugin };
export default plugin;
