// The gates and their summary line, end to end: a child vitest runs fixtures/gated.fixture.ts with the shared
// folder and the judge python present, missing, and missing under INVAE_REQUIRE_SHARED=1.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scratchDirs } from './scratch';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const tmp = scratchDirs('invae-gates').root;
const shared = path.join(tmp, 'shared');
fs.mkdirSync(path.join(shared, 'data'), { recursive: true });
fs.writeFileSync(path.join(shared, 'data/present.txt'), 'x');
const absent = path.join(tmp, 'no-shared');
// A stand-in judge that says every module is installed (the probe prints one flag per module).
const fakePython = path.join(tmp, 'python3');
fs.writeFileSync(fakePython, '#!/bin/sh\necho 1 1 1 1 1 1 1 1\n', { mode: 0o755 });
const noPython = path.join(tmp, 'no-python3');

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INVAE_') && !k.startsWith('VITEST')));
  return { ...clean, FORCE_COLOR: '0', NO_COLOR: '1', ...extra };
}

function run(extra: Record<string, string>) {
  const report = path.join(tmp, `report-${Object.keys(extra).length}-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'vitest.config.ts'], {
    cwd: path.join(here, 'fixtures'),
    env: env({ FIXTURE_REPORT: report, ...extra }),
    encoding: 'utf8',
    timeout: 120_000,
  });
  const j = JSON.parse(fs.readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number };
  return { code: r.status, out: `${r.stdout}${r.stderr}`, passed: j.numPassedTests, failed: j.numFailedTests, skipped: j.numPendingTests };
}

describe('test-support gates', () => {
  it('run every gated test when the shared folder and the judge are there (the opt-in reference one aside)', () => {
    const r = run({ INVAE_SHARED: shared, INVAE_JUDGE_PYTHON: fakePython });
    // the opt-in reference test (no INVAE_REFERENCE_DIR here) is the one skip
    expect({ code: r.code, passed: r.passed, failed: r.failed, skipped: r.skipped }, r.out).toEqual({ code: 0, passed: 5, failed: 0, skipped: 1 });
    expect(r.out.split('\n').filter((l) => l.startsWith('fixture: '))).toEqual(['fixture: 1 test skipped: INVAE_REFERENCE_DIR is not set (a local checkout of github.com/theislab/inVAE) (opt-in)']);
  });

  it('report the gated tests as skipped, with one summary line saying how many and why', () => {
    const r = run({ INVAE_SHARED: absent, INVAE_JUDGE_PYTHON: noPython });
    expect({ code: r.code, passed: r.passed, failed: r.failed, skipped: r.skipped }, r.out).toEqual({ code: 0, passed: 1, failed: 0, skipped: 5 });
    const lines = r.out.split('\n').filter((l) => l.startsWith('fixture: '));
    expect(lines).toEqual([
      `fixture: 5 tests skipped: ../shared not found (${absent}; set INVAE_SHARED) [3 tests]; ${noPython} does not run (install python3 or set INVAE_JUDGE_PYTHON) [1 test]; INVAE_REFERENCE_DIR is not set (a local checkout of github.com/theislab/inVAE) [1 test] — INVAE_REQUIRE_SHARED=1 makes 4 of them fail`,
    ]);
  });

  it('fail them instead under INVAE_REQUIRE_SHARED=1, saying what is missing', () => {
    const r = run({ INVAE_SHARED: absent, INVAE_JUDGE_PYTHON: noPython, INVAE_REQUIRE_SHARED: '1' });
    // the opt-in reference test stays skipped without INVAE_REFERENCE_DIR
    expect({ code: r.code, passed: r.passed, failed: r.failed, skipped: r.skipped }, r.out).toEqual({ code: 1, passed: 1, failed: 3, skipped: 1 });
    expect(r.out).toContain(`MissingTestInputError: INVAE_REQUIRE_SHARED=1 makes this test mandatory, but ../shared not found (${absent}; set INVAE_SHARED)`);
    expect(r.out).toContain(`MissingTestInputError: INVAE_REQUIRE_SHARED=1 makes this test mandatory, but ${noPython} does not run`);
  });

  it('the opt-in reference gate is mandatory under INVAE_REQUIRE_SHARED=1 once INVAE_REFERENCE_DIR names a folder', () => {
    const missing = path.join(absent, 'inVAE');
    const r = run({ INVAE_SHARED: shared, INVAE_JUDGE_PYTHON: fakePython, INVAE_REFERENCE_DIR: missing, INVAE_REQUIRE_SHARED: '1' });
    expect({ code: r.code, passed: r.passed, failed: r.failed, skipped: r.skipped }, r.out).toEqual({ code: 1, passed: 5, failed: 1, skipped: 0 });
    expect(r.out).toContain(`MissingTestInputError: INVAE_REQUIRE_SHARED=1 makes this test mandatory, but reference folder ${missing} not found`);
  });

  it("give Nx a runtime input that differs between a clone with ../shared and one without", () => {
    const hash = (extra: Record<string, string>) =>
      spawnSync(process.execPath, [path.join(root, 'scripts/test-env-hash.mjs')], { env: env(extra), encoding: 'utf8' }).stdout.trim();
    const withShared = hash({ INVAE_SHARED: shared, INVAE_JUDGE_PYTHON: fakePython });
    const without = hash({ INVAE_SHARED: absent, INVAE_JUDGE_PYTHON: fakePython });
    expect(withShared).toMatch(/^shared=1 .*python=1 modules=numpy,/);
    expect(without).toMatch(/^shared=0 /);
    expect(hash({ INVAE_SHARED: shared, INVAE_JUDGE_PYTHON: noPython })).toMatch(/python=0 modules=$/);
  });

  it('give Nx a runtime input that differs between a machine with snakemake and one without (the workflow test)', () => {
    const hash = (extra: Record<string, string>) =>
      spawnSync(process.execPath, [path.join(root, 'scripts/test-env-hash.mjs')], { env: env(extra), encoding: 'utf8' }).stdout.trim();
    expect(hash({ INVAE_SNAKEMAKE: path.join(absent, 'snakemake') })).toMatch(/ snakemake=0 /);
    expect(hash({ INVAE_SNAKEMAKE: process.execPath })).toMatch(new RegExp(` snakemake=${process.version.replace(/\./g, '\\.')} `));
  });
});
