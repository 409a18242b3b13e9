import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as aq from 'arquero';
import { afterAll, describe, expect, it } from 'vitest';
import { simulate } from '@invae/core';
import { writeH5ad, type AnnData } from '@invae/io-anndata';
import {
  parseReferenceThreads,
  ratio,
  referenceArgs,
  referenceDir,
  referencePython,
  referenceScript,
  medianOfRounds,
  referenceTable,
  referenceUnavailable,
  runReference,
  sideBySide,
  simulationAnnData,
  type ReferenceRun,
} from '../../../scripts/bench-perf-reference.mjs';
import { judgePython, needsPython, needsReference } from '../../../test-support/index.ts';

// scripts/bench-perf.mjs --reference DIR: the PyTorch reference (theislab/inVAE, a local copy never
// committed) timed by scripts/bench-reference.py on bench-perf's own simulated data, beside invae.
const benchPerf = fileURLToPath(new URL('../../../scripts/bench-perf.mjs', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-bench-perf-reference-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A spawnSync result for the stubs. */
function spawned(r: Partial<SpawnSyncReturns<string>>): typeof spawnSync {
  return (() => ({ pid: 1, output: [], stdout: '', stderr: '', status: 0, signal: null, ...r })) as unknown as typeof spawnSync;
}

/** bench-perf's simulated data at a tiny size, written as bench-perf writes it for the reference. */
async function tinyH5ad(file: string, nCells = 300, nGenes = 50): Promise<void> {
  const sim = simulate({ nCells, nGenes, nBatches: 4, nCellTypes: 6, nDiseases: 2, latentDimInv: 20, latentDimSpur: 5, seed: 0 });
  await writeH5ad(file, simulationAnnData(sim, aq) as AnnData);
}

const run = (model: string, cells: number, threads: number, cellsPerSecond: number): ReferenceRun => ({ implementation: 'reference', model, cells, threads, cellsPerSecond, msPerStep: 1, cpuMsPerStep: 2 });
const entry = (model: string, nCells: number, workersUsed: number, cellsPerSecond: number) => ({ model, nCells, workers: String(workersUsed), workersUsed, cellsPerSecond });

describe('bench-perf reference: options', () => {
  it('--reference-threads: comma-separated counts ≥ 1, duplicates dropped; anything else is a clear error', () => {
    expect(parseReferenceThreads('1')).toEqual([1]);
    expect(parseReferenceThreads('1,2')).toEqual([1, 2]);
    expect(parseReferenceThreads(' 2, 1,2')).toEqual([2, 1]);
    for (const bad of ['0', 'a', '', '1,,2', '1.5', '-1']) expect(() => parseReferenceThreads(bad), bad).toThrow(/--reference-threads expects comma-separated thread counts ≥ 1 \(e\.g\. 1,2\)/);
  });

  it('the reference folder is --reference, else INVAE_REFERENCE_DIR, else not requested', () => {
    expect(referenceDir('/a/ref', { INVAE_REFERENCE_DIR: '/b' })).toBe('/a/ref');
    expect(referenceDir(undefined, { INVAE_REFERENCE_DIR: '/b/ref' })).toBe('/b/ref');
    expect(referenceDir(undefined, { INVAE_REFERENCE_DIR: 'rel' })).toBe(path.resolve('rel'));
    expect(referenceDir(undefined, {})).toBeNull();
    expect(referenceDir(undefined, { INVAE_REFERENCE_DIR: '' })).toBeNull();
  });

  it('the python is INVAE_REFERENCE_PYTHON, else /usr/bin/python3 when it exists, else python3', () => {
    expect(referencePython({ INVAE_REFERENCE_PYTHON: '/opt/py' }, () => true)).toBe('/opt/py');
    expect(referencePython({}, (p) => p === '/usr/bin/python3')).toBe('/usr/bin/python3');
    expect(referencePython({}, () => false)).toBe('python3');
  });

  it("bench-reference.py gets bench-perf's steps, threads, batch size and covariates", () => {
    const a = referenceArgs({ dir: '/r', h5ad: '/d.h5ad', model: 'NFinVAE', warmup: 30, steps: 60, threads: 2 });
    expect(a[0]).toBe(referenceScript);
    expect(a.slice(1)).toEqual(['--reference', '/r', '--h5ad', '/d.h5ad', '--model', 'nfinvae', '--warmup', '30', '--steps', '60', '--threads', '2', '--batch-size', '256', '--inv-keys', 'cell_type,disease', '--spur-keys', 'batch']);
  });
});

describe('bench-perf reference: side by side', () => {
  it('ratio: invae cells/s over the reference’s, 3 decimals; null when either is missing', () => {
    expect(ratio(4344, 5541)).toBe(0.784);
    expect(ratio(6000, 3000)).toBe(2);
    expect(ratio(4344, 0)).toBeNull();
    expect(ratio(undefined, 5541)).toBeNull();
  });

  it('each invae entry is set beside the reference run of the same model and size, with threads = workers used (else the fewest)', () => {
    const training = [entry('FinVAE', 20000, 1, 4000), entry('FinVAE', 20000, 2, 6000), entry('FinVAE', 20000, 3, 6600), entry('NFinVAE', 20000, 1, 3000), entry('FinVAE', 100000, 1, 3900)];
    const before = JSON.stringify(training);
    const runs = [run('FinVAE', 20000, 2, 8000), run('FinVAE', 20000, 1, 5000), run('NFinVAE', 20000, 1, 2000), { implementation: 'reference' as const, model: 'NFinVAE', threads: 2, error: 'torch died' }];
    const out = sideBySide(training, runs);
    expect(JSON.stringify(training)).toBe(before); // the inputs are not modified
    expect(out.map((t) => [t.referenceThreads, t.ratioToReference])).toEqual([
      [1, 0.8], // 1 worker ↔ 1 thread
      [2, 0.75], // 2 workers ↔ 2 threads
      [1, 1.32], // no 3-thread run: the fewest threads
      [1, 1.5], // NFinVAE's failed 2-thread run is left out
      [null, null], // no reference run at 100k cells
    ]);
    expect(out[0]!.ratioToReferenceByThreads).toEqual({ '1': 0.8, '2': 0.5 });
    expect(out[3]!.ratioToReferenceByThreads).toEqual({ '1': 1.5 });
    expect(out[4]!.ratioToReferenceByThreads).toBeNull();
    expect(out[1]).toMatchObject(training[1]!); // everything invae measured is kept
  });

  it('without reference runs every entry says so (null ratios), never a missing field', () => {
    for (const t of sideBySide([entry('FinVAE', 20000, 1, 4000)], [])) expect(t).toMatchObject({ referenceThreads: null, ratioToReference: null, ratioToReferenceByThreads: null });
  });

  it('--rounds: one entry per configuration with the median cells/s, ms/step and CPU ms, every round kept; failures only when no round ran', () => {
    const t = (path: string, cps: number, ms: number, cpu: number) => ({ ...entry('FinVAE', 20000, 1, cps), path, msPerStep: ms, cpuMsPerStep: cpu });
    const runs = [t('fused', 3000, 85, 120), t('engine', 2000, 128, 130), t('fused', 2500, 102, 125), t('engine', 2600, 98, 101), t('fused', 2800, 91, 119), t('engine', 2200, 116, 120)];
    const out = medianOfRounds(runs, (r) => r.path);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ path: 'fused', cellsPerSecond: 2800, msPerStep: 91, cpuMsPerStep: 120, roundsCellsPerSecond: [3000, 2500, 2800] });
    expect(out[1]).toMatchObject({ path: 'engine', cellsPerSecond: 2200, msPerStep: 116, cpuMsPerStep: 120, roundsCellsPerSecond: [2000, 2600, 2200] });
    // an even count takes the lower middle; failed rounds are left out of the medians
    const ref = [run('FinVAE', 20000, 1, 5000), { implementation: 'reference' as const, model: 'FinVAE', threads: 1, error: 'boom' }, run('FinVAE', 20000, 1, 4000)];
    expect(medianOfRounds(ref, (r) => `${r.model}|${r.threads}`)[0]).toMatchObject({ cellsPerSecond: 4000, roundsCellsPerSecond: [5000, 4000] });
    const failed = { implementation: 'reference' as const, model: 'NFinVAE', threads: 1, error: 'boom' };
    expect(medianOfRounds([failed, { ...failed, error: 'again' }], (r) => r.model)).toEqual([failed]);
  });

  it('the stderr table: the reference runs, then invae beside them; or why there is none', () => {
    expect(referenceTable([], 'not requested')).toEqual(['reference: not requested']);
    expect(referenceTable([], { dir: '/r', python: 'p', error: 'reference folder /r not found' })).toEqual(['reference: not run: reference folder /r not found']);
    const runs = [run('FinVAE', 20000, 1, 5000), { implementation: 'reference' as const, model: 'NFinVAE', threads: 1, error: 'boom' }];
    const training = sideBySide([{ ...entry('FinVAE', 20000, 1, 4000), path: 'fused' }, entry('NFinVAE', 20000, 1, 3000)], runs);
    const lines = referenceTable(training, { dir: '/r', python: '/usr/bin/python3', commit: '6264e24701f9', torch: '1.13.0', threads: [1], runs });
    expect(lines[0]).toBe('reference (theislab/inVAE 6264e24, torch 1.13.0, /usr/bin/python3)');
    expect(lines.join('\n')).toMatch(/FinVAE +20000 +1 +5000 +1 +2\n/);
    expect(lines.join('\n')).toMatch(/NFinVAE +1 +failed: boom/);
    expect(lines.join('\n')).toMatch(/FinVAE +20000 +1→1 +fused +4000 +5000 \(1t\) +0\.8\n/);
    expect(lines.at(-1)).toMatch(/NFinVAE +20000 +1→1 +— +3000 +— +—$/); // an entry without a step path
  });
});

describe('bench-perf reference: availability and failures are reported, not thrown', () => {
  it('a missing folder, a python that does not run or lacks torch: one phrase saying what and how to fix', () => {
    expect(referenceUnavailable(path.join(dir, 'nope'), 'python3')).toMatch(/^reference folder .*nope not found \(a checkout of github\.com\/theislab\/inVAE; --reference or INVAE_REFERENCE_DIR\)$/);
    expect(referenceUnavailable(dir, path.join(dir, 'no-python'))).toMatch(/no-python does not run \(ENOENT; set INVAE_REFERENCE_PYTHON\)/);
    const noTorch = spawned({ status: 1, stderr: "Traceback (most recent call last):\n  File \"<string>\", line 1\nModuleNotFoundError: No module named 'torch'\n" });
    expect(referenceUnavailable(dir, '/usr/bin/python3', noTorch)).toBe('/usr/bin/python3 cannot import torch (apt-get install python3-torch, or set INVAE_REFERENCE_PYTHON)');
    expect(referenceUnavailable(dir, '/usr/bin/python3', spawned({ status: 0 }))).toBeNull();
  });

  it("a failed run becomes { model, threads, error } with the script's message; a good one its JSON", () => {
    const opts = { dir: '/r', h5ad: '/d', model: 'FinVAE', warmup: 1, steps: 1, threads: 1 };
    expect(runReference('py', opts, spawned({ status: 2, stderr: 'noise\nbench-reference: /d not found (pass …)\n' }))).toEqual({ implementation: 'reference', model: 'FinVAE', threads: 1, error: 'bench-reference: /d not found (pass …)' });
    expect(runReference('py', opts, spawned({ status: 0, stdout: 'not json\n' })).error).toMatch(/printed no JSON: not json/);
    expect(runReference('py', opts, spawned({ status: 0, stdout: '{"model":"FinVAE","cellsPerSecond":5}\n' }))).toEqual({ model: 'FinVAE', cellsPerSecond: 5 });
  });
});

const py = referencePython();
// The errors come before torch is imported (or stand in for it missing): any python 3 runs these.
const script = (args: string[], prelude = '') =>
  spawnSync(judgePython, ['-c', `import runpy, sys\n${prelude}\nsys.argv = sys.argv[1:]\nrunpy.run_path(sys.argv[0], run_name='__main__')`, referenceScript, ...args], { encoding: 'utf8', timeout: 300_000 });

needsPython().describe('bench-reference.py: clear errors (exit 2, one line, no traceback)', () => {
  it('a missing reference folder, a missing file, missing torch, bad numbers', async () => {
    const h5ad = path.join(dir, 'errors.h5ad');
    fs.writeFileSync(h5ad, 'not hdf5');
    const cases: [string[], RegExp, string?][] = [
      [['--reference', path.join(dir, 'nope'), '--h5ad', h5ad, '--model', 'finvae'], /^bench-reference: reference folder .*nope not found \(pass a checkout of github\.com\/theislab\/inVAE with --reference\)$/],
      [['--reference', dir, '--h5ad', path.join(dir, 'none.h5ad'), '--model', 'finvae'], /^bench-reference: .*none\.h5ad not found \(pass the \.h5ad to train on with --h5ad\)$/],
      [['--reference', dir, '--h5ad', h5ad, '--model', 'finvae'], /^bench-reference: .* cannot import torch \(apt-get install python3-torch, or set INVAE_REFERENCE_PYTHON to a python with torch\)$/, "sys.modules['torch'] = None"],
      [['--reference', dir, '--h5ad', h5ad, '--model', 'finvae', '--steps', '0'], /^bench-reference: --steps must be an integer >= 1, got 0$/],
      [['--reference', dir, '--h5ad', h5ad, '--model', 'vae'], /invalid choice: 'vae'/],
    ];
    for (const [args, message, prelude] of cases) {
      const r = script(args, prelude);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(message);
      expect(r.stderr).not.toMatch(/Traceback/);
    }
  }, 120_000);
});

needsReference().describe('bench-reference.py and bench-perf --reference against the real reference (INVAE_REFERENCE_DIR)', () => {
  const refDir = process.env.INVAE_REFERENCE_DIR!;

  it('times FinVAE and NFinVAE on a tiny simulated file and prints the JSON bench-perf reads', async () => {
    const h5ad = path.join(dir, 'tiny.h5ad');
    await tinyH5ad(h5ad);
    for (const model of ['finvae', 'nfinvae']) {
      const r = spawnSync(py, [referenceScript, '--reference', refDir, '--h5ad', h5ad, '--model', model, '--warmup', '2', '--steps', '3', '--threads', '1'], { encoding: 'utf8', timeout: 300_000 });
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(1); // the reference's own messages go to stderr
      const j = JSON.parse(lines[0]!);
      expect(j).toMatchObject({ implementation: 'reference', model: model === 'finvae' ? 'FinVAE' : 'NFinVAE', cells: 300, genes: 50, threads: 1, torchThreads: 1, batchSize: 256, warmupSteps: 2, timedSteps: 3, stepsPerEpoch: 2 });
      // 300 cells in batches of 256: steps 3–5 are 256 + 44 + 256 rows
      expect(j.timedCells).toBe(556);
      expect(j.cellsPerSecond).toBeGreaterThan(0);
      expect(j.msPerStep).toBeGreaterThan(0);
      expect(j.cpuMsPerStep).toBeGreaterThan(0);
      // cells/s and ms/step describe the same timed steps (ms/step is rounded to 0.1 ms)
      expect(Math.abs(j.cellsPerSecond / (j.timedCells / ((j.msPerStep * 3) / 1000)) - 1)).toBeLessThan(0.02);
      expect(j.torch).toMatch(/^\d+\.\d+/);
      expect(j.referenceCommit === null || /^[0-9a-f]{40}$/.test(j.referenceCommit)).toBe(true);
    }
    // a file that is no .h5ad, and obs without the covariates: clear errors
    const bad = path.join(dir, 'bad.h5ad');
    fs.writeFileSync(bad, 'not hdf5');
    const r1 = spawnSync(py, [referenceScript, '--reference', refDir, '--h5ad', bad, '--model', 'finvae'], { encoding: 'utf8', timeout: 300_000 });
    expect(r1.status).toBe(2);
    expect(r1.stderr.trim()).toMatch(/^bench-reference: .*bad\.h5ad is not a readable \.h5ad: /);
    const r2 = spawnSync(py, [referenceScript, '--reference', refDir, '--h5ad', h5ad, '--model', 'finvae', '--inv-keys', 'cell_state'], { encoding: 'utf8', timeout: 300_000 });
    expect(r2.status).toBe(2);
    expect(r2.stderr.trim().split('\n').at(-1)).toBe(`bench-reference: ${h5ad}: obs has no column cell_state (obs columns: batch, cell_type, disease); set --inv-keys/--spur-keys`);
  }, 600_000);

  it('bench-perf --reference reports the reference runs beside invae (ratioToReference) and removes its temporary file', () => {
    const before = new Set(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('invae-bench-perf-reference-')));
    const r = perf(['--reference', refDir, '--reference-threads', '1']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.reference).toMatchObject({ dir: path.resolve(refDir), python: py, threads: [1] });
    expect(j.reference.runs).toHaveLength(1);
    expect(j.reference.runs[0]).toMatchObject({ model: 'FinVAE', cells: 300, genes: 30, threads: 1, warmupSteps: 1, timedSteps: 2 });
    const t = j.training[0];
    expect(t.referenceThreads).toBe(1);
    expect(t.ratioToReference).toBe(ratio(t.cellsPerSecond, j.reference.runs[0].cellsPerSecond));
    expect(r.stderr).toMatch(/invae beside the reference/);
    const after = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('invae-bench-perf-reference-') && !before.has(f));
    expect(after).toEqual([]);
  }, 600_000);
});

/** bench-perf at a tiny size (FinVAE, 1 worker, 1 warm-up + 2 timed steps, no metrics). */
function perf(args: string[], env: Record<string, string> = {}) {
  const base = ['--skip-metrics', '--sizes', '300', '--genes', '30', '--models', 'finvae', '--workers', '1', '--warmup', '1', '--steps', '2', '--embed-cells', '300'];
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'INVAE_REFERENCE_DIR'));
  return spawnSync(process.execPath, [benchPerf, ...base, ...args], { encoding: 'utf8', env: { ...clean, INVAE_BACKEND: '', ...env }, timeout: 300_000 });
}

describe('bench-perf without a usable reference says why, in the JSON and the table', () => {
  it('not requested: "reference": "not requested", null ratios', () => {
    const r = perf([]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.reference).toBe('not requested');
    expect(j.training[0]).toMatchObject({ model: 'FinVAE', nCells: 300, referenceThreads: null, ratioToReference: null, ratioToReferenceByThreads: null });
    expect(r.stderr).toMatch(/\nreference: not requested\n/);
  }, 300_000);

  it('a missing folder (from INVAE_REFERENCE_DIR): the reason, and invae is still measured', () => {
    const missing = path.join(dir, 'no-reference');
    const r = perf([], { INVAE_REFERENCE_DIR: missing });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.reference).toEqual({ dir: missing, python: py, error: `reference folder ${missing} not found (a checkout of github.com/theislab/inVAE; --reference or INVAE_REFERENCE_DIR)` });
    expect(j.training[0].cellsPerSecond).toBeGreaterThan(0);
    expect(j.training[0].ratioToReference).toBeNull();
    expect(r.stderr).toContain(`reference: not run: reference folder ${missing} not found`);
  }, 300_000);

  it('a bad --reference-threads is a usage error before anything runs', () => {
    const r = perf(['--reference-threads', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("bench:perf: --reference-threads expects comma-separated thread counts ≥ 1 (e.g. 1,2), got '0'");
    expect(r.stdout).toBe('');
  });
});
