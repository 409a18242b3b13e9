#!/usr/bin/env node
/**
 * Read-throughput benchmark of @invae/io-anndata (uses the built dist: run `npm run build` first).
 *
 *   node scripts/bench-io.mjs [--cells 100000] [--genes 2000] [--density 0.1] [--block 4096] [--compression 4]
 *                             [--file PATH] [--keep]
 *
 * Writes a synthetic CSR matrix (streamed, so the writer never holds it), then measures in separate child
 * processes (so peak RSS belongs to the read alone): a full readH5ad and a streaming pass over 4096-row blocks.
 * Prints one JSON object. Full reads are skipped when nnz * 8 bytes exceed --full-limit-gb (default 4).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '../dist/index.js');

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

const mode = arg('mode', 'main');
if (!fs.existsSync(dist)) {
  process.stderr.write(`bench-io: ${dist} is missing; build first: npx nx run io-anndata:build\n`);
  process.exit(1);
}

if (mode === 'read-full' || mode === 'read-blocks') {
  const { readH5ad, openH5ad } = await import(dist);
  const file = arg('file');
  const block = Number(arg('block', '4096'));
  const t0 = process.hrtime.bigint();
  let nnz = 0;
  let sum = 0;
  let rows = 0;
  if (mode === 'read-full') {
    const a = await readH5ad(file, { onWarning: () => {} });
    nnz = a.X.data.length;
    rows = a.nObs;
    for (let i = 0; i < a.X.data.length; i++) sum += a.X.data[i];
  } else {
    const b = await openH5ad(file);
    for (const blk of b.rowBlocks('X', block)) {
      nnz += blk.matrix.data.length;
      rows += blk.end - blk.start;
      for (let i = 0; i < blk.matrix.data.length; i++) sum += blk.matrix.data[i];
    }
    b.close();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ seconds, nnz, rows, sum, peakRssMB: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

const cells = Number(arg('cells', '100000'));
const genes = Number(arg('genes', '2000'));
const density = Number(arg('density', '0.1'));
const block = Number(arg('block', '4096'));
const compression = Number(arg('compression', '4'));
const fullLimitGB = Number(arg('full-limit-gb', '4'));
const file = arg('file') ?? path.join(os.tmpdir(), `invae-bench-${cells}x${genes}-${density}-c${compression}.h5ad`);

const { writeH5ad } = await import(dist);
const aq = await import('arquero');

if (!fs.existsSync(file)) {
  // deterministic generator: each row has ~density*genes distinct columns with small integer counts
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const perRow = Math.round(density * genes);
  function* blocks() {
    const genBlock = 8192;
    for (let r = 0; r < cells; r += genBlock) {
      const r1 = Math.min(cells, r + genBlock);
      const n = (r1 - r) * perRow;
      const data = new Float32Array(n);
      const indices = new Int32Array(n);
      const indptr = new Float64Array(r1 - r + 1);
      const stride = genes / perRow;
      let p = 0;
      for (let i = 0; i < r1 - r; i++) {
        for (let k = 0; k < perRow; k++) {
          indices[p] = Math.min(genes - 1, Math.floor(k * stride + rand() * stride));
          data[p] = 1 + Math.floor(rand() * 10);
          p++;
        }
        indptr[i + 1] = p;
      }
      yield { start: r, end: r1, matrix: { kind: 'csr', shape: [r1 - r, genes], dtype: 'float32', data, indices, indptr } };
    }
  }
  const frame = (n, prefix) => ({
    table: aq.table({ _index: Array.from({ length: n }, (_, i) => `${prefix}${i}`) }),
    indexName: '_index',
    columns: {},
  });
  const t0 = Date.now();
  await writeH5ad(
    file,
    { nObs: cells, nVars: genes, obs: frame(cells, 'c'), var: frame(genes, 'g'), layers: {}, obsm: {}, varm: {}, obsp: {}, varp: {}, uns: {} },
    { compression, streamX: { shape: [cells, genes], blocks } },
  );
  process.stderr.write(`wrote ${file} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

function child(m) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--mode', m, '--file', file, '--block', String(block)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) return { error: r.stderr.trim().split('\n').slice(-3).join(' ') };
  return JSON.parse(r.stdout);
}

const nnzEstimate = cells * Math.round(density * genes);
const uncompressedMB = (nnzEstimate * 8 + (cells + 1) * 4) / 2 ** 20;
const fileMB = fs.statSync(file).size / 2 ** 20;
const result = { file, cells, genes, density, nnz: nnzEstimate, compression, fileMB: +fileMB.toFixed(1), uncompressedMB: +uncompressedMB.toFixed(1) };
for (const m of ['read-full', 'read-blocks']) {
  if (m === 'read-full' && (nnzEstimate * 8) / 2 ** 30 > fullLimitGB) {
    result[m] = { skipped: `nnz*8 bytes exceed --full-limit-gb ${fullLimitGB}` };
    continue;
  }
  const r = child(m);
  if (r.error) result[m] = r;
  else
    result[m] = {
      seconds: +r.seconds.toFixed(3),
      MBps: +(uncompressedMB / r.seconds).toFixed(1),
      cellsPerSecond: Math.round(r.rows / r.seconds),
      peakRssMB: Math.round(r.peakRssMB),
      nnz: r.nnz,
      ...(m === 'read-blocks' ? { blockSize: block } : {}),
    };
}
if (!process.argv.includes('--keep') && !arg('file')) fs.rmSync(file, { force: true });
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
