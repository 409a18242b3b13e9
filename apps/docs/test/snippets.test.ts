import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The code samples the docs include (`<<< @/snippets/…`) are real programs: each runs here against the
// built packages, in a scratch folder, and prints what the pages say it prints.
const docsRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const snippets = path.join(docsRoot, 'src', 'snippets');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'invae-docs-snippets-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(file: string) {
  const cwd = mkdtempSync(path.join(scratch, 'run-'));
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
