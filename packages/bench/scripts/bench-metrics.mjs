#!/usr/bin/env node
// Times the scib-metrics suite of @invae/bench (built dist) on synthetic embeddings and prints JSON:
// per size, wall and CPU seconds of every step, the total, the peak RSS, the metric values, and the
// engine/versions used. Each size runs in its own child process, so each peak RSS is its own.
//
// Usage: npm run bench:metrics [-- --sizes 10000,100000 --dims 30 --labels 10 --batches 4
//          --backend wasm --silhouette-batch --out FILE --baseline FILE --tolerance 1e-6]
//   --silhouette-batch  also run the classic silhouette batch (off in scib-metrics 0.6's defaults)
//   --dist FILE         time another build of @invae/bench (its ESM entry), e.g. an earlier commit's,
//                       for before/after comparisons (default: this package's dist/index.js)
//   --out FILE          also write the JSON to FILE (atomically)
//   --baseline FILE     compare the metric values with an earlier run's JSON (same sizes/options):
//                       prints the largest difference per metric and exits 1 if one exceeds
//                       --tolerance (absolute; default 1e-6)
import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { syntheticEmbedding } from './synthetic-embedding.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : def;
};
const flag = (name) => args.includes(`--${name}`);
const sizes = opt('sizes', '10000,100000').split(',').map(Number);
const dims = Number(opt('dims', '30'));
const nLabels = Number(opt('labels', '10'));
const nBatches = Number(opt('batches', '4'));
const backend = opt('backend', 'wasm');
const withSilhouetteBatch = flag('silhouette-batch');
for (const [name, v] of [['sizes', Math.min(...sizes)], ['dims', dims], ['labels', nLabels], ['batches', nBatches]]) {
  if (!Number.isInteger(v) || v < 1) {
    console.error(`bench:metrics: --${name} must be positive integers (got ${opt(name, '')}).`);
    process.exit(2);
  }
}

const child = opt('child', null);
if (child !== null) {
  console.log(JSON.stringify(await runSize(Number(child))));
  process.exit(0);
}

/** One size, in this process: the suite on the synthetic data, with wall and CPU time per step. */
async function runSize(n) {
  const core = await import('@invae/core');
  let bench;
  try {
    const dist = opt('dist', null);
    bench = await import(dist ? pathToFileURL(path.resolve(dist)).href : '../dist/index.js');
  } catch (err) {
    console.error(`bench:metrics needs the built package (${err.message}). Run \`npm run build\` in packages/bench first.`);
    process.exit(1);
  }
  const engine = await core.initEngine({ backend, report: null });
  const data = syntheticEmbedding(core, n, dims, nLabels, nBatches, n);
  const cpuNow = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1e6;
  };
  const cpuSeconds = {};
  let lastCpu = 0;
  const bm = new bench.Benchmarker({
    embeddings: { integrated: data.integrated },
    labels: data.labels,
    batches: data.batches,
    unintegrated: data.unintegrated,
    metrics: withSilhouetteBatch ? { silhouetteBatch: true } : undefined,
    onProgress: (e) => {
      const c = cpuNow();
      cpuSeconds[e.metric] = Number((c - lastCpu).toFixed(3));
      lastCpu = c;
      process.stderr.write(`[bench:metrics] n=${n} ${e.metric}: ${e.seconds.toFixed(2)} s (cpu ${cpuSeconds[e.metric].toFixed(2)} s)\n`);
    },
  });
  const t0 = performance.now();
  const c0 = cpuNow();
  lastCpu = c0;
  bm.benchmark();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuNow() - c0;
  const res = bm.getResults();
  const m = res.methods[0];
  return {
    nCells: n,
    dims,
    labels: nLabels,
    batches: nBatches,
    totalSeconds: Number(seconds.toFixed(2)),
    cpuSeconds: Number(cpu.toFixed(2)),
    stepSeconds: Object.fromEntries(Object.entries(m.seconds).map(([k, v]) => [k, Number(v.toFixed(3))])),
    stepCpuSeconds: cpuSeconds,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    metrics: m.metrics,
    // How each silhouette metric was computed: exact, or subsampled (n, seed, SE) above 200,000 cells.
    sampling: m.sampling ?? {},
    aggregates: m.aggregates,
    engine: { engine: engine.engine, backend: engine.backend, package: engine.package, packageVersion: engine.packageVersion, tfjsVersion: engine.tfjsVersion },
    versions: { bench: bench.VERSION, core: core.VERSION, dist: opt('dist', 'dist/index.js') },
  };
}

const self = fileURLToPath(import.meta.url);
const passOn = args.filter((a, i) => !['--sizes', '--out', '--baseline', '--tolerance'].includes(a) && !['--sizes', '--out', '--baseline', '--tolerance'].includes(args[i - 1]));
const runs = [];
let engine = null;
let versions = null;
for (const n of sizes) {
  const r = spawnSync(process.execPath, [self, ...passOn, '--child', String(n)], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    console.error(`bench:metrics: the run with ${n} cells failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}).`);
    process.exit(1);
  }
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  engine = out.engine;
  versions = out.versions;
  delete out.engine;
  delete out.versions;
  runs.push(out);
}
const report = {
  benchmark: 'bench:metrics',
  date: new Date().toISOString(),
  engine,
  versions: { ...versions, node: process.version },
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', totalMemGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)), loadAverage1m: Number(os.loadavg()[0].toFixed(2)) },
  options: { dims, labels: nLabels, batches: nBatches, backend, silhouetteBatch: withSilhouetteBatch },
  runs,
};

const baselineFile = opt('baseline', null);
let failed = false;
if (baselineFile) {
  const tolerance = Number(opt('tolerance', '1e-6'));
  const base = JSON.parse(readFileSync(baselineFile, 'utf8'));
  report.baseline = { file: path.resolve(baselineFile), tolerance, comparisons: [] };
  for (const r of runs) {
    const b = (base.runs ?? []).find((x) => x.nCells === r.nCells);
    if (!b) {
      report.baseline.comparisons.push({ nCells: r.nCells, error: 'no run of this size in the baseline' });
      failed = true;
      continue;
    }
    const diffs = {};
    for (const [k, v] of Object.entries(r.metrics)) {
      const w = b.metrics?.[k];
      const d = v === null || w === null || w === undefined ? (v === w ? 0 : Infinity) : Math.abs(v - w);
      diffs[k] = d;
      if (!(d <= tolerance)) failed = true;
    }
    const speedup = b.totalSeconds / r.totalSeconds;
    report.baseline.comparisons.push({ nCells: r.nCells, maxAbsDiff: diffs, baselineSeconds: b.totalSeconds, seconds: r.totalSeconds, speedup: Number(speedup.toFixed(2)) });
  }
  report.baseline.equal = !failed;
}

const json = JSON.stringify(report, null, 2);
console.log(json);
const outFile = opt('out', null);
if (outFile) {
  const tmp = path.join(path.dirname(path.resolve(outFile)), `.${path.basename(outFile)}.${process.pid}.tmp`);
  writeFileSync(tmp, json + '\n');
  renameSync(tmp, outFile);
}
if (failed) {
  console.error('bench:metrics: metric values differ from the baseline beyond the tolerance.');
  process.exit(1);
}
