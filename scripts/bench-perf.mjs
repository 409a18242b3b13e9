#!/usr/bin/env node
// Performance benchmark of invae at atlas scale (issue config: latent 20+5, hidden 128, 2 layers,
// batch 256, BatchNorm, dropout 0.1). Prints JSON on stdout and a table on stderr:
//   - training throughput (cells/s over timed steps after warm-up steps) of FinVAE and NFinVAE at
//     20k and 100k simulated cells × 2000 genes, in one thread and with data-parallel workers;
//   - embedding throughput (Invae.latent on 100k cells);
//   - metric-suite time (the @invae/bench Benchmarker, all scib metrics) at 10k and 100k cells × 30 dims;
//   - peak RSS, engine, versions, machine.
// Usage: npm run bench:perf [-- --quick] [-- --skip-metrics] [-- --sizes 20000,100000 --genes 2000
//          --models finvae,nfinvae --workers 1,auto --warmup 30 --steps 60 --metric-sizes 10000,100000
//          --library 1000,5000]
// --rounds N (default 1): every training configuration and reference run N times, interleaved; the
// entries are the medians (`roundsCellsPerSecond`: each round's cells/s).
// --paths fused,engine (default both): the single-worker runs on each training-step path, back to
// back: `fused` (the default path: the NB decoder op on both cores) and `engine` (every op on the
// tensor engine, one thread); each training entry says its `path`.
// --library sets the simulated library-size range (the simulator's default, 1000–5000 counts over
// 2000 genes, gives ~40% non-zeros; 100,500 gives ~9%, like droplet data); INVAE_SIMD=0 in the
// environment switches the WebAssembly SIMD kernels off (A/B), INVAE_RELAXED_SIMD=0 only their fused
// multiply-adds (the JSON's `relaxedSimd` says which ran).
// Each training measurement is time-boxed by steps (not epochs); --quick: 20k cells only, fewer steps,
// metrics at 10k only.
// --reference DIR (or INVAE_REFERENCE_DIR): also times the PyTorch reference (a local checkout or bare
// git repository of theislab/inVAE, never part of this repository) on the same simulated data, written
// to a temporary .h5ad, with scripts/bench-reference.py (python: INVAE_REFERENCE_PYTHON, else
// /usr/bin/python3, else python3; it needs torch and anndata), the same warm-up/timed steps, for each
// model and --reference-threads (default 1); the JSON's `reference` holds its runs (or why it did not
// run, or "not requested") and each invae training entry its `ratioToReference`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { Invae, Rng, fillNormal, initEngine, simulate, VERSION as CORE_VERSION } from '@invae/core';
import { relaxedSimd, setStepPath, stepPath } from '@invae/core/internal';
import { registerBuiltinPriors, VERSION as PRIORS_VERSION } from '@invae/priors';
import { Benchmarker, VERSION as BENCH_VERSION } from '@invae/bench';
import { syntheticEmbedding } from '../packages/bench/scripts/synthetic-embedding.mjs';
import { medianOfRounds, parseReferenceThreads, referenceDir, referencePython, referenceTable, referenceUnavailable, runReference, sideBySide, simulationAnnData } from './bench-perf-reference.mjs';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'skip-metrics': { type: 'boolean', default: false },
    sizes: { type: 'string' },
    genes: { type: 'string', default: '2000' },
    models: { type: 'string', default: 'finvae,nfinvae' },
    workers: { type: 'string', default: '1,auto' },
    warmup: { type: 'string' },
    steps: { type: 'string' },
    'embed-cells': { type: 'string' },
    'metric-sizes': { type: 'string' },
    backend: { type: 'string' },
    library: { type: 'string' },
    reference: { type: 'string' },
    'reference-threads': { type: 'string', default: '1' },
    paths: { type: 'string', default: 'fused,engine' },
    rounds: { type: 'string', default: '1' },
  },
});
const quick = values.quick;
const sizes = (values.sizes ?? (quick ? '20000' : '20000,100000')).split(',').map(Number);
const nGenes = Number(values.genes);
const models = values.models.split(',').map((m) => (m.trim().toLowerCase() === 'nfinvae' ? 'NFinVAE' : 'FinVAE'));
const stepPaths = values.paths.split(',').map((p) => p.trim());
for (const p of stepPaths) {
  if (p !== 'fused' && p !== 'engine') {
    process.stderr.write(`bench:perf: --paths takes fused and/or engine, got '${p}'\n`);
    process.exit(2);
  }
}
const defaultPath = stepPath();
const rounds = Number(values.rounds);
if (!(Number.isInteger(rounds) && rounds >= 1)) {
  process.stderr.write(`bench:perf: --rounds expects a whole number ≥ 1, got '${values.rounds}'\n`);
  process.exit(2);
}
const workerSettings = values.workers.split(',').map((w) => (w.trim() === 'auto' ? 'auto' : Number(w)));
const warmupSteps = Number(values.warmup ?? (quick ? 10 : 30)); // the engines (main + workers) tier their wasm code up over the first steps
const timedSteps = Number(values.steps ?? (quick ? 20 : 60));
const embedCells = Number(values['embed-cells'] ?? Math.max(...sizes));
const metricSizes = values['skip-metrics'] ? [] : (values['metric-sizes'] ?? (quick ? '10000' : '10000,100000')).split(',').map(Number);
const batchSize = 256;
const librarySize = values.library ? values.library.split(',').map(Number) : undefined;
if (librarySize && !(librarySize.length === 2 && librarySize.every((v) => v > 0) && librarySize[0] <= librarySize[1])) {
  process.stderr.write(`bench:perf: --library expects "min,max" library sizes, got '${values.library}'\n`);
  process.exit(2);
}
let referenceThreads;
try {
  referenceThreads = parseReferenceThreads(values['reference-threads']);
} catch (e) {
  process.stderr.write(`bench:perf: ${e.message}\n`);
  process.exit(2);
}
const refDir = referenceDir(values.reference);
const refPython = referencePython();
// Checked before anything runs: a reference that cannot run is reported, not silently left out.
const refUnavailable = refDir ? referenceUnavailable(refDir, refPython) : null;
const modelOptions = { latentDimInv: 20, latentDimSpur: 5, hiddenDim: 128, nLayers: 2, batchNorm: true, dropoutRate: 0.1, seed: 0 };

const log = (m) => process.stderr.write(`[bench:perf] ${m}\n`);
const rssMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);
const t00 = performance.now();
const engine = await initEngine({ backend: values.backend, report: null });
registerBuiltinPriors();

/** Simulated data sets, largest reused for the embedding measurement. */
const datasets = new Map();
const datasetInfo = new Map();
function dataset(n) {
  if (!datasets.has(n)) {
    const t0 = performance.now();
    const sim = simulate({ nCells: n, nGenes, nBatches: 4, nCellTypes: 6, nDiseases: 2, latentDimInv: 20, latentDimSpur: 5, seed: 0, ...(librarySize ? { librarySize } : {}) });
    const seconds = (performance.now() - t0) / 1000;
    const c = sim.counts;
    const density = c.kind === 'csr' ? c.indptr[c.shape[0]] / (c.shape[0] * c.shape[1]) : null;
    log(`simulated ${n} × ${nGenes} in ${seconds.toFixed(1)} s (density ${density?.toFixed(3)})`);
    datasets.set(n, { data: { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs }, sim, simulateSeconds: seconds, density });
    datasetInfo.set(n, { simulateSeconds: seconds, density });
  }
  return datasets.get(n);
}

function setup(data, model) {
  return Invae.setup(
    data,
    { model, invariant: { categorical: ['cell_type', 'disease'] }, spurious: { categorical: ['batch'] }, options: modelOptions },
    { warn: () => {} },
  );
}

/**
 * Trains `warmup + steps` minibatches and times the last `steps` (wall clock and process CPU), on
 * step path `path` (fused or engine; data-parallel replicas follow INVAE_THREADED: path 'default').
 */
async function timeTraining(data, model, workers, path) {
  if (path !== 'default') setStepPath(path);
  const w = setup(data, model);
  const ctl = new AbortController();
  let k = 0;
  let tWarm = 0;
  let tEnd = 0;
  let cpuWarm = null;
  let cpu = null;
  let lossSum = 0;
  const t0 = performance.now();
  const h = await w.train(data, {
    epochs: 1000,
    batchSize,
    seed: 0,
    workers,
    signal: ctl.signal,
    onStep: (r) => {
      k++;
      if (k === warmupSteps) {
        tWarm = performance.now();
        cpuWarm = process.cpuUsage();
      }
      if (k > warmupSteps) lossSum += r.loss;
      if (k >= warmupSteps + timedSteps) {
        tEnd = performance.now();
        cpu = process.cpuUsage(cpuWarm);
        ctl.abort();
      }
    },
  });
  w.dispose();
  setStepPath(defaultPath);
  const seconds = (tEnd - tWarm) / 1000;
  return {
    model,
    path,
    nCells: data.counts.shape[0],
    nGenes,
    workers: String(workers),
    workersUsed: h.workers,
    warmupSteps,
    timedSteps,
    cellsPerSecond: Math.round((timedSteps * batchSize) / seconds),
    msPerStep: +((seconds * 1000) / timedSteps).toFixed(1),
    cpuMsPerStep: +((cpu.user + cpu.system) / 1000 / timedSteps).toFixed(1),
    startupAndWarmupSeconds: +((tWarm - t0) / 1000).toFixed(2),
    meanLossTimed: +(lossSum / timedSteps).toFixed(3),
  };
}

/**
 * The reference's runs on `sim` (written to a temporary .h5ad, removed after): one per model and
 * thread count, right after invae's runs of the same size.
 */
async function timeReference(sim) {
  const [{ writeH5ad }, aq] = await Promise.all([import('@invae/io-anndata'), import('arquero')]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-bench-perf-reference-'));
  try {
    const h5ad = path.join(tmp, `sim-${sim.nCells}x${sim.nGenes}.h5ad`);
    await writeH5ad(h5ad, simulationAnnData(sim, aq), { compression: 0 });
    const runs = [];
    for (const model of models) {
      for (const threads of referenceThreads) {
        const r = runReference(refPython, { dir: refDir, h5ad, model, warmup: warmupSteps, steps: timedSteps, threads, batchSize });
        log(r.error ? `reference ${model} ${sim.nCells} cells, ${threads} thread(s): failed: ${r.error}` : `reference ${model} ${sim.nCells} cells, ${threads} thread(s): ${r.cellsPerSecond} cells/s, ${r.msPerStep} ms/step`);
        runs.push(r);
      }
    }
    return runs;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

let training = [];
let referenceRuns = [];
for (const n of sizes) {
  const { data, sim } = dataset(n);
  // --rounds: every configuration (and the reference) once per round, so that the machine's drift
  // spreads over all of them; the medians are reported
  for (let round = 1; round <= rounds; round++) {
    for (const model of models) {
      for (const workers of workerSettings) {
        // the step paths back to back (one process: the machine's speed drifts less between them)
        for (const path of workers === 1 ? stepPaths : ['default']) {
          const r = await timeTraining(data, model, workers, path);
          log(`train ${model} ${n} cells, workers ${r.workers} (${r.workersUsed} used), ${path} path${rounds > 1 ? `, round ${round}` : ''}: ${r.cellsPerSecond} cells/s, ${r.msPerStep} ms/step`);
          training.push(r);
        }
      }
    }
    if (refDir && !refUnavailable) referenceRuns.push(...(await timeReference(sim)));
  }
}
if (rounds > 1) {
  training = medianOfRounds(training, (t) => `${t.model}|${t.nCells}|${t.workers}|${t.path}`);
  referenceRuns = medianOfRounds(referenceRuns, (r) => `${r.model}|${r.cells}|${r.threads}`);
}
training = sideBySide(training, referenceRuns);
const firstRun = referenceRuns.find((r) => !r.error);
const reference = !refDir
  ? 'not requested'
  : refUnavailable
    ? { dir: refDir, python: refPython, error: refUnavailable }
    : { dir: refDir, python: refPython, commit: firstRun?.referenceCommit ?? null, torch: firstRun?.torch ?? null, threads: referenceThreads, runs: referenceRuns };

// Embedding throughput: latent means of every cell (eval mode, batches of 1024), untrained weights.
let embedding = null;
{
  const { data } = dataset(embedCells);
  const w = setup(data, 'FinVAE');
  w.latent(data, { part: 'inv' }); // warm-up pass
  const t0 = performance.now();
  const z = w.latent(data, { part: 'inv' });
  const seconds = (performance.now() - t0) / 1000;
  w.dispose();
  embedding = { nCells: z.nRows, dims: z.nCols, seconds: +seconds.toFixed(2), cellsPerSecond: Math.round(z.nRows / seconds) };
  log(`latent of ${z.nRows} cells: ${embedding.cellsPerSecond} cells/s`);
}
const rssAfterTraining = rssMiB();
datasets.clear();

const metrics = [];
for (const n of metricSizes) {
  const dims = 30;
  const s = syntheticEmbedding({ Rng, fillNormal }, n, dims, 10, 4, n);
  const bm = new Benchmarker({
    embeddings: { integrated: s.integrated },
    labels: s.labels,
    batches: s.batches,
    unintegrated: s.unintegrated,
    onProgress: (e) => log(`  ${n} cells · ${e.metric}: ${e.seconds.toFixed(1)} s (rss ${rssMiB()} MiB)`),
  });
  const t0 = performance.now();
  bm.benchmark();
  const seconds = (performance.now() - t0) / 1000;
  const res = bm.getResults().methods[0];
  metrics.push({
    nCells: n,
    dims,
    labels: 10,
    batches: 4,
    seconds: +seconds.toFixed(2),
    stepSeconds: Object.fromEntries(Object.entries(res.seconds).map(([k, v]) => [k, +v.toFixed(3)])),
    nanMetrics: Object.entries(res.metrics).filter(([, v]) => v === null).map(([k]) => k),
    // Exact or subsampled (n, seed, SE) silhouettes: above 200,000 cells they are estimated from a sample.
    sampling: res.sampling ?? {},
    // Peak RSS of this process so far (sizes run in increasing order, so the largest size's own peak).
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    loadAverage1m: +os.loadavg()[0].toFixed(2),
  });
  log(`metric suite on ${n} cells × ${dims} dims: ${seconds.toFixed(1)} s`);
}

const require = createRequire(import.meta.url);
const version = (pkg) => {
  try {
    return require(`${pkg}/package.json`).version;
  } catch {
    return null;
  }
};
const out = {
  benchmark: 'perf',
  config: { nGenes, batchSize, ...modelOptions, quick, warmupSteps, timedSteps, rounds, stepPaths, defaultStepPath: defaultPath, sizes, metricSizes, librarySize: librarySize ?? 'simulator default' },
  data: [...datasetInfo.entries()].map(([nCells, d]) => ({ nCells, density: d.density === null ? null : +d.density.toFixed(4), simulateSeconds: +d.simulateSeconds.toFixed(1) })),
  simdKernels: process.env.INVAE_SIMD !== '0',
  // fused multiply-adds in the products (relaxed SIMD; INVAE_RELAXED_SIMD=0 turns them off)
  relaxedSimd: relaxedSimd(),
  engine: { name: engine.engine, backend: engine.backend, package: engine.package, version: engine.packageVersion, tfjs: engine.tfjsVersion },
  versions: { node: process.version, core: CORE_VERSION, priors: PRIORS_VERSION, bench: BENCH_VERSION, tfjs: version('@tensorflow/tfjs'), tfjsWasm: version('@tensorflow/tfjs-backend-wasm') },
  machine: { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model ?? null, totalMemGiB: +(os.totalmem() / 2 ** 30).toFixed(1), loadAverage1m: +os.loadavg()[0].toFixed(2) },
  training,
  reference,
  embedding,
  metrics: values['skip-metrics'] ? 'skipped' : metrics,
  peakRssMiB: { afterTrainingAndEmbedding: rssAfterTraining, total: rssMiB() },
  totalSeconds: +((performance.now() - t00) / 1000).toFixed(1),
};

const pad = (s, n) => String(s).padEnd(n);
const lines = ['', 'invae bench:perf', `engine ${out.engine.name} (${out.engine.package} ${out.engine.version}${out.relaxedSimd ? ', fused multiply-adds' : ''}), node ${process.version}, ${out.machine.cpus} CPUs`, ''];
lines.push(`${pad('model', 9)}${pad('cells', 8)}${pad('workers', 10)}${pad('path', 9)}${pad('cells/s', 9)}${pad('ms/step', 9)}cpu ms/step`);
for (const r of training) lines.push(`${pad(r.model, 9)}${pad(r.nCells, 8)}${pad(`${r.workers}→${r.workersUsed}`, 10)}${pad(r.path, 9)}${pad(r.cellsPerSecond, 9)}${pad(r.msPerStep, 9)}${r.cpuMsPerStep}`);
lines.push('', ...referenceTable(training, reference));
if (embedding) lines.push('', `embedding (latent) of ${embedding.nCells} cells: ${embedding.cellsPerSecond} cells/s (${embedding.seconds} s)`);
for (const m of metrics) lines.push(`metric suite, ${m.nCells} cells × ${m.dims} dims: ${m.seconds} s`);
lines.push(`peak RSS ${out.peakRssMiB.total} MiB, total ${out.totalSeconds} s`, '');
process.stderr.write(lines.join('\n') + '\n');
console.log(JSON.stringify(out, null, 2));
