/**
 * Compatibility test over every *.h5ad in the fixture folders (INVAE_H5AD_FIXTURES, a path-delimiter separated
 * list; default ../shared/anndata-fixtures and ../shared/data beside the repo). Each file is compared with its
 * sidecar *.expected.json. Missing folders fail loudly unless INVAE_ALLOW_MISSING_SHARED=1.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readH5ad } from '../src/index';
import { compareWithExpected, type Expected } from './fixture-compat';
import { repoRoot } from './helpers';

const dirs = process.env.INVAE_H5AD_FIXTURES
  ? process.env.INVAE_H5AD_FIXTURES.split(path.delimiter).filter(Boolean).map((d) => path.resolve(repoRoot, d))
  : [path.resolve(repoRoot, '../shared/anndata-fixtures'), path.resolve(repoRoot, '../shared/data')];
const allowMissing = process.env.INVAE_ALLOW_MISSING_SHARED === '1';

const files: string[] = [];
const missing: string[] = [];
for (const d of dirs) {
  if (!fs.existsSync(d)) missing.push(d);
  else for (const f of fs.readdirSync(d).sort()) if (f.endsWith('.h5ad')) files.push(path.join(d, f));
}

describe('h5ad fixture compatibility', () => {
  it('finds the fixture folders and files', () => {
    if (!allowMissing) expect(missing, 'fixture folders missing (set INVAE_ALLOW_MISSING_SHARED=1 to allow)').toEqual([]);
    expect(files.length + (allowMissing ? 1 : 0)).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(`reads ${path.basename(file)} as Python anndata does`, async () => {
      const sidecar = file.replace(/\.h5ad$/, '.expected.json');
      expect(fs.existsSync(sidecar), `sidecar ${sidecar}`).toBe(true);
      const expected = JSON.parse(fs.readFileSync(sidecar, 'utf8')) as Expected;
      const warnings: string[] = [];
      const a = await readH5ad(file, { onWarning: (w) => warnings.push(`${w.element}: ${w.message}`) });
      compareWithExpected(a, expected);
    });
  }
});
