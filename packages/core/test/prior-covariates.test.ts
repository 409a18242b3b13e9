import { describe, expect, it } from 'vitest';
import { PriorNotFoundError, PriorOptionError, priorCovariates, registerPrior, unregisterPrior, type PriorPlugin } from '../src/index';

describe('PriorPlugin.covariates (optional declaration of the inputs a prior needs)', () => {
  const plugin: PriorPlugin = {
    name: 'test-declares-inputs',
    family: 'gaussian',
    create: () => {
      throw new Error('not built in this test');
    },
    covariates(options, role) {
      if (typeof options.key !== 'string') throw new PriorOptionError('test-declares-inputs', 'key', 'expected a column name');
      return role === 'inv' ? { categorical: [options.key], interactions: [[options.key, 'other']] } : { categorical: [options.key] };
    },
  };

  it('is returned by priorCovariates for the options and role given', () => {
    registerPrior(plugin);
    try {
      expect(priorCovariates({ name: plugin.name, options: { key: 'disease' } }, 'inv')).toEqual({ categorical: ['disease'], interactions: [['disease', 'other']] });
      expect(priorCovariates({ name: plugin.name, options: { key: 'batch' } }, 'spur')).toEqual({ categorical: ['batch'] });
      expect(() => priorCovariates({ name: plugin.name }, 'inv')).toThrow(/prior 'test-declares-inputs', option 'key'/);
    } finally {
      unregisterPrior(plugin.name);
    }
  });

  it('is undefined for plugins that declare nothing, and unknown names are typed errors', () => {
    registerPrior({ name: 'test-no-inputs', family: 'gaussian', create: () => { throw new Error('unused'); } });
    try {
      expect(priorCovariates({ name: 'test-no-inputs' }, 'inv')).toBeUndefined();
    } finally {
      unregisterPrior('test-no-inputs');
    }
    expect(() => priorCovariates({ name: 'no-such-prior' }, 'inv')).toThrow(PriorNotFoundError);
  });
});
