import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { initEngine, tf, writeSafetensors, type SafetensorsInput } from '@invae/core';
import { createInvae, fromReferenceConfig, importTorchStateDict } from '../src/index';
import { judgePython, needsPython } from '../../../test-support/index';
import { scratchDirs } from '../../../test-support/index';

const scratch = scratchDirs('invae-xcheck');

/**
 * Cross-check of configurations the PyTorch fixtures do not cover (lrelu slopes, the other Gaussian
 * prior variants, BatchNorm in priors, kl_div, normal decoder, no invariant covariates, reg_sm,
 * normalize_constant, prior network sizes, injection in NFinVAE) against an independent float64
 * NumPy evaluation of the reference semantics (test/reference/numpy_reference.py, run with Debian's
 * /usr/bin/python3; its score-matching derivatives are finite differences). The script itself
 * reproduces every shared PyTorch fixture. Weights are random (seeded) with non-trivial BatchNorm
 * statistics; they travel to Python as a safetensors state dict and are re-imported with
 * importTorchStateDict, so the import path is exercised too. Each case runs in eval mode and, where
 * no prior network has BatchNorm, in training mode (batch statistics, running-statistics update).
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, 'reference', 'numpy_reference.py');
const python = judgePython;

const CASES: Record<string, Record<string, unknown>> = {
  'finvae-lrelu-learned-mean-3-layers': { model: 'FinVAE', activation: 'lrelu', slope: 0.2, fix_mean_prior: false, fix_var_prior: true, n_layers: 3 },
  'finvae-both-learned-bn-prior-kl-div': { model: 'FinVAE', fix_mean_prior: false, fix_var_prior: false, batch_norm_prior: true, elbo_version: 'kl_div', kl_rate: 0.7 },
  'finvae-fixed-normal-decoder-tc': { model: 'FinVAE', fix_mean_prior: true, fix_var_prior: true, decoder_dist: 'normal', activation: 'lrelu', slope: 0.3, tc_beta: 1 },
  'finvae-no-inv-covariates': { model: 'FinVAE', inv_covar_dim: 0, latent_dim_spur: 1, batch_norm: false },
  'nfinvae-lrelu-reg-sm-learned-spur-tc': {
    model: 'NFinVAE', activation: 'lrelu', slope: 0.25, reg_sm: 0.5, normalize_constant: 3, fix_mean_spur_prior: false, fix_var_spur_prior: false, tc_beta: 0.5, n_layers_prior: 3, hidden_dim_prior: 10,
  },
  'nfinvae-inject-normal-decoder': { model: 'NFinVAE', inject_covar_in_latent: true, latent_dim_spur: 0, decoder_dist: 'normal', fix_var_spur_prior: true },
  'nfinvae-bn-prior-fixed-spur': { model: 'NFinVAE', batch_norm_prior: true, fix_mean_spur_prior: true, fix_var_spur_prior: true, batch_norm: false },
};

const BASE = { genes: 14, inv_covar_dim: 3, spur_covar_dim: 2, latent_dim_inv: 3, latent_dim_spur: 2, n_layers: 2, hidden_dim: 12, dataset_size: 500 };
const B = 12;

function relErr(got: ArrayLike<number>, want: number[]): number {
  const scale = Math.max(...want.map(Math.abs));
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!) / Math.max(Math.abs(want[i]!), 1e-3 * scale, 1e-30));
  return err;
}

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

needsPython('numpy', 'scipy').describe('cross-check against an independent NumPy evaluation of the reference', () => {
  it('has the judge (Debian python with numpy and scipy)', () => {
    execFileSync(python, ['-c', 'import numpy, scipy']);
  });

  for (const [name, over] of Object.entries(CASES)) {
    it(name, async () => {
      const cfg = { ...BASE, ...over } as Record<string, unknown>;
      const dir = scratch.make();
      const built = createInvae({ ...fromReferenceConfig(cfg), seed: 11 });
      // non-trivial BatchNorm parameters and statistics
      let k = 0;
      for (const v of built.namedVariables()) {
        const seed = 100 + k++;
        if (v.name.endsWith('running_mean')) v.variable.assign(tf.randomNormal(v.variable.shape, 0, 0.5, 'float32', seed));
        else if (v.name.endsWith('running_var')) v.variable.assign(tf.randomUniform(v.variable.shape, 0.3, 2, 'float32', seed));
        else if (/\.bn\.\d+\.(weight|bias)$/.test(v.name)) v.variable.assign(tf.randomUniform(v.variable.shape, 0.5, 1.5, 'float32', seed));
      }
      const weights = new Map<string, SafetensorsInput>();
      for (const [n, t] of built.getWeights()) {
        weights.set(n, { shape: t.shape, data: t.dataSync() as Float32Array });
        t.dispose();
      }
      built.dispose();
      const wFile = path.join(dir, 'w.safetensors');
      await writeSafetensors(wFile, weights);
      const model = await importTorchStateDict(wFile, cfg);

      const c = model.config;
      const normal = c.decoderDist === 'normal';
      const x = (normal ? tf.randomNormal([B, c.dataDim], 0, 1, 'float32', 5) : tf.floor(tf.mul(tf.randomUniform([B, c.dataDim], 0, 1, 'float32', 5), 25))) as tf.Tensor2D;
      const oneHot = (n: number, w: number) => tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7) % w), 'int32'), w).toFloat() as tf.Tensor2D;
      const inv = c.invCovarDim > 0 ? oneHot(B, c.invCovarDim) : null;
      const spur = c.spurCovarDim > 0 ? oneHot(B, c.spurCovarDim) : null;
      const eps = tf.randomNormal([B, c.latentDimInv + c.latentDimSpur], 0, 1, 'float32', 6) as tf.Tensor2D;
      const inputs = new Map<string, SafetensorsInput>([['x', { shape: x.shape, data: x.dataSync() as Float32Array }]]);
      if (inv) inputs.set('inv_covar', { shape: inv.shape, data: inv.dataSync() as Float32Array });
      if (spur) inputs.set('spur_covar', { shape: spur.shape, data: spur.dataSync() as Float32Array });
      inputs.set('eps', { shape: eps.shape, data: eps.dataSync() as Float32Array });
      const iFile = path.join(dir, 'i.safetensors');
      await writeSafetensors(iFile, inputs);
      const cFile = path.join(dir, 'c.json');
      writeFileSync(cFile, JSON.stringify(cfg));
      // eval mode, then (where no prior network has BatchNorm, see the script) training mode: batch
      // statistics in BatchNorm and the running-statistics update
      const modes = cfg.batch_norm_prior ? ['eval'] : ['eval', 'train'];
      for (const mode of modes) {
      const want = JSON.parse(execFileSync(python, [script, cFile, wFile, iFile, mode], { encoding: 'utf8' })) as Record<string, unknown>;
      const r = model.loss(x, inv, spur, { training: mode === 'train', eps, datasetSize: cfg.dataset_size as number });
      const f = r.forward;
      const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
      for (const [key, got] of [
        ['encoder_mean', f.encoderMean],
        ['encoder_var', f.encoderVar],
        ['z', f.z],
        ['decoder_mean', f.decoderMean],
        ['log_px_z', f.logPxZ],
        ['theta', f.theta],
      ] as const) {
        if (want[key] === null) {
          expect(got, key).toBeUndefined();
          continue;
        }
        // training mode normalises by statistics of 12 cells, which amplifies float32 rounding (float64
        // judge); z = mean + eps·sd also cancels for some entries: 1e-3 there, 1e-4 in eval mode
        expect(relErr(got!.dataSync() as Float32Array, flat(want[key])), `${name} (${mode}): ${key}`).toBeLessThanOrEqual(mode === 'train' ? 1e-3 : 1e-4);
      }
      if (want.score_matching !== undefined) {
        expect(relErr(r.terms.scoreMatching!.dataSync(), [want.score_matching as number]), `${name}: score matching`).toBeLessThanOrEqual(1e-3);
      }
      const obj = r.objective.dataSync()[0]!;
      expect(Math.abs(obj - (want.objective as number)) / Math.abs(want.objective as number), `${name} (${mode}): objective ${obj} vs ${want.objective}`).toBeLessThanOrEqual(1e-3);
      const stats = want.updated_running_stats as Record<string, number[]>;
      expect(Object.keys(stats).length > 0).toBe(mode === 'train' && c.batchNorm);
      const vars = new Map(model.namedVariables().map((v) => [v.name, v.variable]));
      for (const [key, value] of Object.entries(stats)) {
        expect(relErr(vars.get(key)!.dataSync() as Float32Array, value), `${name}: updated ${key}`).toBeLessThanOrEqual(1e-3);
      }
      tf.dispose([r.loss, r.objective, ...Object.values(r.terms), ...Object.values(r.forward)] as tf.Tensor[]);
      }
      tf.dispose([x, inv, spur, eps].filter((t): t is tf.Tensor2D => t !== null));
      model.dispose();
    });
  }
});
