import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Invae, initEngine } from '@invae/core';
import { readH5ad } from '@invae/io-anndata';
import { registerBuiltinPriors } from '@invae/priors';

// The code samples the docs include (`<<< @/snippets/…`) are real programs: each runs here against the
// built packages, in a scratch folder, and prints what the pages say it prints.
const docsRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const snippets = path.join(docsRoot, 'src', 'snippets');
const cli = path.resolve(docsRoot, '../../packages/cli/bin/invae.js');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'invae-docs-snippets-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(file: string, prepare?: (cwd: string) => void) {
  const cwd = mkdtempSync(path.join(scratch, 'run-'));
  prepare?.(cwd);
  // Plain output: console.log colours objects when FORCE_COLOR is set (Nx sets it).
  const env: NodeJS.ProcessEnv = { ...process.env, INVAE_BACKEND: 'wasm', NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  const r = spawnSync(process.execPath, [path.join(snippets, file)], { cwd, encoding: 'utf8', env, timeout: 170_000 });
  return { ...r, stdout: r.stdout.replace(/\u001b\[[0-9;]*m/g, ''), cwd };
}

describe('docs code samples run as written', () => {
  it('every snippet is included by a page', () => {
    const pages = readdirSync(path.join(docsRoot, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.md'))
      .map((f) => readFileSync(path.join(docsRoot, 'src', f), 'utf8'))
      .join('\n');
    for (const f of readdirSync(snippets)) expect(pages, `${f} is not included by any page`).toContain(`<<< @/snippets/${f}`);
  });

  it('quick-start.mjs trains, embeds, predicts and saves a model', () => {
    const r = run('quick-start.mjs');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^trained 15 epochs, final loss \d+(\.\d+)?$/m);
    expect(r.stdout).toContain('invariant latent: 600 cells × 4 dimensions');
    const acc = Number(/cell-type accuracy on the training cells: ([\d.]+)/.exec(r.stdout)?.[1]);
    expect(acc).toBeGreaterThan(1 / 3); // better than chance with three cell types
    expect(existsSync(path.join(r.cwd, 'invae-model', 'model.json'))).toBe(true);
    expect(existsSync(path.join(r.cwd, 'invae-model', 'weights.safetensors'))).toBe(true);
  });

  it('library.mjs (the README\'s Library section) reads an .h5ad, trains, and writes the latent into obsm of a new .h5ad', async () => {
    // the README shows exactly this file
    const readme = readFileSync(path.resolve(docsRoot, '../../README.md'), 'utf8');
    expect(readme).toContain(`## Library\n\n\`\`\`js\n${readFileSync(path.join(snippets, 'library.mjs'), 'utf8')}\`\`\`\n`);
    const r = run('library.mjs', (cwd) => {
      // a small simulated file to read: 300 cells × 50 genes, obs cell_type and batch
      const sim = spawnSync(process.execPath, [cli, 'simulate', '--out', path.join(cwd, 'cells.h5ad'), '--cells', '300', '--genes', '50', '--batches', '2', '--cell-types', '3', '--seed', '1'], { encoding: 'utf8' });
      expect(sim.status, sim.stderr).toBe(0);
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^10 \d+(\.\d+)?$/m);
    expect(r.stdout).toContain("wrote obsm['X_inVAE'] (300 × 10) to cells-invae.h5ad");
    const out = await readH5ad(path.join(r.cwd, 'cells-invae.h5ad'));
    const z = out.obsm.X_inVAE as { kind: string; shape: number[]; data: Float32Array };
    expect([z.kind, z.shape]).toEqual(['dense', [300, 10]]);
    // the values are the saved model's latent means of the input file
    await initEngine({ backend: 'wasm', report: null });
    registerBuiltinPriors();
    const model = await Invae.load(path.join(r.cwd, 'model'));
    try {
      const again = model.latent(await readH5ad(path.join(r.cwd, 'cells.h5ad')));
      expect(Array.from(z.data)).toEqual(Array.from(again.data));
    } finally {
      model.dispose();
    }
    // the input is kept, with its obs carried over
    expect(out.obs.table.array('cell_type')).toEqual((await readH5ad(path.join(r.cwd, 'cells.h5ad'))).obs.table.array('cell_type'));
  });

  it('prior-plugin-from-code.mjs registers the example plugin, trains, saves and reloads', () => {
    const r = run('prior-plugin-from-code.mjs');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("name: 'example-homoscedastic'");
    expect(r.stdout).toContain('reloaded with prior example-homoscedastic');
    const manifest = JSON.parse(readFileSync(path.join(r.cwd, 'model-example-prior', 'model.json'), 'utf8')) as { model: { invPrior: unknown } };
    expect(manifest.model.invPrior).toEqual({ name: 'example-homoscedastic', version: '0.1.0', options: { initialLogVariance: -1 } });
  });

  it('disease-prior.mjs sets a model up with the covariates the disease prior declares', () => {
    const r = run('disease-prior.mjs');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/categorical: \[ 'cell_type' \]/);
    expect(r.stdout).toMatch(/ordinal: \[ \{ key: 'disease'/);
    expect(r.stdout).toMatch(/interactions: \[ \[ 'cell_type', 'disease' \] \]/);
    expect(r.stdout).toMatch(/^prior: disease \d+\.\d+\.\d+$/m);
  });
});
