/**
 * Compatibility test over every *.h5ad in the fixture folders (INVAE_H5AD_FIXTURES, a path-delimiter separated
 * list; default ../shared/anndata-fixtures and ../shared/data beside the repo). Each file is compared with its
 * sidecar *.expected.json. Missing folders skip the test (fail it under INVAE_REQUIRE_SHARED=1; test-support/).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { readH5ad } from '../src/index';
import { compareWithExpected, type Expected } from './fixture-compat';
import { repoRoot } from './helpers';
import { needsPaths, needsShared, sharedPath } from '../../../test-support/index';

const fromEnv = process.env.INVAE_H5AD_FIXTURES;
const dirs = fromEnv
  ? fromEnv.split(path.delimiter).filter(Boolean).map((d) => path.resolve(repoRoot, d))
  : [sharedPath('anndata-fixtures'), sharedPath('data')];
const fixtures = fromEnv ? needsPaths('INVAE_H5AD_FIXTURES', ...dirs) : needsShared('anndata-fixtures', 'data');

const files: string[] = [];
if (fixtures.ok) for (const d of dirs) for (const f of fs.readdirSync(d).sort()) if (f.endsWith('.h5ad')) files.push(path.join(d, f));

fixtures.describe('h5ad fixture compatibility', () => {
  it('finds the fixture folders and files', () => {
    expect(files.length, `no .h5ad files in ${dirs.join(', ')}`).toBeGreaterThan(0);
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
