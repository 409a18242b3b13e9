#!/usr/bin/env node
// Times the PCA baseline and the UMAP layouts of @invae/bench (built dist) and prints one JSON object per line.
// Usage: node scripts/bench-pca-umap.mjs [--h5ad FILE] [--comps 50] [--genes 0,2000] [--pca-methods auto]
//        [--umap-sizes 5000,20000,50000] [--umap-impls native] [--dims 10] [--backend wasm] [--skip pca|umap]
// PCA runs on the log-normalised counts of FILE (default ../shared/data/cellbench-lung-3cl.h5ad beside the
// repository), all genes (0) or the N most expressed; UMAP on synthetic clustered embeddings of each size,
// after an exact 15-NN search (timed apart, as the Benchmarker's neighbours are reused by `invae bench`).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { initEngine, Rng, fillNormal } from '@invae/core';

let bench;
let io;
try {
  bench = await import('../dist/index.js');
  io = await import('@invae/io-anndata');
} catch (err) {
  console.error(`bench-pca-umap needs the built packages (${err.message}). Run \`npm run build\` in packages/bench (and io-anndata) first.`);
  process.exit(1);
}

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : def;
};
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const h5ad = opt('h5ad', path.resolve(process.env.INVAE_SHARED_DIR ?? path.resolve(repoRoot, '../shared'), 'data/cellbench-lung-3cl.h5ad'));
const comps = Number(opt('comps', '50'));
const geneCounts = opt('genes', '0,2000').split(',').map(Number);
const pcaMethods = opt('pca-methods', 'auto').split(',');
const sizes = opt('umap-sizes', '5000,20000,50000').split(',').map(Number);
const impls = opt('umap-impls', 'native').split(',');
const dims = Number(opt('dims', '10'));
const skip = opt('skip', '');
await initEngine({ backend: opt('backend', 'wasm'), report: null });

const cpuSeconds = (c0) => {
  const c = process.cpuUsage(c0);
  return +((c.user + c.system) / 1e6).toFixed(2);
};

if (skip !== 'pca') {
  const adata = await io.readH5ad(h5ad, { X: true, requireX: true });
  const X = adata.X;
  if (!X || X.kind !== 'csr') throw new Error(`${h5ad}: this script reads a CSR X, got ${X ? X.kind : 'none'}.`);
  const [n, g] = X.shape;
  const all = { nRows: n, nCols: g, indptr: X.indptr, indices: X.indices, data: X.data };
  for (const keep of geneCounts) {
    let counts = all;
    if (keep > 0 && keep < g) {
      // The `keep` genes with the largest total counts, in their original order.
      const tot = new Float64Array(g);
      for (let p = 0; p < X.data.length; p++) tot[X.indices[p]] += X.data[p];
      const chosen = Array.from({ length: g }, (_, j) => j).sort((a, b) => tot[b] - tot[a]).slice(0, keep).sort((a, b) => a - b);
      const map = new Int32Array(g).fill(-1);
      chosen.forEach((j, k) => (map[j] = k));
      const ip = [0];
      const ix = [];
      const dv = [];
      for (let i = 0; i < n; i++) {
        for (let p = X.indptr[i]; p < X.indptr[i + 1]; p++) if (map[X.indices[p]] >= 0) (ix.push(map[X.indices[p]]), dv.push(X.data[p]));
        ip.push(ix.length);
      }
      counts = { nRows: n, nCols: keep, indptr: Int32Array.from(ip), indices: Int32Array.from(ix), data: Float64Array.from(dv) };
    }
    const x = bench.logNormalize(counts);
    for (const method of pcaMethods) {
      const t = performance.now();
      const c0 = process.cpuUsage();
      const r = bench.pca(x, Math.min(comps, n - 1, x.nCols), { method });
      console.log(
        JSON.stringify({
          bench: 'pca',
          file: path.basename(h5ad),
          cells: n,
          genes: x.nCols,
          comps: r.explainedVariance.length,
          method,
          seconds: +((performance.now() - t) / 1000).toFixed(2),
          cpuSeconds: cpuSeconds(c0),
          explainedVarianceRatio: +r.explainedVarianceRatio.reduce((a, b) => a + b, 0).toFixed(6),
        }),
      );
    }
  }
}

if (skip !== 'umap') {
  for (const n of sizes) {
    // Twelve clusters of unequal sizes and spreads.
    const rng = new Rng(1);
    const nc = 12;
    const centres = fillNormal(rng, nc * dims, 0, 4);
    const noise = fillNormal(rng, n * dims, 0, 1);
    const data = new Float64Array(n * dims);
    for (let i = 0; i < n; i++) {
      const l = Math.min(nc - 1, Math.floor(nc * rng.uniform() ** 1.5));
      for (let j = 0; j < dims; j++) data[i * dims + j] = centres[l * dims + j] + noise[i * dims + j] * (0.5 + 0.1 * l);
    }
    const x = { data, nRows: n, nCols: dims };
    let t = performance.now();
    const nn = bench.exactNeighbors(x, 15);
    const knnSeconds = +((performance.now() - t) / 1000).toFixed(2);
    for (const implementation of impls) {
      t = performance.now();
      const c0 = process.cpuUsage();
      const u = bench.umapEmbedding(x, { neighbors: nn, seed: 0, implementation });
      console.log(
        JSON.stringify({
          bench: 'umap',
          points: n,
          dims,
          implementation,
          init: u.init,
          epochs: u.nEpochs,
          knnSeconds,
          seconds: +((performance.now() - t) / 1000).toFixed(2),
          cpuSeconds: cpuSeconds(c0),
        }),
      );
    }
  }
}
