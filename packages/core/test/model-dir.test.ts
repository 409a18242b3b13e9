import { readFileSync, writeFileSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelFormatError, initEngine, readModelDir, saveModelDir, serializeSafetensors, tf } from '../src/index';
import { scratchDirs } from '../../../test-support/index';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
});

const scratch = scratchDirs('invae-modeldir');
const tmp = () => scratch.make();
const weights = () =>
  new Map<string, tf.Tensor>([
    ['encoder.fc.0.weight', tf.tensor2d([[1, 2, 3], [4, 5, 6]])],
    ['decoder_raw_theta', tf.tensor1d([0.5, -0.25, 3])],
  ]);

describe('model directory', () => {
  it('round-trips manifest and weights exactly', async () => {
    const dir = path.join(tmp(), 'model');
    const w = weights();
    await saveModelDir(dir, { model: { model: 'FinVAE', latentDimInv: 2 }, geneNames: ['a', 'b', 'c'], extra: { layer: 'counts' }, weights: w });
    expect(readdirSync(path.dirname(dir))).toEqual(['model']); // no temporary left behind
    const back = await readModelDir(dir);
    expect(back.manifest.format).toBe('invae-model');
    expect(back.manifest.model).toEqual({ model: 'FinVAE', latentDimInv: 2 });
    expect(back.manifest.geneNames).toEqual(['a', 'b', 'c']);
    expect(back.manifest.extra).toEqual({ layer: 'counts' });
    expect(back.manifest.engine?.engine).toBe('wasm');
    for (const [k, t] of w) expect(Array.from(back.weights.get(k)!.dataSync())).toEqual(Array.from(t.dataSync()));
    expect(back.weights.get('encoder.fc.0.weight')!.shape).toEqual([2, 3]);
    tf.dispose([...w.values(), ...back.weights.values()]);
  });

  it('refuses to replace an existing directory unless asked, and never a non-model directory', async () => {
    const root = tmp();
    const dir = path.join(root, 'model');
    const w = weights();
    await saveModelDir(dir, { model: { v: 1 }, geneNames: [], weights: w });
    await expect(saveModelDir(dir, { model: { v: 2 }, geneNames: [], weights: w })).rejects.toThrow(/already exists/);
    await saveModelDir(dir, { model: { v: 2 }, geneNames: [], weights: w }, { overwrite: true });
    expect((await readModelDir(dir)).manifest.model).toEqual({ v: 2 });
    const other = path.join(root, 'data');
    mkdirSync(other);
    writeFileSync(path.join(other, 'precious.txt'), 'keep me');
    await expect(saveModelDir(other, { model: {}, geneNames: [], weights: w }, { overwrite: true })).rejects.toBeInstanceOf(ModelFormatError);
    expect(readFileSync(path.join(other, 'precious.txt'), 'utf8')).toBe('keep me');
    tf.dispose([...w.values()]);
  });

  it('rejects weights that do not match the manifest, naming the tensor', async () => {
    const dir = path.join(tmp(), 'model');
    const w = weights();
    await saveModelDir(dir, { model: {}, geneNames: [], weights: w });
    tf.dispose([...w.values()]);
    const bad = serializeSafetensors(new Map([['encoder.fc.0.weight', { dtype: 'F32' as const, shape: [3, 2], data: new Float32Array(6) }]]));
    writeFileSync(path.join(dir, 'weights.safetensors'), bad);
    const err = await readModelDir(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toMatch(/'encoder\.fc\.0\.weight' has shape \[3, 2\]/);
    expect((err as Error).message).toMatch(/missing tensor 'decoder_raw_theta'/);
  });

  it('rejects a missing directory, a foreign manifest and a newer format version', async () => {
    await expect(readModelDir(path.join(tmp(), 'nope'))).rejects.toThrow(/cannot read model\.json/);
    const dir = path.join(tmp(), 'model');
    const w = weights();
    await saveModelDir(dir, { model: {}, geneNames: [], weights: w });
    tf.dispose([...w.values()]);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ ...manifest, formatVersion: 99 }));
    await expect(readModelDir(dir)).rejects.toThrow(/format version 99 is not supported/);
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ hello: 'world' }));
    await expect(readModelDir(dir)).rejects.toThrow(/not an invae model manifest/);
    expect(existsSync(dir)).toBe(true);
  });
});
