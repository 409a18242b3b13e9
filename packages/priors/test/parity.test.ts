import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { initEngine, readSafetensors, tf, type InvaeModel } from '@invae/core';
import { importTorchStateDict } from '../src/index';
import { needsShared, sharedPath } from '../../../test-support/index';

/**
 * Parity with the Python reference (theislab/inVAE): every `<name>.expected.json` in the parity
 * folder (env INVAE_PARITY_DIR, default `<repo>/../shared/parity`) is rebuilt from its `config`,
 * loaded with `<name>.safetensors`, evaluated in eval mode on `<name>.inputs.safetensors` with the
 * recorded noise, and compared with the reference outputs. Nothing here is specific to a fixture.
 * A missing folder skips the tests (fails them under INVAE_REQUIRE_SHARED=1; test-support/).
 */
const parityDir = sharedPath('parity', 'INVAE_PARITY_DIR');
const parity = needsShared({ rel: 'parity', env: 'INVAE_PARITY_DIR' });

const RTOL = 1e-4;
const verbose = process.env.INVAE_PARITY_VERBOSE === '1';
const RTOL_OBJECTIVE = 1e-3;

interface Expected {
  config: Record<string, unknown>;
  dataset_size?: number;
  encoder_mean: number[][];
  encoder_var: number[][];
  z: number[][];
  decoder_mean: number[][];
  theta: number[];
  log_px_z: number[];
  objective: number;
}

function flat(v: unknown): number[] {
  return Array.isArray(v) ? (v as unknown[]).flatMap(flat) : [v as number];
}

/**
 * Largest error relative to the reference value, with a floor of 1e-3 × the largest reference
 * magnitude of the array so that entries that are (almost) zero are judged on the array's scale.
 */
function worstRelative(got: ArrayLike<number>, want: number[]): { err: number; index: number } {
  expect(got.length).toBe(want.length);
  const scale = Math.max(...want.map(Math.abs));
  let err = 0;
  let index = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!) / Math.max(Math.abs(want[i]!), 1e-3 * scale, 1e-30);
    if (!(e <= err)) {
      err = e;
      index = i;
    }
  }
  return { err, index };
}

const cases = parity.ok
  ? readdirSync(parityDir)
      .filter((f) => f.endsWith('.expected.json'))
      .map((f) => f.slice(0, -'.expected.json'.length))
      .sort()
  : [];

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

parity.describe('parity with the PyTorch reference', () => {
  it('finds the parity fixtures', () => {
    expect(cases.length, `no *.expected.json in ${parityDir}`).toBeGreaterThan(0);
  });

  for (const name of cases) {
    it(`${name}: encoder, latent, decoder, likelihood and objective match`, async () => {
      const expected = JSON.parse(readFileSync(path.join(parityDir, `${name}.expected.json`), 'utf8')) as Expected;
      const model: InvaeModel = await importTorchStateDict(path.join(parityDir, `${name}.safetensors`), expected.config);
      const inputs = await readSafetensors(path.join(parityDir, `${name}.inputs.safetensors`));
      const t = (key: string): tf.Tensor2D | null => {
        const e = inputs.tensors.get(key);
        if (!e) return null;
        return tf.tensor2d(e.data as Float32Array, e.shape as [number, number]);
      };
      const x = t('x')!;
      const inv = t('inv_covar');
      const spur = t('spur_covar');
      const eps = t('eps')!;
      const datasetSize = (expected.dataset_size ?? expected.config.dataset_size) as number | undefined;
      try {
        const before = tf.memory().numTensors;
        const res = model.loss(x, inv, spur, { training: false, eps, datasetSize });
        const f = res.forward;
        const checks: [string, tf.Tensor | undefined, unknown][] = [
          ['encoder_mean', f.encoderMean, expected.encoder_mean],
          ['encoder_var', f.encoderVar, expected.encoder_var],
          ['z', f.z, expected.z],
          ['decoder_mean', f.decoderMean, expected.decoder_mean],
          ['theta', f.theta, expected.theta],
          ['log_px_z', f.logPxZ, expected.log_px_z],
        ];
        for (const [key, got, want] of checks) {
          expect(got, `${name}: ${key} not computed`).toBeDefined();
          const w = flat(want);
          const { err, index } = worstRelative(got!.dataSync() as Float32Array, w);
          if (verbose) console.info(`[parity] ${name} ${key}: worst relative error ${err.toExponential(2)}`);
          expect(err, `${name}: ${key} worst relative error ${err.toExponential(2)} at flat index ${index}`).toBeLessThanOrEqual(RTOL);
        }
        const objective = res.objective.dataSync()[0]!;
        const relObj = Math.abs(objective - expected.objective) / Math.abs(expected.objective);
        if (verbose) {
          const terms = Object.fromEntries(Object.entries(res.terms).map(([k, v]) => [k, v.dataSync()[0]]));
          console.info(`[parity] ${name} objective ${objective} vs ${expected.objective} (relative ${relObj.toExponential(2)}), terms ${JSON.stringify(terms)}`);
        }
        expect(relObj, `${name}: objective ${objective} vs reference ${expected.objective}`).toBeLessThanOrEqual(RTOL_OBJECTIVE);
        expect(res.loss.dataSync()[0]).toBeCloseTo(-objective, 3);
        // the caller owns everything the loss returned and nothing else is left behind
        const owned = new Set<tf.Tensor>([res.loss, res.objective, ...Object.values(res.terms), ...Object.values(res.forward).filter((v): v is tf.Tensor => v instanceof tf.Tensor)]);
        expect(tf.memory().numTensors - before).toBe(owned.size);
        for (const o of owned) o.dispose();
      } finally {
        for (const v of [x, inv, spur, eps]) v?.dispose();
        model.dispose();
      }
    });
  }
});
