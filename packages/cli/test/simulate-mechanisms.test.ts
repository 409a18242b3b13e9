import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simulate } from '@invae/core';
import { anndataJudge, invae, python } from './helpers';

// `invae simulate` with the optional mechanisms: treatments/doses and planted gene programs.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-simulate-mech-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const JUDGE = `
a = anndata.read_h5ad(sys.argv[1])
print(json.dumps({
  "obs_columns": list(a.obs.columns),
  "treatment_categories": [str(v) for v in a.obs["treatment"].cat.categories],
  "treatment": [str(v) for v in a.obs["treatment"]],
  "dose": [float(v) for v in a.obs["dose"]],
  "activity_0": [float(v) for v in a.obs["true_activity_program_0"]],
  "obsm": {k: list(np.asarray(v).shape) for k, v in a.obsm.items()},
  "uns_programs": {k: [str(g) for g in v] for k, v in a.uns["simulation"]["programs"].items()},
  "directions": list(np.asarray(a.uns["simulation"]["treatment_directions"]).shape),
}))
`;

describe('invae simulate: treatments and gene programs', () => {
  anndataJudge.it('writes treatment/dose and the true program activities, and the programs as GMT or JSON', () => {
    const out = path.join(dir, 'sim.h5ad');
    const gmt = path.join(dir, 'programs.gmt');
    const args = ['--cells', '200', '--genes', '60', '--batches', '2', '--latent-inv', '3', '--treatments', '2', '--doses', '1,10', '--programs', '2', '--program-size', '5', '--seed', '4'];
    const r = invae(['simulate', '--out', out, ...args, '--programs-out', gmt, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const sim = simulate({ nCells: 200, nGenes: 60, nBatches: 2, latentDimInv: 3, nTreatments: 2, doses: [1, 10], nPrograms: 2, programSize: 5, seed: 4 });
    const got = python<Record<string, any>>(JUDGE, [out]);
    expect(got.obs_columns).toEqual(expect.arrayContaining(['treatment', 'dose', 'true_activity_program_0', 'true_activity_program_1']));
    expect(got.treatment_categories).toEqual(['control', 'treatment_0', 'treatment_1']);
    expect(got.treatment).toEqual(sim.treatment!.labels);
    expect(got.dose).toEqual(sim.treatment!.dose);
    got.activity_0.forEach((v: number, i: number) => expect(v).toBeCloseTo(sim.programs!.activity[i * 2]!, 5));
    expect(got.obsm.X_true_programs).toEqual([200, 2]);
    expect(got.uns_programs).toEqual({ program_0: sim.programs!.genes[0], program_1: sim.programs!.genes[1] });
    expect(got.directions).toEqual([2, 3]);
    expect(fs.readFileSync(gmt, 'utf8')).toBe(sim.programs!.names.map((n, k) => `${n}\tinvae simulate: planted program\t${sim.programs!.genes[k]!.join('\t')}\n`).join(''));
    expect(JSON.parse(r.stdout).programs).toEqual({ program_0: sim.programs!.genes[0], program_1: sim.programs!.genes[1] });

    const json = path.join(dir, 'programs.json');
    expect(invae(['simulate', '--out', path.join(dir, 'sim2.h5ad'), ...args, '--programs-out', json]).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(json, 'utf8'))).toEqual({ program_0: sim.programs!.genes[0], program_1: sim.programs!.genes[1] });
  });

  it('rejects --programs-out without programs and bad doses', () => {
    const a = invae(['simulate', '--out', path.join(dir, 'x.h5ad'), '--programs-out', path.join(dir, 'p.gmt')]);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/--programs-out needs --programs/);
    const b = invae(['simulate', '--out', path.join(dir, 'y.h5ad'), '--treatments', '1', '--doses', '1,abc']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/--doses must be positive numbers, got 'abc'/);
    expect(fs.existsSync(path.join(dir, 'x.h5ad'))).toBe(false);
  });
});
