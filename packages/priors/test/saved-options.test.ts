import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, initEngine } from '@invae/core';
import { registerBuiltinPriors } from '../src/index';

// A model file stores the resolved prior options, where an absent optional column is `null`;
// loading the model resolves them again and must read `null` as absent.

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  registerBuiltinPriors();
});

const config = { model: 'FinVAE' as const, dataDim: 6, invCovarDim: 2, spurCovarDim: 0, latentDimInv: 2, latentDimSpur: 1, hiddenDim: 4 };

describe('resolved domain-prior options resolve again (as when a model is loaded)', () => {
  it('disease without cellType or severity', () => {
    const first = buildModel({ config, invPrior: { name: 'disease', options: {} } });
    expect(first.spec.invPrior.options).toMatchObject({ disease: 'disease', severity: null, cellType: null, interaction: false });
    const again = buildModel({ config, invPrior: first.spec.invPrior });
    expect(again.spec.invPrior.options).toEqual(first.spec.invPrior.options);
    first.model.dispose();
    again.model.dispose();
  });

  it('treatment without time', () => {
    const first = buildModel({ config, invPrior: { name: 'treatment', options: { treatments: ['A', 'B'] } } });
    expect(first.spec.invPrior.options).toMatchObject({ time: null, context: [] });
    const again = buildModel({ config, invPrior: first.spec.invPrior });
    expect(again.spec.invPrior.options).toEqual(first.spec.invPrior.options);
    first.model.dispose();
    again.model.dispose();
  });
});
