import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readH5ad } from '@invae/io-anndata';
import { invae } from './helpers';

// `invae bench --seeds` and the sharded form of the same benchmark: plan (jobs of a YAML config),
// run-job (one content-addressed shard each; a finished one is skipped) and merge (the same
// results.json/csv/md/svg as the single-process run, byte for byte).
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-bench-shards-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const data = path.join(dir, 'data');
const config = path.join(dir, 'config.yaml');
const REPORT = ['results.csv', 'results.json', 'results.md', 'results.svg'];

interface PlannedJob {
  id: string;
  dataset: string;
  method: string;
  seed: number;
  preset: string | null;
  shard: string;
  done: boolean;
}
const plan = (file = config): PlannedJob[] => {
  const r = invae(['bench', 'plan', file, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as PlannedJob);
};

beforeAll(() => {
  fs.mkdirSync(data);
  const r = invae(['simulate', '--out', path.join(data, 'sim1.h5ad'), '--cells', '120', '--genes', '30', '--batches', '2', '--cell-types', '3', '--seed', '1']);
  expect(r.code, r.stderr).toBe(0);
  fs.writeFileSync(config, ['shards: shards', 'datasets:', '  sim1: { file: data/sim1.h5ad, batch: batch, label: cell_type }', 'methods: [finvae, pca]', 'seeds: [1, 0]', 'options: { epochs: 2 }', ''].join('\n'));
}, 120_000);

describe('invae bench --seeds', () => {
  it('trains FinVAE per seed, PCA once, and writes mean ± sd tables with error bars', () => {
    const out = path.join(dir, 'single');
    const r = invae(['bench', path.join(data, 'sim1.h5ad'), '--batch', 'batch', '--label', 'cell_type', '--methods', 'pca,finvae', '--seeds', '0,1', '--epochs', '2', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual([...REPORT, 'run.json']);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(json.seeds).toEqual([0, 1]);
    expect(json.methods.map((m: { embedding: string; seeds: number[] }) => [m.embedding, m.seeds])).toEqual([
      ['PCA', [0]],
      ['FinVAE', [0, 1]],
    ]);
    expect(r.stdout).toMatch(/FinVAE † \| 2 \| \d\.\d{3} ± \d\.\d{3}/);
    expect(fs.readFileSync(path.join(out, 'results.svg'), 'utf8')).toContain('class="error-bar"');
  }, 180_000);

  it('rejects a bad seed list (usage error) and --seeds with --embeddings, writing nothing', () => {
    const out = path.join(dir, 'never');
    const a = invae(['bench', path.join(data, 'sim1.h5ad'), '--batch', 'batch', '--label', 'cell_type', '--seeds', '0,x', '--out', out]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("expected an integer ≥ 0, got 'x'");
    const b = invae(['bench', path.join(data, 'sim1.h5ad'), '--batch', 'batch', '--label', 'cell_type', '--seeds', '0,1', '--embeddings', 'X_true_inv', '--out', out]);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toContain('not scored in a seeded run');
    expect(b.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('invae bench plan / run-job / merge', () => {
  it('plan lists data set × method × seed × preset (PCA once), content-addressed by the data file and options', () => {
    const jobs = plan();
    expect(jobs.map((j) => [j.dataset, j.method, j.seed, j.preset, j.done])).toEqual([
      ['sim1', 'pca', 0, null, false],
      ['sim1', 'finvae', 0, 'integration', false],
      ['sim1', 'finvae', 1, 'integration', false],
    ]);
    for (const j of jobs) expect(j.shard).toBe(path.join(dir, 'shards', j.id));
    expect(plan().map((j) => j.id)).toEqual(jobs.map((j) => j.id));
    // another file content or other epochs: new ids
    const other = path.join(dir, 'other.yaml');
    fs.copyFileSync(path.join(data, 'sim1.h5ad'), path.join(data, 'copy.h5ad'));
    fs.writeFileSync(other, fs.readFileSync(config, 'utf8').replace('data/sim1.h5ad', 'data/copy.h5ad'));
    expect(plan(other).map((j) => j.id)).toEqual(jobs.map((j) => j.id)); // same content, other path: same ids
    fs.appendFileSync(path.join(data, 'copy.h5ad'), Buffer.from([0]));
    expect(plan(other).map((j) => j.id)).not.toContain(jobs[0]!.id);
    fs.writeFileSync(other, fs.readFileSync(config, 'utf8').replace('epochs: 2', 'epochs: 3'));
    const epochs3 = plan(other);
    expect(epochs3.find((j) => j.method === 'finvae')!.id).not.toBe(jobs[1]!.id);
  });

  it("plan keeps each data file's hash in <shards>/.sha256.json and reuses it only while the file's size and time are unchanged", () => {
    const jobs = plan();
    const cacheFile = path.join(dir, 'shards', '.sha256.json');
    const file = path.join(data, 'sim1.h5ad');
    const cache = JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
    expect(cache[file].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(cache[file].size).toBe(fs.statSync(file).size);
    // a planted hash is reused (the file is not read again) ...
    fs.writeFileSync(cacheFile, JSON.stringify({ ...cache, [file]: { ...cache[file], sha256: 'a'.repeat(64) } }));
    expect(plan()[0]!.id).not.toBe(jobs[0]!.id);
    // ... until the file's time changes: then it is hashed anew
    const t = fs.statSync(file).mtime;
    fs.utimesSync(file, t, new Date(t.getTime() + 5000));
    expect(plan().map((j) => j.id)).toEqual(jobs.map((j) => j.id));
    expect(JSON.parse(fs.readFileSync(cacheFile, 'utf8'))[file].sha256).toBe(cache[file].sha256);
  });

  it('run-job writes each shard (embedding.h5ad with obsm, metrics.json); a rerun skips it; merge equals the single-process run', async () => {
    const jobs = plan();
    for (const j of jobs) {
      const r = invae(['bench', 'run-job', config, '--job', j.id, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      expect(fs.readdirSync(j.shard).sort()).toEqual(['embedding.h5ad', 'metrics.json']);
    }
    const emb = await readH5ad(path.join(jobs[1]!.shard, 'embedding.h5ad'));
    expect(emb.nObs).toBe(120);
    expect(Object.keys(emb.obsm)).toEqual(['X_FinVAE']);
    expect(plan().every((j) => j.done)).toBe(true);
    // a rerun does nothing
    const before = fs.statSync(path.join(jobs[1]!.shard, 'metrics.json')).mtimeMs;
    const again = invae(['bench', 'run-job', config, '--job', jobs[1]!.id]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('(skipped)');
    expect(fs.statSync(path.join(jobs[1]!.shard, 'metrics.json')).mtimeMs).toBe(before);

    const out = path.join(dir, 'merged');
    const m = invae(['bench', 'merge', ...jobs.map((j) => j.shard), '--out', out, '--quiet']);
    expect(m.code, m.stderr).toBe(0);
    expect(fs.readdirSync(path.join(out, 'sim1')).sort()).toEqual([...REPORT, 'run.json']);
    for (const f of REPORT) expect(fs.readFileSync(path.join(out, 'sim1', f), 'utf8'), f).toBe(fs.readFileSync(path.join(dir, 'single', f), 'utf8'));
  }, 300_000);

  it('names what is wrong: an unknown job, a typo in the config, a missing shard or seed', () => {
    const jobs = plan();
    const a = invae(['bench', 'run-job', config, '--job', 'nope']);
    expect(a.code).not.toBe(0);
    expect(a.stderr).toContain("has no job 'nope'");
    const typo = path.join(dir, 'typo.yaml');
    fs.writeFileSync(typo, fs.readFileSync(config, 'utf8').replace('options:', 'option:'));
    const b = invae(['bench', 'plan', typo]);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toContain("unknown key 'option'");
    const c = invae(['bench', 'merge', path.join(dir, 'shards', 'missing'), '--out', path.join(dir, 'm2')]);
    expect(c.code).not.toBe(0);
    expect(c.stderr).toContain('Cannot read the shard');
    const d = invae(['bench', 'merge', jobs[0]!.shard, jobs[1]!.shard, '--seeds', '0,1', '--out', path.join(dir, 'm3')]);
    expect(d.code).not.toBe(0);
    expect(d.stderr).toContain('FinVAE has no record for seed 1');
    expect(fs.existsSync(path.join(dir, 'm2')) || fs.existsSync(path.join(dir, 'm3'))).toBe(false);
  }, 120_000);
});
