import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invae, python } from './helpers';

// scripts/bench-peers.mjs: Seurat v4 CCA (Rscript) as obsm['X_seurat'] of a copy, scored by `invae bench`.
const script = fileURLToPath(new URL('../../../scripts/bench-peers.mjs', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-peers-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sim = path.join(dir, 'sim.h5ad');

beforeAll(() => {
  const r = invae(['simulate', '--out', sim, '--cells', '300', '--genes', '150', '--batches', '2', '--cell-types', '3', '--seed', '5']);
  expect(r.code, r.stderr).toBe(0);
});

function peers(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', env: { ...process.env, INVAE_BACKEND: '', ...env }, timeout: 900_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const seuratLoads = spawnSync('Rscript', ['-e', 'suppressPackageStartupMessages(library(Seurat))'], { timeout: 300_000 }).status === 0;

describe('bench-peers script', () => {
  it('clear errors: missing options, R/Seurat not available (no install asked), no stack traces', () => {
    const usage = peers(['--batch', 'batch']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/--file is required/);
    expect(usage.stderr).toMatch(/hint: usage: npm run bench:peers/);
    // No Rscript on PATH: the check fails with a clear message and nothing is written.
    const out = path.join(dir, 'no-r');
    const noR = peers(['--file', sim, '--batch', 'batch', '--label', 'cell_type', '--out', out, '--no-install'], { PATH: path.join(dir, 'empty-bin') });
    expect(noR.code).toBe(1);
    expect(noR.stderr).toMatch(/R's Seurat is not available \(Rscript is not installed\)/);
    expect(noR.stderr).toMatch(/hint: install it \(apt-get install r-cran-seurat\)/);
    expect(noR.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(out, 'peers.h5ad'))).toBe(false);
  });

  it('Seurat CCA lands in obsm X_seurat of a copy and is scored next to PCA by the same metrics (needs R + Seurat)', (ctx) => {
    if (!seuratLoads) {
      console.warn('bench-peers end-to-end skipped: Rscript with Seurat is not installed (apt-get install r-cran-seurat).');
      ctx.skip();
      return;
    }
    const before = createHash('sha256').update(fs.readFileSync(sim)).digest('hex');
    const out = path.join(dir, 'run');
    const r = peers(['--file', sim, '--batch', 'batch', '--label', 'cell_type', '--out', out, '--methods', 'pca', '--n-pcs', '10', '--n-features', '100']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { cells: number; seurat: { version: string }; methods: Record<string, { mean: { batch: number; bio: number; total: number } }> };
    expect(s.cells).toBe(300);
    expect(s.seurat.version).toMatch(/^\d+\.\d+/);
    expect(Object.keys(s.methods).sort()).toEqual(['PCA', 'Seurat v4 CCA']);
    for (const m of Object.values(s.methods)) {
      for (const v of Object.values(m.mean)) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
    expect(JSON.parse(fs.readFileSync(path.join(out, 'peers.json'), 'utf8'))).toEqual(s);
    const j = python<{ shape: number[]; finite: boolean; same: boolean }>(
      `a = anndata.read_h5ad(sys.argv[1]); b = anndata.read_h5ad(sys.argv[2]); e = a.obsm["X_seurat"]
print(json.dumps({"shape": list(e.shape), "finite": bool(np.isfinite(e).all()), "same": bool((a.X != b.X).nnz == 0 and list(a.obs_names) == list(b.obs_names))}))`,
      [path.join(out, 'peers.h5ad'), sim],
    );
    expect(j).toEqual({ shape: [300, 10], finite: true, same: true });
    // The input is never modified.
    expect(createHash('sha256').update(fs.readFileSync(sim)).digest('hex')).toBe(before);
  }, 900_000);
});
