import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bin } from './helpers';
import { diseaseEffect, geneProgramEffect, treatmentEffect } from '../scripts/prior-effects.mjs';

// Each built-in domain prior end to end through the CLI (invae simulate → train → embed) on
// simulated data that has the prior's mechanism, asserting the effect issue 5 states. The
// experiments live in scripts/prior-effects.mjs, which prints the same numbers as JSON.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-prior-effects-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('built-in domain priors: effects, end to end from the CLI', () => {
  it('disease: disease states stay separated in the invariant latent while batch is removed from it', async () => {
    const r = await diseaseEffect({ dir: path.join(dir, 'disease'), bin });
    console.log(`disease prior: ${JSON.stringify(r)}`);
    // cell type × disease states: kNN on the invariant latent, far above chance (1/6)
    expect(r.stateFromInv).toBeGreaterThan(3 * r.stateChance);
    expect(r.diseaseFromInv).toBeGreaterThan(r.diseaseChance + 0.25);
    // batch: near chance from the invariant latent, far below what the spurious latent gives
    expect(r.batchFromInv).toBeLessThan(r.batchChance + 0.2);
    expect(r.batchFromSpur).toBeGreaterThan(r.batchFromInv + 0.2);
    expect(r.batchR2FromInv).toBeLessThan(0.15);
    expect(r.batchR2FromSpur).toBeGreaterThan(0.4);
  }, 300_000);

  it('treatment: a held-out dose embeds between its neighbouring doses', async () => {
    const r = await treatmentEffect({ dir: path.join(dir, 'treatment'), bin });
    console.log(`treatment prior: ${JSON.stringify(r)}`);
    expect(r.heldOutCells).toBeGreaterThan(100);
    // position along dose 1 → dose 10 (0 = dose 1's mean latent, 1 = dose 10's)
    expect(r.heldOutPosition).toBeGreaterThan(0.1);
    expect(r.heldOutPosition).toBeLessThan(0.9);
    // the training doses are ordered along the same direction
    const p = r.trainDosePositions;
    expect(p['0.1']).toBeLessThan(p['1']!);
    expect(p['10']).toBeLessThan(p['100']!);
  }, 300_000);

  it('gene-program: each dedicated dimension correlates with its planted program (|Pearson| ≥ 0.8)', async () => {
    const r = await geneProgramEffect({ dir: path.join(dir, 'programs'), bin });
    console.log(`gene-program prior: ${JSON.stringify(r)}`);
    expect(r.decoderPaths).toEqual({ names: r.programs, genesPerDim: [10, 10, 10] });
    expect(Object.keys(r.dedicatedCorrelation)).toEqual(r.programs);
    for (const c of Object.values(r.dedicatedCorrelation)) expect(c).toBeGreaterThanOrEqual(0.8);
  }, 300_000);
});
