#!/usr/bin/env node
/**
 * `npm run bench:ci`: the whole benchmark suite on the data at hand, end to end through the CLI.
 *
 *   1. CellBench lung cell lines (../shared/data/cellbench-lung-3cl.h5ad): `invae datasets prepare`
 *      (raw counts of 2000 seurat_v3 highly variable genes, ranked by batch), then `invae bench`
 *      (batch 'batch', labels 'cell_line', methods pca,scvi,finvae,nfinvae).
 *   2. Simulated data: `invae simulate`, then `invae bench` (batch 'batch', labels 'cell_type'; the
 *      true latents give the identifiability metrics).
 *
 * Every step writes into the output folder (default reports/bench-ci/<dataset>/): results.json,
 * .csv, .md, .svg, UMAPs and report.html. Prints the results tables (markdown) and, last, a JSON
 * summary with the seconds per dataset; the summary is also written to <out>/summary.json.
 * Needs the packages built (`npm run bench:ci` builds them first).
 *
 * Options: --out DIR, --epochs N (default 50), --sim-cells N (default 1500), --sim-genes N
 * (default 500), --seed N (default 0), --backend NAME (default: the CLI's auto).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    out: { type: 'string', default: path.join(root, 'reports', 'bench-ci') },
    epochs: { type: 'string', default: '50' },
    'sim-cells': { type: 'string', default: '1500' },
    'sim-genes': { type: 'string', default: '500' },
    seed: { type: 'string', default: '0' },
    backend: { type: 'string' },
  },
});
for (const k of ['epochs', 'sim-cells', 'sim-genes', 'seed']) {
  if (!/^\d+$/.test(opts[k])) {
    process.stderr.write(`bench-ci: --${k} must be a non-negative integer, got '${opts[k]}'\n`);
    process.exit(2);
  }
}
const cli = path.join(root, 'packages', 'cli', 'bin', 'invae.js');
if (!existsSync(path.join(root, 'packages', 'cli', 'dist', 'bin.js'))) {
  process.stderr.write('bench-ci: the CLI is not built; run `npm run bench:ci` (it builds first) or `npx nx run-many -t build`.\n');
  process.exit(2);
}
const out = path.resolve(opts.out);
mkdirSync(out, { recursive: true });
const global = opts.backend ? ['--backend', opts.backend] : [];
const METHODS = 'pca,scvi,finvae,nfinvae';

/** Runs `invae ARGS`, streaming its progress (stderr) and returning its stdout and seconds. */
function invae(label, args) {
  process.stderr.write(`\n[bench-ci] ${label}: invae ${args.join(' ')}\n`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...global, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ''}\n[bench-ci] ${label} failed (exit ${r.status ?? r.signal}) after ${seconds.toFixed(1)} s\n`);
    process.exit(1);
  }
  return { stdout: r.stdout, seconds };
}

function summarize(name, dir, seconds) {
  const results = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
  const totals = Object.fromEntries(results.methods.map((m) => [m.embedding, m.aggregates.Total]));
  const ranking = [...results.methods].sort((a, b) => (b.aggregates.Total ?? -Infinity) - (a.aggregates.Total ?? -Infinity)).map((m) => m.embedding);
  return { name, cells: results.nCells, labels: results.nLabels, batches: results.nBatches, out: path.relative(root, dir), seconds, total: totals, ranking };
}

const t0 = performance.now();
const datasets = [];
const tables = [];
const bench = (file, dir, batch, label) => ['bench', file, '--batch', batch, '--label', label, '--methods', METHODS, '--epochs', opts.epochs, '--seed', opts.seed, '--out', dir, '--overwrite'];

{
  const dir = path.join(out, 'cellbench-lung-3cl');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'cellbench-lung-3cl.hvg2000.h5ad');
  const prep = invae('prepare CellBench (2000 HVGs)', ['datasets', 'prepare', 'cellbench-lung-3cl', '--out', file, '--overwrite']);
  process.stderr.write(prep.stdout);
  const run = invae('bench CellBench', bench(file, dir, 'batch', 'cell_line'));
  const s = summarize('cellbench-lung-3cl', dir, { prepare: prep.seconds, bench: run.seconds, total: prep.seconds + run.seconds });
  s.genes = 2000;
  datasets.push(s);
  tables.push(`## CellBench lung cell lines (450 cells, 2000 HVGs)\n\n${readFileSync(path.join(dir, 'results.md'), 'utf8')}`);
}
{
  const dir = path.join(out, 'simulated');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'simulated.h5ad');
  const sim = invae('simulate', ['simulate', '--out', file, '--cells', opts['sim-cells'], '--genes', opts['sim-genes'], '--seed', opts.seed, '--overwrite']);
  process.stderr.write(sim.stdout);
  const run = invae('bench simulated', bench(file, dir, 'batch', 'cell_type'));
  const s = summarize('simulated', dir, { simulate: sim.seconds, bench: run.seconds, total: sim.seconds + run.seconds });
  s.genes = Number(opts['sim-genes']);
  datasets.push(s);
  tables.push(`## Simulated (${opts['sim-cells']} cells, ${opts['sim-genes']} genes)\n\n${readFileSync(path.join(dir, 'results.md'), 'utf8')}`);
}

const summary = {
  schema: 'invae.bench-ci/1',
  epochs: Number(opts.epochs),
  methods: METHODS.split(','),
  out: path.relative(root, out) || '.',
  datasets,
  seconds: (performance.now() - t0) / 1000,
  node: process.version,
};
const tmp = path.join(out, `.summary.json.${process.pid}.tmp`);
writeFileSync(tmp, `${JSON.stringify(summary, null, 2)}\n`);
renameSync(tmp, path.join(out, 'summary.json'));
process.stdout.write(`${tables.join('\n')}\n${JSON.stringify(summary, null, 2)}\n`);
