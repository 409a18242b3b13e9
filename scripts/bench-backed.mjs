#!/usr/bin/env node
// Backed training at atlas scale: writes (once) a simulated .h5ad of N cells × G genes at a given
// density, streamed in row blocks (never whole in memory), then runs exactly what a user runs,
// `invae train FILE --backed --inv cell_type --spur batch --epochs 1 --json` (the CLI's own `main`, in
// a child process, with the CLI's defaults for everything else), and reports as JSON: peak RSS of
// that process, the epoch's wall time and cells/s (whole epoch, and steady state after `--warmup`
// steps), the setup time before the first step (obs, count validation pass, covariates), the per-step
// time spent reading rows from the file (h5 block reads, CSR → dense batch) and the bytes read.
// The child only wraps `Invae.prototype.train` (adds an onStep timer) and `BackedRowSource`'s reads
// (timers, byte counts); the training itself is the CLI's.
// Usage: node scripts/bench-backed.mjs [--cells 1000000 --genes 2000 --density 0.1 --file F --dir /tmp
//          --steps 0 --warmup 20 --workers N --batch-size N --fit-cells 200000 --project 10000000]
// --steps 0 (default) trains one full epoch; --steps N stops after warm-up + N steps. --fit-cells M
// also runs M cells (same genes, density) first and fits peak RSS = a + b·cells and setup seconds
// over the two runs, projecting both (and the epoch time) to --project cells. Files are written
// once (into --dir, or --file for a single size) and reused when they exist.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng } from '@invae/core';

const { values } = parseArgs({
  options: {
    cells: { type: 'string', default: '1000000' },
    genes: { type: 'string', default: '2000' },
    density: { type: 'string', default: '0.1' },
    file: { type: 'string' },
    dir: { type: 'string', default: '/tmp' },
    steps: { type: 'string', default: '0' },
    warmup: { type: 'string', default: '20' },
    workers: { type: 'string' },
    'batch-size': { type: 'string' },
    'fit-cells': { type: 'string' },
    project: { type: 'string', default: '10000000' },
    child: { type: 'boolean', default: false },
    report: { type: 'string' },
  },
});
const nGenes = Number(values.genes);
const density = Number(values.density);
const fileFor = (n) => path.join(values.dir, `invae-backed-${n}x${nGenes}-d${density}.h5ad`);

/** Seeded uniforms in [0, 1) for the generator (core's Rng). */
function rng(seed) {
  const r = new Rng(seed);
  return () => r.uniform();
}

/**
 * Writes the dataset: 6 cell types with 300 marker genes each, 4 batches scaling the counts; every
 * cell has round(density × genes) non-zero genes, half drawn from its type's markers.
 */
async function generate(file, nCells) {
  const io = await import('@invae/io-anndata');
  const aq = await import('arquero');
  const nTypes = 6;
  const nBatches = 4;
  const perCell = Math.max(1, Math.round(density * nGenes));
  const markers = Array.from({ length: nTypes }, (_, t) => Int32Array.from({ length: Math.min(300, nGenes) }, (_, i) => (t * 331 + i * 7) % nGenes));
  const isMarker = markers.map((m) => {
    const mask = new Uint8Array(nGenes);
    for (const j of m) mask[j] = 1;
    return mask;
  });
  const cellType = new Array(nCells);
  const batch = new Array(nCells);
  const r = rng(7);
  for (let i = 0; i < nCells; i++) {
    cellType[i] = `type${Math.floor(r() * nTypes)}`;
    batch[i] = `batch${Math.floor(r() * nBatches)}`;
  }
  const cat = (k) => ({ kind: 'categorical', categories: Array.from({ length: k === 'cell_type' ? nTypes : nBatches }, (_, i) => `${k === 'cell_type' ? 'type' : 'batch'}${i}`), ordered: false });
  const adata = {
    nObs: nCells,
    nVars: nGenes,
    obs: { table: aq.table({ _index: Array.from({ length: nCells }, (_, i) => `cell${i}`), batch, cell_type: cellType }), indexName: '_index', columns: { batch: cat('batch'), cell_type: cat('cell_type') } },
    var: { table: aq.table({ _index: Array.from({ length: nGenes }, (_, j) => `gene${j}`) }), indexName: '_index', columns: {} },
    layers: {},
    obsm: {},
    varm: {},
    obsp: {},
    varp: {},
    uns: {},
  };
  const blockRows = 8192;
  function* blocks() {
    const g = rng(11);
    const seen = new Uint8Array(nGenes);
    for (let start = 0; start < nCells; start += blockRows) {
      const end = Math.min(nCells, start + blockRows);
      const rows = end - start;
      const indptr = new Float64Array(rows + 1);
      const indices = new Int32Array(rows * perCell);
      const data = new Float32Array(rows * perCell);
      const row = new Int32Array(perCell);
      for (let i = 0; i < rows; i++) {
        const t = Number(cellType[start + i].slice(4));
        const b = Number(batch[start + i].slice(5));
        const m = markers[t];
        let k = 0;
        while (k < perCell) {
          const j = k < perCell / 2 ? m[Math.floor(g() * m.length)] : Math.floor(g() * nGenes);
          if (seen[j]) continue;
          seen[j] = 1;
          row[k++] = j;
        }
        row.sort();
        const base = i * perCell;
        for (let q = 0; q < perCell; q++) {
          const j = row[q];
          seen[j] = 0;
          indices[base + q] = j;
          const mean = (1 + 0.5 * b) * (isMarker[t][j] ? 4 : 1);
          data[base + q] = 1 + Math.floor(-Math.log(1 - g()) * mean);
        }
        indptr[i + 1] = (i + 1) * perCell;
      }
      yield { start, end, matrix: { kind: 'csr', shape: [rows, nGenes], dtype: 'float32', data, indices, indptr } };
    }
  }
  const t0 = performance.now();
  await io.writeH5ad(file, adata, { compression: 0, streamX: { shape: [nCells, nGenes], blocks } });
  return (performance.now() - t0) / 1000;
}

/** Reads /proc/self/io (bytes this process read through read(2): rchar; from the device: read_bytes). */
function procIo() {
  try {
    const t = readFileSync('/proc/self/io', 'utf8');
    const get = (k) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(t)?.[1] ?? NaN);
    return { rchar: get('rchar'), readBytes: get('read_bytes') };
  } catch {
    return { rchar: NaN, readBytes: NaN };
  }
}

const mib = (b) => Math.round(b / 1048576);

/**
 * Child: runs the CLI's `main` on the file. Only timers are added: around `Invae.prototype.train` (an
 * onStep hook), and around `BackedRowSource`'s row reads and block reads.
 */
async function child() {
  const core = await import('@invae/core');
  const cli = await import('@invae/cli');
  const file = values.file;
  const warm = Number(values.warmup);
  const steps = Number(values.steps);
  const m = { rowsMs: 0, blockMs: 0, blocks: 0, blockBytes: 0, rowsCalls: 0 };
  const proto = core.BackedRowSource.prototype;
  const readRows = proto.readRows;
  proto.readRows = function (indices) {
    const t = performance.now();
    try {
      return readRows.call(this, indices);
    } finally {
      m.rowsMs += performance.now() - t;
      m.rowsCalls++;
    }
  };
  const block = proto.block;
  proto.block = function (b) {
    const before = this.blocksRead;
    const t = performance.now();
    const blk = block.call(this, b);
    if (this.blocksRead !== before) {
      m.blockMs += performance.now() - t;
      m.blocks++;
      for (const a of [blk.data, blk.indices, blk.indptr]) m.blockBytes += a?.byteLength ?? 0;
    }
    return blk;
  };
  const phases = {};
  const snap = (name) => {
    phases[name] = { t: performance.now(), rssMiB: mib(process.memoryUsage.rss()), ...procIo(), ...structuredClone(m) };
  };
  snap('start');
  let k = 0;
  let tWarm = 0;
  let tLast = 0;
  let cells = 0;
  let cellsTimed = 0;
  const setup = core.Invae.setup;
  core.Invae.setup = function (...args) {
    snap('setupCalled');
    const w = setup.apply(this, args);
    snap('setupDone');
    return w;
  };
  const train = core.Invae.prototype.train;
  core.Invae.prototype.train = function (data, options = {}) {
    snap('trainCalled');
    const ctl = new AbortController();
    return train.call(this, data, {
      ...options,
      signal: ctl.signal,
      onStep: (r) => {
        options.onStep?.(r);
        k++;
        cells += r.cells;
        if (k === 1) snap('firstStep');
        if (k === warm) snap('warm');
        if (k > warm) cellsTimed += r.cells;
        tLast = performance.now();
        if (steps > 0 && k >= warm + steps) ctl.abort();
      },
    });
  };
  const out = mkdtempSync(path.join(tmpdir(), 'invae-bench-backed-'));
  const argv = ['train', file, '--backed', '--inv', 'cell_type', '--spur', 'batch', '--epochs', '1', '--json', '--overwrite', '--out', path.join(out, 'model')];
  if (values.workers) argv.push('--workers', values.workers);
  if (values['batch-size']) argv.push('--batch-size', values['batch-size']);
  // the CLI prints its JSON summary on stdout: keep it
  const chunks = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (c, ...rest) => (chunks.push(String(c)), true);
  let code;
  try {
    code = await cli.main([process.execPath, 'invae', ...argv]);
  } finally {
    process.stdout.write = write;
    rmSync(out, { recursive: true, force: true });
  }
  snap('end');
  if (code !== 0) {
    write(chunks.join(''));
    process.exit(code || 1);
  }
  const summary = JSON.parse(chunks.join(''));
  const p = phases;
  const epoch = summary.epochs[0];
  const stepsRun = k;
  const timedSteps = Math.max(0, k - warm);
  const epochMs = tLast - p.firstStep.t;
  const d = (a, b, key) => b[key] - a[key];
  const report = {
    benchmark: 'train-backed',
    command: `invae ${argv.join(' ')}`,
    file,
    fileMiB: mib(statSync(file).size),
    cells: summary.cells,
    genes: summary.genes,
    engine: summary.engine,
    workers: summary.workers,
    steps: stepsRun,
    fullEpoch: steps <= 0,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    cliPeakRssMiB: summary.peakRssMiB,
    rssMiB: { afterOpen: p.setupCalled.rssMiB, afterSetup: p.setupDone.rssMiB, atFirstStep: p.firstStep.rssMiB, atEnd: p.end.rssMiB },
    // before the first step: opening the file (obs, var), the workflow setup (count validation: one
    // pass over the file), then train's covariate encoding, sampler and first window of blocks
    secondsBeforeFirstStep: {
      open: +((p.setupCalled.t - p.start.t) / 1000).toFixed(1),
      setupWithValidationPass: +((p.setupDone.t - p.setupCalled.t) / 1000).toFixed(1),
      trainToFirstStep: +((p.firstStep.t - p.trainCalled.t) / 1000).toFixed(1),
      total: +((p.firstStep.t - p.start.t) / 1000).toFixed(1),
    },
    epochSeconds: epoch?.seconds ?? null,
    cellsPerSecondEpoch: epoch ? Math.round(epoch.cellsPerSecond) : null,
    cellsPerSecondSteady: timedSteps > 0 && p.warm ? Math.round(cellsTimed / ((tLast - p.warm.t) / 1000)) : null,
    totalSeconds: +((p.end.t - p.start.t) / 1000).toFixed(1),
    epochLoss: epoch?.loss ?? null,
    perStepMs: {
      total: stepsRun > 1 ? +(epochMs / (stepsRun - 1)).toFixed(2) : null,
      readRows: +((m.rowsMs - p.firstStep.rowsMs) / Math.max(1, stepsRun - 1)).toFixed(2),
      blockReads: +((m.blockMs - p.firstStep.blockMs) / Math.max(1, stepsRun - 1)).toFixed(2),
    },
    io: {
      validationPass: { blocksRead: d(p.setupCalled, p.setupDone, 'blocks'), bytesMiB: mib(d(p.setupCalled, p.setupDone, 'blockBytes')), rcharMiB: mib(d(p.setupCalled, p.setupDone, 'rchar')) },
      epoch: { blocksRead: d(p.firstStep, p.end, 'blocks'), bytesMiB: mib(d(p.firstStep, p.end, 'blockBytes')), rcharMiB: mib(d(p.firstStep, p.end, 'rchar')), deviceReadMiB: mib(d(p.firstStep, p.end, 'readBytes')) },
    },
  };
  writeFileSync(values.report, JSON.stringify(report));
}

/** Writes the file when missing (returns seconds, or null when reused) and runs the child on it. */
async function runSize(nCells) {
  const file = values.file && !values['fit-cells'] ? values.file : fileFor(nCells);
  let generateSeconds = null;
  if (!existsSync(file)) {
    process.stderr.write(`writing ${file} (${nCells} × ${nGenes}, density ${density}) ...\n`);
    generateSeconds = +(await generate(file, nCells)).toFixed(1);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'invae-bench-report-'));
  const reportFile = path.join(dir, 'report.json');
  const args = [fileURLToPath(import.meta.url), '--child', '--file', file, '--report', reportFile, '--steps', values.steps, '--warmup', values.warmup];
  if (values.workers) args.push('--workers', values.workers);
  if (values['batch-size']) args.push('--batch-size', values['batch-size']);
  process.stderr.write(`training one epoch on ${file} ...\n`);
  const res = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  if (res.status !== 0) {
    process.stderr.write(`training failed (exit ${res.status})\n${res.stdout}`);
    process.exit(1);
  }
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  return { ...report, generateSeconds };
}

/** Least-squares line through two or more points. */
function fit(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const b = sxy / sxx;
  return { a: my - b * mx, b };
}

if (values.child) {
  await child();
} else {
  const nCells = Number(values.cells);
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  const loadBefore = load();
  const runs = [];
  if (values['fit-cells']) runs.push(await runSize(Number(values['fit-cells'])));
  runs.push(await runSize(nCells));
  const main = runs.at(-1);
  const result = { ...main, loadAverageBefore: loadBefore, loadAverageAfter: load() };
  if (runs.length > 1 && runs.every((r) => r.fullEpoch)) {
    const N = Number(values.project);
    const xs = runs.map((r) => r.cells);
    const rss = fit(xs, runs.map((r) => r.peakRssMiB));
    const setup = fit(xs, runs.map((r) => r.secondsBeforeFirstStep.total));
    const cps = main.cellsPerSecondEpoch;
    result.projection = {
      cells: N,
      fittedOn: runs.map((r) => ({ cells: r.cells, peakRssMiB: r.peakRssMiB, secondsBeforeFirstStep: r.secondsBeforeFirstStep.total, cellsPerSecondEpoch: r.cellsPerSecondEpoch })),
      peakRss: { fixedMiB: Math.round(rss.a), bytesPerCell: Math.round(rss.b * 1048576), projectedMiB: Math.round(rss.a + rss.b * N) },
      secondsBeforeFirstStep: { fixed: +setup.a.toFixed(1), perMillionCells: +(setup.b * 1e6).toFixed(1), projected: Math.round(setup.a + setup.b * N) },
      epochSeconds: Math.round(N / cps),
    };
  }
  console.log(JSON.stringify(result, null, 2));
}
