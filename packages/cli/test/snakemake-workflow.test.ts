import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { needsSnakemake, snakemakeCommand } from '../../../test-support/index';
import { bin, invae } from './helpers';

// The Snakemake workflow of the repository (workflows/benchmark) on its example config (2 simulated
// data sets × PCA and FinVAE × 2 seeds): `snakemake --cores 2` runs every `invae bench run-job`
// shard and the merge; the merged results equal single-process `invae bench --seeds` runs, and a
// rerun does nothing.
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const snakefile = path.join(repo, 'workflows/benchmark/Snakefile');
const example = path.join(repo, 'workflows/benchmark/config.example.yaml');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-snakemake-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const REPORT = ['results.csv', 'results.json', 'results.md', 'results.svg'];
const DATASETS = { sim1: ['--cells', '120', '--genes', '30', '--cell-types', '3', '--seed', '1'], sim2: ['--cells', '100', '--genes', '25', '--cell-types', '2', '--seed', '2'] };

const snakemake = () =>
  spawnSync(snakemakeCommand, ['-s', snakefile, '-d', dir, '--cores', '2', '--config', 'bench=config.yaml', `invae=${process.execPath} ${bin}`], { encoding: 'utf8', timeout: 540_000 });

/** `invae ARGS` without blocking (several at once); its exit code and stderr. */
const invaeAsync = (args: string[]) =>
  new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { env: { ...process.env, INVAE_BACKEND: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stderr }));
  });

/** Every file under `d` with its modification time. */
const mtimes = (d: string): Record<string, number> =>
  Object.fromEntries(
    fs
      .readdirSync(d, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => {
        const p = path.join(e.parentPath, e.name);
        return [path.relative(d, p), fs.statSync(p).mtimeMs];
      }),
  );

const gate = needsSnakemake();
gate.describe('workflows/benchmark/Snakefile (snakemake --cores 2)', () => {
  let first: ReturnType<typeof snakemake>;
  beforeAll(() => {
    fs.mkdirSync(path.join(dir, 'data'));
    fs.copyFileSync(example, path.join(dir, 'config.yaml'));
    for (const [name, args] of Object.entries(DATASETS)) {
      const r = invae(['simulate', '--out', path.join(dir, 'data', `${name}.h5ad`), '--batches', '2', ...args]);
      expect(r.code, r.stderr).toBe(0);
    }
    first = snakemake();
  }, 600_000);

  gate.it('runs every job and the merge: results equal a single-process invae bench --seeds run per data set', async () => {
    expect(first.status, first.stderr).toBe(0);
    const jobs = invae(['bench', 'plan', path.join(dir, 'config.yaml'), '--json'])
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { dataset: string; method: string; done: boolean });
    expect(jobs).toHaveLength(6);
    expect(jobs.every((j) => j.done)).toBe(true);
    // the single-process runs of both data sets side by side
    fs.mkdirSync(path.join(dir, 'single'));
    const names = Object.keys(DATASETS);
    const runs = await Promise.all(
      names.map((name) =>
        invaeAsync(['bench', path.join(dir, 'data', `${name}.h5ad`), '--batch', 'batch', '--label', 'cell_type', '--methods', 'pca,finvae', '--seeds', '0,1', '--epochs', '3', '--out', path.join(dir, 'single', name), '--quiet']),
      ),
    );
    names.forEach((name, i) => {
      expect(runs[i]!.code, runs[i]!.stderr).toBe(0);
      for (const f of REPORT) expect(fs.readFileSync(path.join(dir, 'results', name, f), 'utf8'), `${name}/${f}`).toBe(fs.readFileSync(path.join(dir, 'single', name, f), 'utf8'));
    });
  }, 300_000);

  gate.it('a rerun does nothing: no job runs, no shard or result is rewritten', () => {
    const before = { ...mtimes(path.join(dir, 'shards')), ...mtimes(path.join(dir, 'results')) };
    const again = snakemake();
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr + again.stdout).toContain('Nothing to be done');
    expect({ ...mtimes(path.join(dir, 'shards')), ...mtimes(path.join(dir, 'results')) }).toEqual(before);
  }, 300_000);
});
