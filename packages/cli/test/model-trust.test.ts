import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invae, python } from './helpers';

// Hostile model directories and inputs through the built binary: each fails with a typed, located
// message, exit 1, no stack trace, and writes nothing; divergence keeps the last good model.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-trust-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sim = path.join(dir, 'sim.h5ad');
const model = path.join(dir, 'model');
const small = ['--hidden', '16', '--latent-inv', '3', '--latent-spur', '1', '--batch-size', '64'];

beforeAll(() => {
  const s = invae(['simulate', '--out', sim, '--cells', '240', '--genes', '40', '--batches', '2', '--cell-types', '3', '--seed', '3']);
  expect(s.code, s.stderr).toBe(0);
  const t = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--out', model, '--epochs', '2', '--quiet', ...small]);
  expect(t.code, t.stderr).toBe(0);
});

/** A copy of the model with `edit` applied to its model.json. */
function tampered(name: string, edit: (m: Record<string, any>) => void): string {
  const d = path.join(dir, name);
  fs.cpSync(model, d, { recursive: true });
  const f = path.join(d, 'model.json');
  const m = JSON.parse(fs.readFileSync(f, 'utf8'));
  edit(m);
  fs.writeFileSync(f, JSON.stringify(m));
  return d;
}

function expectRefused(r: { code: number | null; stderr: string }, message: string, out?: string) {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toContain(message);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  if (out) expect(fs.existsSync(out)).toBe(false);
}

describe('invae embed refuses a hostile model directory', () => {
  const cases: [string, (m: Record<string, any>) => void, string][] = [
    ['hidden-abc', (m) => (m.model.config.hiddenDim = 'abc'), 'model.json: model.config.hiddenDim must be a positive integer, got "abc"'],
    ['hidden-20000', (m) => (m.model.config.hiddenDim = 20000), "model.json: model.config implies the weight 'shared_encoder.fc.0.weight' of shape [20000, 45], but weights.safetensors holds [16, 45]"],
    ['latent-3e6', (m) => (m.model.config.latentDimInv = 3e6), 'model.json: model.config.latentDimInv is 3000000, larger than the plausible limit 100000'],
    ['shape-abc', (m) => (m.weights['g.weight'] = 'abc'), 'model.json: weights["g.weight"] must be an array, got "abc"'],
    ['dup-genes', (m) => (m.geneNames[7] = m.geneNames[2]), 'model.json: geneNames has 1 duplicated name(s)'],
  ];
  for (const [name, edit, message] of cases) {
    it(name, () => {
      const d = tampered(name, edit);
      const out = path.join(dir, `${name}.h5ad`);
      const r = invae(['embed', d, sim, '--out', out]);
      expectRefused(r, message, out);
      expect(r.stderr).toContain(d);
    });
  }

  it('NaN weights: refused naming the tensor (was: exit 0 with all-NaN latents)', () => {
    const d = tampered('nan', () => {});
    const f = path.join(d, 'weights.safetensors');
    const b = fs.readFileSync(f);
    const n = Number(b.readBigUInt64LE(0));
    const header = JSON.parse(b.subarray(8, 8 + n).toString('utf8'));
    b.writeFloatLE(Number.NaN, 8 + n + header['g.weight'].data_offsets[0] + 4);
    fs.writeFileSync(f, b);
    const out = path.join(dir, 'nan.h5ad');
    expectRefused(invae(['embed', d, sim, '--out', out]), "weights.safetensors: tensor 'g.weight' holds a non-finite value (NaN at element 1)", out);
  });

  it('a weights file that is /dev/zero is refused at once, without reading it', () => {
    const d = tampered('zero', () => {});
    fs.unlinkSync(path.join(d, 'weights.safetensors'));
    fs.symlinkSync('/dev/zero', path.join(d, 'weights.safetensors'));
    const out = path.join(dir, 'zero.h5ad');
    expectRefused(invae(['embed', d, sim, '--out', out], {}, 60_000), 'is not a regular file', out);
  });
});

describe('duplicated var names in the data', () => {
  const dup = path.join(dir, 'dup.h5ad');
  beforeAll(() => {
    python(
      `
import warnings; warnings.simplefilter("ignore")
a = anndata.read_h5ad(sys.argv[1])
names = list(a.var_names); names[5] = names[2]
a.var_names = names
a.write_h5ad(sys.argv[2])
print(json.dumps(names[2]))
`,
      [sim, dup],
    );
  });

  it('train refuses them, naming the duplicates, with the anndata fix', () => {
    const out = path.join(dir, 'dup-model');
    const r = invae(['train', dup, '--inv', 'cell_type', '--spur', 'batch', '--out', out, '--epochs', '1', '--quiet', ...small]);
    expectRefused(r, 'duplicated gene (var) name(s)', out);
    expect(r.stderr).toMatch(/hint: .*var_names_make_unique/);
  });

  it('embed refuses data in which a model gene is named twice (was: one column picked silently)', () => {
    const out = path.join(dir, 'dup-embedded.h5ad');
    expectRefused(invae(['embed', model, dup, '--out', out]), "duplicated gene (var) name(s) among the model's genes", out);
  });
});

describe('invae train', () => {
  it('--latent-spur 0 with --spur fails at setup with the fix (was: "No gradient for variable")', () => {
    const out = path.join(dir, 'spur0');
    // the integration preset injects the batch into the decoder: without that, no block takes it
    const r = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--latent-spur', '0', '--no-inject-covar', '--out', out, '--epochs', '1', '--quiet', '--hidden', '16']);
    expectRefused(r, 'latentDimSpur 0 leaves the 2 encoded spurious covariate column(s) without a latent block', out);
    expect(r.stderr).toMatch(/hint: .*--inject-covar/);
    const ok = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--latent-spur', '0', '--inject-covar', '--out', out, '--epochs', '1', '--quiet', '--hidden', '16']);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('a diverging learning rate keeps the last good model with a record of the divergence, and exits 1', () => {
    const out = path.join(dir, 'diverged');
    // measured: at --lr 1 the loss becomes Infinity in epoch 2 (epoch 1 is finite)
    const r = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--out', out, '--epochs', '6', '--lr', '1', '--quiet', ...small]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('Training diverged: the loss became Infinity at epoch 2');
    expect(r.stderr).toContain(`The last good model (epoch 1) was saved to ${out}`);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8'));
    expect(m.extra.training).toMatchObject({ epochs: 1, stoppedBy: 'diverged', diverged: { epoch: 2, loss: 'Infinity' } });
    const emb = path.join(dir, 'diverged.h5ad');
    const e = invae(['embed', out, sim, '--out', emb]);
    expect(e.code, e.stderr).toBe(0);
    const finite = python<boolean>(`a = anndata.read_h5ad(sys.argv[1]); print(json.dumps(bool(np.isfinite(np.asarray(a.obsm["X_inVAE"])).all())))`, [emb]);
    expect(finite).toBe(true);
  });

  it('divergence in the first epoch writes no model (there is no trained one to keep)', () => {
    const out = path.join(dir, 'diverged-at-once');
    const r = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--out', out, '--epochs', '3', '--lr', '3', '--quiet', ...small]);
    expectRefused(r, 'Training diverged: the loss became NaN at epoch 1', out);
  });
});
