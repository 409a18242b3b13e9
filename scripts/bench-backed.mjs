#!/usr/bin/env node
// Backed training at atlas scale: writes (once) a simulated .h5ad of N cells × G genes at a given
// density, streamed in row blocks (never whole in memory), then trains FinVAE on it with the counts
// streamed from disk (`--backed`) in a child process and reports its peak RSS and throughput as JSON.
// Usage: node scripts/bench-backed.mjs [--cells 1000000 --genes 2000 --density 0.1
//          --file /tmp/invae-backed-1M.h5ad --steps 400 --workers auto]
// --steps 0 trains one full epoch. The file is reused when it exists with the same shape.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    cells: { type: 'string', default: '1000000' },
    genes: { type: 'string', default: '2000' },
    density: { type: 'string', default: '0.1' },
    file: { type: 'string' },
    steps: { type: 'string', default: '400' },
    warmup: { type: 'string', default: '20' },
    workers: { type: 'string', default: 'auto' },
    'batch-size': { type: 'string', default: '256' },
    child: { type: 'boolean', default: false },
  },
});
const nCells = Number(values.cells);
const nGenes = Number(values.genes);
const density = Number(values.density);
const file = values.file ?? `/tmp/invae-backed-${nCells}x${nGenes}-d${density}.h5ad`;

/** Small fast PRNG (mulberry32) for the generator. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes the dataset: 6 cell types with 300 marker genes each, 4 batches scaling the counts; every
 * cell has round(density × genes) non-zero genes, half drawn from its type's markers.
 */
async function generate() {
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

/** Child: trains on the backed file, time-boxed by steps, and prints one JSON line. */
async function train() {
  const core = await import('@invae/core');
  const priors = await import('@invae/priors');
  const cli = await import('@invae/cli');
  const engine = await core.initEngine({ report: null });
  priors.registerBuiltinPriors();
  const t0 = performance.now();
  const backed = await cli.openBackedDataset(file);
  const data = backed.data;
  const w = core.Invae.setup(
    data,
    {
      model: 'FinVAE',
      invariant: { categorical: ['cell_type'] },
      spurious: { categorical: ['batch'] },
      options: { latentDimInv: 20, latentDimSpur: 5, hiddenDim: 128, nLayers: 2, batchNorm: true, dropoutRate: 0.1, seed: 0 },
    },
    { warn: () => {} },
  );
  const setupSeconds = (performance.now() - t0) / 1000;
  const steps = Number(values.steps);
  const warm = Number(values.warmup);
  const batchSize = Number(values['batch-size']);
  const ctl = new AbortController();
  let k = 0;
  let tWarm = 0;
  let tEnd = 0;
  let lossSum = 0;
  const h = await w.train(data, {
    epochs: 1,
    batchSize,
    seed: 0,
    workers: values.workers === 'auto' ? 'auto' : Number(values.workers),
    signal: ctl.signal,
    onStep: (r) => {
      k++;
      if (k === warm) tWarm = performance.now();
      if (k > warm) lossSum += r.loss;
      tEnd = performance.now();
      if (steps > 0 && k >= warm + steps) ctl.abort();
    },
  });
  const timed = Math.max(0, k - warm);
  const out = {
    benchmark: 'train-backed',
    file,
    cells: data.rows.nRows,
    genes: data.rows.nCols,
    engine: engine.engine,
    workers: h.workers,
    batchSize,
    setupSeconds: +setupSeconds.toFixed(1),
    stepsTimed: timed,
    fullEpoch: steps <= 0,
    cellsPerSecond: timed > 0 ? Math.round((timed * batchSize) / ((tEnd - tWarm) / 1000)) : null,
    meanLossTimed: timed > 0 ? +(lossSum / timed).toFixed(3) : null,
    epochLoss: h.epochs[0]?.loss ?? null,
    blocksRead: backed.rows.blocksRead,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  w.dispose();
  backed.close();
  console.log(JSON.stringify(out));
}

if (values.child) {
  await train();
} else {
  let generateSeconds = null;
  if (!existsSync(file)) {
    process.stderr.write(`writing ${file} (${nCells} × ${nGenes}, density ${density}) ...\n`);
    generateSeconds = +(await generate()).toFixed(1);
  }
  const args = [fileURLToPath(import.meta.url), '--child', '--file', file, '--steps', values.steps, '--warmup', values.warmup, '--workers', values.workers, '--batch-size', values['batch-size']];
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  if (child.status !== 0) {
    process.stderr.write(`training failed (exit ${child.status})\n${child.stdout}`);
    process.exit(1);
  }
  const result = JSON.parse(child.stdout.trim().split('\n').at(-1));
  console.log(JSON.stringify({ ...result, generateSeconds }, null, 2));
}
