#!/usr/bin/env node
// Times the scib-metrics suite of @invae/bench (built dist) on synthetic embeddings and prints JSON.
// Usage: npm run bench:metrics [-- --sizes 10000,100000 --dims 30 --labels 10 --batches 4 --backend wasm]
import { performance } from 'node:perf_hooks';
import { initEngine, Rng, fillNormal } from '@invae/core';

let Benchmarker;
try {
  ({ Benchmarker } = await import('../dist/index.js'));
} catch (err) {
  console.error(`bench:metrics needs the built package (${err.message}). Run \`npm run build\` in packages/bench first.`);
  process.exit(1);
}

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : def;
};
const sizes = opt('sizes', '10000,100000').split(',').map(Number);
const dims = Number(opt('dims', '30'));
const nLabels = Number(opt('labels', '10'));
const nBatches = Number(opt('batches', '4'));
const backend = opt('backend', 'wasm');

/** Gaussian blobs per label with a per-batch shift: an "integrated" and an "unintegrated" version. */
function synthetic(n, d, seed) {
  const rng = new Rng(seed);
  const centres = fillNormal(rng, nLabels * d, 0, 3);
  const shifts = fillNormal(rng, nBatches * d, 0, 2);
  const noise = fillNormal(rng, n * d, 0, 1);
  const labels = new Array(n);
  const batches = new Array(n);
  const integrated = new Float32Array(n * d);
  const unintegrated = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const l = rng.int(nLabels);
    const b = rng.int(nBatches);
    labels[i] = `type${l}`;
    batches[i] = `batch${b}`;
    for (let j = 0; j < d; j++) {
      const base = centres[l * d + j] + noise[i * d + j];
      integrated[i * d + j] = base + 0.1 * shifts[b * d + j];
      unintegrated[i * d + j] = base + shifts[b * d + j];
    }
  }
  return {
    labels,
    batches,
    integrated: { data: integrated, nRows: n, nCols: d },
    unintegrated: { data: unintegrated, nRows: n, nCols: d },
  };
}

const engine = await initEngine({ backend, report: null });
const runs = [];
for (const n of sizes) {
  const data = synthetic(n, dims, n);
  const bm = new Benchmarker({
    embeddings: { integrated: data.integrated },
    labels: data.labels,
    batches: data.batches,
    unintegrated: data.unintegrated,
    onProgress: (e) => process.stderr.write(`[bench:metrics] n=${n} ${e.metric}: ${e.seconds.toFixed(2)} s\n`),
  });
  const t0 = performance.now();
  bm.benchmark();
  const seconds = (performance.now() - t0) / 1000;
  const res = bm.getResults();
  runs.push({
    nCells: n,
    dims,
    labels: nLabels,
    batches: nBatches,
    totalSeconds: Number(seconds.toFixed(2)),
    stepSeconds: Object.fromEntries(Object.entries(res.methods[0].seconds).map(([k, v]) => [k, Number(v.toFixed(3))])),
    metrics: res.methods[0].metrics,
    aggregates: res.methods[0].aggregates,
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
  });
}
console.log(JSON.stringify({ benchmark: 'bench:metrics', engine: engine.engine, tfjsBackend: engine.backend, node: process.version, runs }, null, 2));
