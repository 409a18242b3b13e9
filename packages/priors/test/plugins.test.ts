import { beforeAll, describe, expect, it } from 'vitest';
import { PriorOptionError, buildModel, getPrior, initEngine, listPriors, registerPrior, unregisterPrior } from '@invae/core';
import { GaussianPrior, ScoreMatchingPrior, createInvae, gaussianPlugin, registerBuiltinPriors, scoreMatchingPlugin } from '../src/index';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  registerBuiltinPriors();
});

const config = { model: 'FinVAE' as const, dataDim: 12, invCovarDim: 3, spurCovarDim: 2, latentDimInv: 4, latentDimSpur: 2, hiddenDim: 8, seed: 1 };

describe('built-in prior plugins', () => {
  it('are registered by name, idempotently', () => {
    registerBuiltinPriors();
    expect(getPrior('gaussian')).toBe(gaussianPlugin);
    expect(getPrior('score-matching')).toBe(scoreMatchingPlugin);
    expect(listPriors().map((p) => p.name)).toEqual(expect.arrayContaining(['gaussian', 'score-matching']));
  });

  it('resolve defaults from the model and record them in the spec', () => {
    const { model, spec } = buildModel({ config });
    expect(spec.invPrior).toMatchObject({ name: 'gaussian', options: { fixMean: true, fixVar: false, batchNorm: false, nLayers: 2, hiddenDim: 8 } });
    expect(spec.spurPrior?.name).toBe('gaussian');
    expect(model.priors.inv).toBeInstanceOf(GaussianPrior);
    model.dispose();
    const nf = buildModel({ config: { ...config, model: 'NFinVAE' } });
    expect(nf.spec.invPrior).toMatchObject({ name: 'score-matching', options: { outputDim: 12, regSm: 0 } });
    expect(nf.model.priors.inv).toBeInstanceOf(ScoreMatchingPrior);
    nf.model.dispose();
  });

  it('name the plugin and the option when an option is invalid', () => {
    expect(() => buildModel({ config, invPrior: { name: 'gaussian', options: { fixMean: 'yes' } } })).toThrow(PriorOptionError);
    expect(() => buildModel({ config, invPrior: { name: 'gaussian', options: { fixMean: 'yes' } } })).toThrow(/prior 'gaussian', option 'fixMean'/);
    expect(() => buildModel({ config, invPrior: { name: 'gaussian', options: { colour: 1 } } })).toThrow(/option 'colour': unknown option/);
    expect(() => buildModel({ config: { ...config, model: 'NFinVAE' }, spurPrior: { name: 'score-matching' } })).toThrow(/only be the invariant prior/);
  });

  it('createInvae (reference options) and buildModel (plugin spec) build the same network', () => {
    const a = createInvae({ ...config, fixVarPrior: true });
    const b = buildModel({ config, invPrior: { name: 'gaussian', options: { fixVar: true } }, spurPrior: { name: 'gaussian', options: { fixVar: true } } }).model;
    const wa = a.getWeights();
    const wb = b.getWeights();
    expect([...wa.keys()]).toEqual([...wb.keys()]);
    for (const [k, t] of wa) expect(Array.from(wb.get(k)!.dataSync()), k).toEqual(Array.from(t.dataSync()));
    a.dispose();
    b.dispose();
  });

  it('a third-party plugin goes through the same registry', () => {
    registerPrior({ name: 'my-gaussian', family: 'gaussian', create: (ctx, o) => gaussianPlugin.create(ctx, gaussianPlugin.resolveOptions!(o as Record<string, unknown>, ctx)) });
    const { model, spec } = buildModel({ config, invPrior: { name: 'my-gaussian' } });
    expect(spec.invPrior.name).toBe('my-gaussian');
    model.dispose();
    expect(() => registerPrior({ name: 'gaussian', family: 'gaussian', create: () => { throw new Error('x'); } })).toThrow(/already registered/);
    unregisterPrior('my-gaussian');
  });
});
