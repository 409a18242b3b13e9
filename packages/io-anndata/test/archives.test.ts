/**
 * anndata's own archive files (scverse/anndata tests/data/archives/<version>/adata.h5ad), read as Python anndata
 * reads them, element by element. The archives are not in this repository: set INVAE_ANNDATA_ARCHIVES to the
 * folder holding `<version>/adata.h5ad` (e.g. a checkout's tests/data/archives); without it the suite is skipped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readH5ad } from '../src/index';
import { expectSameAsPython } from './py-compare';
import { anndataJudge } from './helpers';

const dir = process.env.INVAE_ANNDATA_ARCHIVES ? path.resolve(process.env.INVAE_ANNDATA_ARCHIVES) : '';
const VERSIONS = ['v0.5.0', 'v0.7.0', 'v0.7.8', 'v0.11.4'];

describe.skipIf(!dir)('anndata archive files (INVAE_ANNDATA_ARCHIVES not set: skipped)', () => {
  for (const v of VERSIONS) {
    anndataJudge.it(`${v}: every element equals what Python anndata 0.8 reads`, async () => {
      const file = path.join(dir, v, 'adata.h5ad');
      expect(fs.existsSync(file), `${file} is missing`).toBe(true);
      const warnings: string[] = [];
      const a = await readH5ad(file, { onWarning: (w) => warnings.push(`${w.element}: ${w.message}`) });
      expect(warnings).toEqual([]);
      expectSameAsPython(file, a, v);
    });
  }
});
