import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Invae, Rng, denseMatrix, denseToCsr, initEngine, poisson, priorCovariates, simulate, type InvaeDataset } from '@invae/core';
import {
  GeneProgramError,
  GeneProgramScorer,
  GeneSetFormatError,
  geneProgramPlugin,
  parseGmt,
  readGeneSets,
  registerBuiltinPriors,
  type GeneProgramScorerState,
} from '../src/index';
import { judgePython, needsPython } from '../../../test-support/index';

/** Debian's Python with numpy + pandas: an independent judge of the score_genes algorithm. */
const PYTHON = judgePython;
const tmp = mkdtempSync(path.join(tmpdir(), 'invae-programs-'));
const quiet = { warn: () => {} };

beforeAll(async () => {
  await initEngine({ backend: 'wasm', report: null });
  registerBuiltinPriors();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function randomCounts(nCells: number, nGenes: number, seed: number) {
  const rng = new Rng(seed);
  const rates = Array.from({ length: nGenes }, (_, g) => 0.05 + (g % 13) * 0.6 + rng.uniform());
  const data = new Float32Array(nCells * nGenes);
  for (let c = 0; c < nCells; c++) for (let g = 0; g < nGenes; g++) data[c * nGenes + g] = poisson(rng, rates[g]! * (0.5 + rng.uniform()));
  for (let c = 0; c < nCells; c++) data[c * nGenes + (c % nGenes)]! += 1; // no empty cell
  return { counts: denseMatrix(nCells, nGenes, data), geneNames: Array.from({ length: nGenes }, (_, g) => `G${g}`) };
}

describe('gene sets', () => {
  it('parses GMT (name, description, genes) and reports the line of a bad entry', () => {
    expect(parseGmt('P1\tdesc\tA\tB\tA\n\n# comment\nP2\t\tC\n')).toEqual({ P1: ['A', 'B'], P2: ['C'] });
    try {
      parseGmt('P1\td\tA\nP2 desc A B\n', 'sets.gmt');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(GeneSetFormatError);
      expect((e as GeneSetFormatError).line).toBe(2);
      expect((e as Error).message).toContain('sets.gmt:2');
    }
    expect(() => parseGmt('P1\td\tA\nP1\td\tB\n')).toThrow(/defined twice/);
  });

  it('reads .gmt and .json files', async () => {
    writeFileSync(path.join(tmp, 'a.gmt'), 'IFN\tinterferon\tISG15\tMX1\n');
    writeFileSync(path.join(tmp, 'a.json'), JSON.stringify({ IFN: ['ISG15', 'MX1'] }));
    writeFileSync(path.join(tmp, 'bad.json'), JSON.stringify({ IFN: 'ISG15' }));
    expect(await readGeneSets(path.join(tmp, 'a.gmt'))).toEqual({ IFN: ['ISG15', 'MX1'] });
    expect(await readGeneSets(path.join(tmp, 'a.json'))).toEqual({ IFN: ['ISG15', 'MX1'] });
    await expect(readGeneSets(path.join(tmp, 'bad.json'))).rejects.toThrow(/'IFN' must be an array/);
  });
});

describe('GeneProgramScorer (scanpy score_genes)', () => {
  const data = randomCounts(60, 40, 11);
  const sets = { P1: ['G1', 'G5', 'G14', 'G27', 'G33', 'NOT_A_GENE', 'ALSO_MISSING'], P2: ['G2', 'G3', 'G20'] };

  needsPython('numpy', 'pandas').it('matches an independent numpy/pandas implementation (all bin genes as controls)', () => {
    const warnings: string[] = [];
    const scorer = GeneProgramScorer.fit(data, sets, { nBins: 5, ctrlSize: 100, warn: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(/'P1': 2 of 7 genes are not among the var names.*NOT_A_GENE/);
    expect(scorer.programs[0]!.unmatched).toEqual(['NOT_A_GENE', 'ALSO_MISSING']);
    const scores = scorer.scores(data);
    const script = `
import json, sys
import numpy as np, pandas as pd
d = json.load(open(sys.argv[1]))
X = np.array(d['x'], dtype=np.float64).reshape(d['n'], d['g'])
X = np.log1p(X / X.sum(1, keepdims=True) * 1e4)
names = d['names']
avg = pd.Series(X.mean(0), index=names)
n_items = int(np.round(len(avg) / (d['bins'] - 1)))
cut = avg.rank(method='min') // n_items
out = {}
for p, genes in d['sets'].items():
    genes = [g for g in genes if g in names]
    ctrl = set()
    for c in np.unique(cut.loc[genes]):
        ctrl |= set(cut[(cut == c) & ~cut.index.isin(genes)].index)
    ctrl = sorted(ctrl, key=names.index)
    idx = lambda gs: [names.index(g) for g in gs]
    out[p] = {'controls': ctrl, 'score': (X[:, idx(genes)].mean(1) - X[:, idx(ctrl)].mean(1)).tolist()}
print(json.dumps(out))
`;
    const input = path.join(tmp, 'judge.json');
    writeFileSync(input, JSON.stringify({ x: Array.from(data.counts.data), n: 60, g: 40, names: data.geneNames, bins: 5, sets }));
    const r = spawnSync(PYTHON, ['-c', script, input], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const judge = JSON.parse(r.stdout) as Record<string, { controls: string[]; score: number[] }>;
    for (const [i, p] of ['P1', 'P2'].entries()) {
      expect(scorer.programs[i]!.controls).toEqual(judge[p]!.controls);
      const mine = scores[`program:${p}`]!;
      judge[p]!.score.forEach((s, c) => expect(mine[c]!).toBeCloseTo(s, 5));
    }
  });

  it('draws at most ctrlSize controls per bin, from the bins of the program genes, reproducibly', () => {
    const a = GeneProgramScorer.fit(data, sets, { nBins: 5, ctrlSize: 2, seed: 1, warn: () => {} });
    const all = GeneProgramScorer.fit(data, sets, { nBins: 5, ctrlSize: 100, warn: () => {} });
    for (let p = 0; p < 2; p++) {
      const ctrl = a.programs[p]!.controls;
      expect(ctrl.every((g) => all.programs[p]!.controls.includes(g))).toBe(true);
      expect(ctrl.length).toBeLessThanOrEqual(2 * a.programs[p]!.genes.length);
      expect(ctrl.some((g) => a.programs[p]!.genes.includes(g))).toBe(false);
    }
    expect(GeneProgramScorer.fit(data, sets, { nBins: 5, ctrlSize: 2, seed: 1, warn: () => {} }).toJSON()).toEqual(a.toJSON());
  });

  it('scores CSR like dense, round-trips through JSON, and names missing genes', () => {
    const s = GeneProgramScorer.fit(data, sets, { nBins: 5, ctrlSize: 3, warn: () => {} });
    const csr = { ...data, counts: denseToCsr(data.counts) };
    const back = GeneProgramScorer.fromJSON(JSON.parse(JSON.stringify(s.toJSON())) as GeneProgramScorerState);
    expect(Array.from(back.scores(csr)['program:P2']!)).toEqual(Array.from(s.scores(data)['program:P2']!));
    const fewer = { counts: denseMatrix(1, 2, new Float32Array([1, 2])), geneNames: ['G1', 'G5'] };
    expect(() => s.scores(fewer)).toThrow(GeneProgramError);
    expect(() => s.scores(fewer)).toThrow(/gene program 'P1'.*missing from the data/);
    expect(() => GeneProgramScorer.fit(data, { none: ['X1', 'X2'] })).toThrow(/'none': none of its 2 genes/);
    expect(() => GeneProgramScorer.fromJSON({ format: 'x' } as unknown as GeneProgramScorerState)).toThrow(GeneProgramError);
  });
});

describe('gene-program prior plugin', () => {
  it('declares the score columns and conditions the invariant prior on them inside Invae', async () => {
    const sim = simulate({ nCells: 200, nGenes: 30, nBatches: 2, nCellTypes: 2, nDiseases: 1, latentDimInv: 2, latentDimSpur: 1, seed: 9 });
    const data: InvaeDataset = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
    const g = sim.geneNames;
    const scorer = GeneProgramScorer.fit(data, { early: [g[0]!, g[1]!, g[2]!], late: [g[10]!, g[11]!, 'UNKNOWN'] }, { nBins: 6, warn: () => {} });
    const invPrior = { name: 'gene-program', options: { scorer: scorer.toJSON() } };
    expect(priorCovariates(invPrior, 'inv')).toEqual({ continuous: ['program:early', 'program:late'] });
    expect(() => geneProgramPlugin.covariates!({}, 'inv')).toThrow(/prior 'gene-program', option 'scorer': is required/);
    const train = scorer.withScores(data);
    expect(Object.keys(data.obs)).not.toContain('program:early'); // input untouched
    const w = Invae.setup(train, { invariant: priorCovariates(invPrior, 'inv')!, spurious: { categorical: ['batch'] }, invPrior, options: { latentDimInv: 2, latentDimSpur: 1, hiddenDim: 8, seed: 3 } }, quiet);
    expect(w.model.config.invCovarDim).toBe(2);
    const h = await w.train(train, { epochs: 2, batchSize: 100 });
    expect(h.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
    const dir = path.join(tmp, 'model');
    await w.save(dir);
    const back = await Invae.load(dir, quiet);
    const rebuilt = GeneProgramScorer.fromJSON(back.spec.invPrior.options.scorer as GeneProgramScorerState);
    const again = rebuilt.withScores(data);
    expect(Array.from(back.latent(again).data)).toEqual(Array.from(w.latent(train).data));
    back.dispose();
    w.dispose();
  });
});
