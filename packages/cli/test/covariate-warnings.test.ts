import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invae, python } from './helpers';

// Suspicious covariates warn in one stderr line each; the run continues.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-covariates-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sim = path.join(dir, 'sim.h5ad');
const withAge = path.join(dir, 'age.h5ad');
const small = ['--epochs', '1', '--hidden', '8', '--latent-inv', '2', '--latent-spur', '1', '--quiet'];

beforeAll(() => {
  expect(invae(['simulate', '--out', sim, '--cells', '150', '--genes', '20', '--batches', '2', '--seed', '4']).code).toBe(0);
  // A numeric obs column with one value per cell (e.g. age in days, or a cell index) and a numeric batch id with 3 values.
  python(
    `
a = anndata.read_h5ad(sys.argv[1])
a.obs["age"] = np.arange(a.n_obs, dtype=np.float64) * 0.5 + 20
a.obs["batch_id"] = np.arange(a.n_obs) % 3
a.write_h5ad(sys.argv[2])
print("{}")
`,
    [sim, withAge],
  );
});

describe('covariate warnings', () => {
  it('train warns once for a key in both --inv and --spur, and for a numeric column of 150 values passed as categories', () => {
    const r = invae(['train', withAge, '--inv', 'cell_type,batch', '--spur', 'batch,age', '--out', path.join(dir, 'm1'), ...small]);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('invae: warning:'));
    expect(warnings).toEqual([
      "invae: warning: 'batch' is both an invariant (--inv) and a spurious (--spur) covariate; both latent blocks then condition on it, so it cannot separate them.",
      "invae: warning: --spur 'age' is numeric with 150 distinct values in 150 cells but is used as categories (one per value); pass it with --spur-cont if it is a continuous covariate.",
    ]);
  }, 120_000);

  it('a numeric column with few values (a batch id) and a continuous key passed as continuous do not warn', () => {
    const r = invae(['train', withAge, '--inv', 'cell_type', '--inv-cont', 'age', '--spur', 'batch_id', '--out', path.join(dir, 'm2'), ...small]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('warning');
  }, 120_000);

  it('--inv with a continuous-looking column suggests --inv-cont', () => {
    const r = invae(['train', withAge, '--inv', 'age', '--spur', 'batch', '--out', path.join(dir, 'm3'), ...small]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("invae: warning: --inv 'age' is numeric with 150 distinct values in 150 cells but is used as categories (one per value); pass it with --inv-cont if it is a continuous covariate.");
  }, 120_000);

  it('bench --batch on a continuous-looking column warns and runs', () => {
    const r = invae(['bench', withAge, '--batch', 'age', '--label', 'cell_type', '--methods', 'pca', '--no-umap', '--no-lobo', '--quiet', '--out', path.join(dir, 'b')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("invae: warning: --batch 'age' is numeric with 150 distinct values in 150 cells but is used as categories (one per value); bench scores every distinct value as a batch, so check that --batch names the batch column.");
  }, 180_000);
});
