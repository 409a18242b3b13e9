import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, invae } from './helpers';

// `invae train --inv-prior / --spur-prior` with built-in priors and a third-party plugin file.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const examplePlugin = path.join(repoRoot, 'examples/prior-plugin/index.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-priors-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sim = path.join(dir, 'sim.h5ad');
const small = ['--epochs', '2', '--hidden', '8', '--latent-inv', '2', '--latent-spur', '1', '--batch-size', '60', '--json'];

/** Runs the built CLI from `cwd` (the repo root unless given). */
function invaeIn(args: string[], cwd = repoRoot) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd, env: { ...process.env, INVAE_BACKEND: '' }, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Summary {
  priors: { inv: string; spur: string | null };
  epochs: { loss: number }[];
}

beforeAll(() => {
  const r = invae(['simulate', '--out', sim, '--cells', '120', '--genes', '16', '--batches', '2', '--cell-types', '2', '--diseases', '2', '--seed', '5']);
  expect(r.code, r.stderr).toBe(0);
});

describe('invae train --inv-prior / --spur-prior', () => {
  it('loads a plugin file named relative to the working directory (the repo root) and trains with it', () => {
    const out = path.join(dir, 'example');
    const r = invaeIn(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--inv-prior', './examples/prior-plugin/index.js', '--inv-prior-options', '{"initialLogVariance": -0.5}', '--out', out, ...small]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.priors).toEqual({ inv: 'example-homoscedastic', spur: 'gaussian' });
    expect(s.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')) as { model: { invPrior: unknown } };
    expect(manifest.model.invPrior).toEqual({ name: 'example-homoscedastic', version: '0.1.0', options: { initialLogVariance: -0.5 } });
  });

  it('embed loads a model trained with a plugin once the plugin is named with --plugin', () => {
    const model = path.join(dir, 'example');
    const out = path.join(dir, 'example-embedded.h5ad');
    const without = invaeIn(['embed', model, sim, '--out', out]);
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(/uses the prior 'example-homoscedastic', which is not registered/);
    expect(without.stderr).toMatch(/--plugin/);
    expect(fs.existsSync(out)).toBe(false);
    const withPlugin = invaeIn(['embed', model, sim, '--out', out, '--plugin', './examples/prior-plugin/index.js', '--json']);
    expect(withPlugin.code, withPlugin.stderr).toBe(0);
    expect(JSON.parse(withPlugin.stdout)).toMatchObject({ key: 'X_inVAE', cells: 120, dims: 2 });
  });

  it('--gene-sets trains the gene-program prior, and embed re-scores new data from its counts', () => {
    const gmt = path.join(dir, 'programs.gmt');
    fs.writeFileSync(gmt, 'progA\tsimulated\tgene_000\tgene_001\tgene_002\tgene_003\nprogB\tsimulated\tgene_008\tgene_009\tgene_010\tnot_a_gene\n');
    // score_genes draws control genes from 25 expression bins: it needs more genes than `sim` has.
    const wide = path.join(dir, 'wide.h5ad');
    expect(invae(['simulate', '--out', wide, '--cells', '120', '--genes', '150', '--batches', '2', '--seed', '6']).code).toBe(0);
    const out = path.join(dir, 'programs');
    const r = invaeIn(['train', wide, '--spur', 'batch', '--gene-sets', gmt, '--out', out, ...small]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Summary).priors.inv).toBe('gene-program');
    expect(r.stderr).toMatch(/not_a_gene/); // unmatched genes are reported
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')) as {
      model: { invPrior: { name: string; options: { scorer: { programs: { name: string }[] } } } };
      extra: { covariates: { inv: { encoders: { column: string }[] } } };
    };
    expect(manifest.model.invPrior.options.scorer.programs.map((p) => p.name)).toEqual(['progA', 'progB']);
    expect(manifest.extra.covariates.inv.encoders.map((e) => e.column)).toEqual(['program:progA', 'program:progB']);
    const emb = invaeIn(['embed', out, wide, '--out', path.join(dir, 'programs.h5ad'), '--json']);
    expect(emb.code, emb.stderr).toBe(0);
    expect(JSON.parse(emb.stdout)).toMatchObject({ cells: 120, dims: 2 });
    const bad = invaeIn(['train', wide, '--gene-sets', gmt, '--inv-prior', 'disease', '--out', path.join(dir, 'never'), ...small]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--gene-sets .* cannot be combined with --inv-prior disease/);
  });

  it('takes an absolute plugin path for the spurious prior, from any working directory', () => {
    const r = invaeIn(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--spur-prior', examplePlugin, '--out', path.join(dir, 'spur'), ...small], dir);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Summary).priors).toEqual({ inv: 'gaussian', spur: 'example-homoscedastic' });
  });

  it('encodes the covariates a built-in prior declares, plus --inv keys not already among them (disease)', () => {
    const out = path.join(dir, 'disease');
    const r = invaeIn(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--inv-prior', 'disease', '--inv-prior-options', '{"cellType": "cell_type"}', '--out', out, ...small]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Summary).priors.inv).toBe('disease');
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')) as {
      extra: { covariates: { inv: { encoders: { type: string }[] } } };
    };
    expect(manifest.extra.covariates.inv.encoders.map((e) => e.type)).toEqual(['categorical', 'categorical', 'interaction']);
  });

  it('errors name the plugin and the option', () => {
    const bad = invaeIn(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--inv-prior', './examples/prior-plugin/index.js', '--inv-prior-options', '{"initialLogVariance": "high"}', '--out', path.join(dir, 'x1'), ...small]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("prior 'example-homoscedastic', option 'initialLogVariance'");
    const unknown = invaeIn(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--inv-prior', 'disease', '--inv-prior-options', '{"colour": 1}', '--out', path.join(dir, 'x2'), ...small]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("prior 'disease', option 'colour': unknown option");
    const json = invaeIn(['train', sim, '--inv-prior', 'gaussian', '--inv-prior-options', '{oops', '--out', path.join(dir, 'x3'), ...small]);
    expect(json.code).not.toBe(0);
    expect(json.stderr).toMatch(/--inv-prior-options.*expected a JSON object/);
    const missing = invaeIn(['train', sim, '--inv-prior', './no/such/plugin.js', '--out', path.join(dir, 'x4'), ...small]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--inv-prior: prior plugin file .*no\/such\/plugin\.js does not exist/);
    const pkg = invaeIn(['train', sim, '--inv-prior', 'no-such-invae-prior-package', '--out', path.join(dir, 'x5'), ...small]);
    expect(pkg.code).toBe(1);
    expect(pkg.stderr).toContain("no prior named 'no-such-invae-prior-package' is registered");
    const notPlugin = path.join(dir, 'not-a-plugin.mjs');
    fs.writeFileSync(notPlugin, 'export default { hello: 1 };\n');
    const np = invaeIn(['train', sim, '--inv-prior', notPlugin, '--out', path.join(dir, 'x6'), ...small]);
    expect(np.code).toBe(1);
    expect(np.stderr).toContain('does not export a prior plugin');
    for (const x of ['x1', 'x2', 'x3', 'x4', 'x5', 'x6']) expect(fs.existsSync(path.join(dir, x))).toBe(false);
  });
});
