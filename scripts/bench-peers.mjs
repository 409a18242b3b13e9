#!/usr/bin/env node
// Peers in the same run: Seurat v4 CCA integration (R, Debian's r-cran-seurat) computed as an external
// embedding, stored in obsm['X_seurat'] of a copy of the file, then `invae bench` scores it next to
// PCA, scVI-equivalent, FinVAE and NFinVAE with the same metric code. Prints JSON.
//
// Usage: npm run bench:peers -- --file F.h5ad --batch KEY --label KEY --out DIR
//          [--methods pca,scvi,finvae,nfinvae] [--seeds 0] [--epochs N] [--n-top-genes N] [--layer NAME]
//          [--r-timeout SECONDS] [--no-install] [--lobo] [--umap]
//
// The counts (X or --layer) are exported as MatrixMarket (genes × cells) with genes/cells/batches
// lists to a temporary folder; scripts/seurat-cca.R integrates them. Where `library(Seurat)` fails,
// the script installs r-cran-seurat with apt-get (as root; --no-install makes that an error instead).
// The input file is never modified; DIR receives peers.h5ad (the copy), seurat-cca.tsv, bench-seed<S>/
// (one `invae bench` output per seed) and peers.json (the printed summary).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { frameIndex, readH5ad, updateH5ad } from '@invae/io-anndata';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const R_SCRIPT = path.join(root, 'scripts', 'seurat-cca.R');
const CLI = path.join(root, 'packages', 'cli', 'dist', 'bin.js');
const KEY = 'X_seurat';
const NAME = 'Seurat v4 CCA';

/** A user-facing failure: message and hint, exit 1, no stack trace. */
class PeersError extends Error {
  constructor(message, hint) {
    super(message);
    this.hint = hint;
  }
}

function fail(e) {
  if (e instanceof PeersError) {
    process.stderr.write(`bench-peers: error: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
  } else process.stderr.write(`bench-peers: error: ${e?.stack ?? e}\n`);
  process.exit(1);
}

function log(m) {
  process.stderr.write(`[bench-peers] ${m}\n`);
}

function parse() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        file: { type: 'string' },
        batch: { type: 'string' },
        label: { type: 'string' },
        out: { type: 'string' },
        methods: { type: 'string', default: 'pca,scvi,finvae,nfinvae' },
        seeds: { type: 'string', default: '0' },
        epochs: { type: 'string' },
        'n-top-genes': { type: 'string' },
        layer: { type: 'string' },
        'n-features': { type: 'string', default: '2000' },
        'n-pcs': { type: 'string', default: '30' },
        'r-timeout': { type: 'string', default: '3600' },
        'bench-timeout': { type: 'string', default: '21600' },
        'no-install': { type: 'boolean', default: false },
        lobo: { type: 'boolean', default: false },
        umap: { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    throw new PeersError(e.message, 'usage: npm run bench:peers -- --file F.h5ad --batch KEY --label KEY --out DIR [--methods …] [--seeds 0,1]');
  }
  for (const k of ['file', 'batch', 'label', 'out']) if (!values[k]) throw new PeersError(`--${k} is required.`, 'usage: npm run bench:peers -- --file F.h5ad --batch KEY --label KEY --out DIR');
  const int = (k, min) => {
    const v = Number(values[k]);
    if (!Number.isSafeInteger(v) || v < min) throw new PeersError(`--${k} must be an integer ≥ ${min}, got '${values[k]}'.`);
    return v;
  };
  const seeds = values.seeds.split(',').map((s) => s.trim());
  if (!seeds.length || seeds.some((s) => !/^\d+$/.test(s))) throw new PeersError(`--seeds must be comma-separated non-negative integers, got '${values.seeds}'.`);
  return {
    file: path.resolve(values.file),
    batch: values.batch,
    label: values.label,
    out: path.resolve(values.out),
    methods: values.methods,
    seeds: seeds.map(Number),
    epochs: values.epochs === undefined ? undefined : int('epochs', 1),
    nTopGenes: values['n-top-genes'] === undefined ? undefined : int('n-top-genes', 0),
    layer: values.layer,
    nFeatures: int('n-features', 10),
    nPcs: int('n-pcs', 2),
    rTimeout: int('r-timeout', 1),
    benchTimeout: int('bench-timeout', 1),
    install: !values['no-install'],
    lobo: values.lobo,
    umap: values.umap,
  };
}

/** Runs a command with a time limit; resolves with its exit code and the tail of stderr. Output is echoed to stderr. */
function runWithTimeout(cmd, args, seconds, what) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let tail = '';
    let stdout = '';
    const keep = (d) => {
      tail = (tail + d).slice(-4000);
      process.stderr.write(d);
    };
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGTERM');
        setTimeout(() => {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {}
        }, 5000).unref();
      } catch {}
    }, seconds * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' ? new PeersError(`${cmd} was not found (${what}).`, cmd === 'Rscript' ? 'install R and Seurat: apt-get install r-cran-seurat' : undefined) : e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new PeersError(`${what} did not finish within ${seconds} s and was stopped.`, 'raise the limit (--r-timeout / --bench-timeout) or use fewer cells'));
      else resolve({ code, signal, tail, stdout });
    });
  });
}

function hasSeurat() {
  const r = spawnSync('Rscript', ['-e', 'suppressPackageStartupMessages(library(Seurat)); cat(as.character(packageVersion("Seurat")))'], { encoding: 'utf8', timeout: 300_000 });
  if (r.error) return { ok: false, why: r.error.code === 'ENOENT' ? 'Rscript is not installed' : String(r.error.message) };
  return r.status === 0 ? { ok: true, version: r.stdout.trim() } : { ok: false, why: (r.stderr || '').trim().split('\n').slice(-2).join(' ') };
}

/** Makes Seurat available: checks `library(Seurat)`, else installs Debian's r-cran-seurat with apt-get (root only). */
function ensureSeurat(install) {
  let s = hasSeurat();
  if (s.ok) return s.version;
  if (!install) throw new PeersError(`R's Seurat is not available (${s.why}).`, 'install it (apt-get install r-cran-seurat) or drop --no-install');
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new PeersError(`R's Seurat is not available (${s.why}) and installing it needs root.`, 'run: sudo apt-get update && sudo apt-get install -y --no-install-recommends r-cran-seurat');
  }
  log(`Seurat missing (${s.why}); installing r-cran-seurat with apt-get (this takes a while)`);
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'r-cran-seurat']]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 3_600_000 });
    if (r.error || r.status !== 0) throw new PeersError(`apt-get ${args[0]} failed (${r.error?.message ?? `exit ${r.status}`}).`, 'install r-cran-seurat by hand');
  }
  s = hasSeurat();
  if (!s.ok) throw new PeersError(`Seurat still does not load after installing r-cran-seurat (${s.why}).`);
  return s.version;
}

/** Writes the counts as MatrixMarket (genes × cells) plus genes/cells/batches lists; returns the shape. */
async function exportCounts(file, layer, batchKey, dir) {
  const ad = await readH5ad(file, { X: !layer, requireX: !layer, layers: Boolean(layer) });
  const m = layer ? ad.layers[layer] : ad.X;
  if (!m) throw new PeersError(`${file} has no ${layer ? `layer '${layer}'` : 'X'}.`, `layers: ${Object.keys(ad.layers).join(', ') || 'none'}`);
  const names = Object.keys(ad.obs.columns);
  if (!names.includes(batchKey)) throw new PeersError(`${file} has no obs column '${batchKey}' (obs: ${names.join(', ')}).`);
  const batches = ad.obs.table.array(batchKey).map((v) => (v === null || v === undefined ? '' : String(v)));
  const missing = batches.indexOf('');
  if (missing >= 0) throw new PeersError(`obs['${batchKey}'] has a missing value at cell ${missing}.`);
  const [nCells, nGenes] = m.shape;
  const entries = [];
  const push = (i, j, v) => {
    if (v === 0) return;
    if (!(v >= 0) || v !== Math.round(v)) throw new PeersError(`the counts have a non-integer or negative value ${v} (cell ${i}, gene ${j}); Seurat needs raw counts.`, 'name the raw counts with --layer');
    entries.push(`${j + 1} ${i + 1} ${v}`);
  };
  if (m.kind === 'csr') for (let i = 0; i < nCells; i++) for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) push(i, m.indices[p], m.data[p]);
  else if (m.kind === 'csc') for (let j = 0; j < nGenes; j++) for (let p = m.indptr[j]; p < m.indptr[j + 1]; p++) push(m.indices[p], j, m.data[p]);
  else for (let i = 0; i < nCells; i++) for (let j = 0; j < nGenes; j++) push(i, j, m.data[i * nGenes + j]);
  const clean = (s) => String(s).replace(/[\t\r\n]/g, ' ');
  const cells = frameIndex(ad.obs);
  fs.writeFileSync(path.join(dir, 'matrix.mtx'), `%%MatrixMarket matrix coordinate integer general\n${nGenes} ${nCells} ${entries.length}\n${entries.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'genes.tsv'), `${frameIndex(ad.var).map(clean).join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'cells.tsv'), `${cells.map(clean).join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'batches.tsv'), `${batches.map(clean).join('\n')}\n`);
  return { nCells, nGenes, nnz: entries.length, cells: cells.map(clean), nBatches: new Set(batches).size };
}

/** Reads the R script's tsv (header, then cell name + values per line) as a cells × dims float32 matrix in the expected cell order. */
function readEmbedding(tsv, cells) {
  const lines = fs.readFileSync(tsv, 'utf8').split('\n').filter((l) => l.length);
  const dims = lines[0].split('\t').length - 1;
  if (lines.length - 1 !== cells.length) throw new PeersError(`${tsv} has ${lines.length - 1} rows for ${cells.length} cells.`);
  const data = new Float32Array(cells.length * dims);
  lines.slice(1).forEach((l, i) => {
    const f = l.split('\t');
    if (f[0] !== cells[i]) throw new PeersError(`${tsv} row ${i + 1} is cell '${f[0]}', expected '${cells[i]}'.`);
    for (let d = 0; d < dims; d++) {
      const v = Number(f[d + 1]);
      if (!Number.isFinite(v)) throw new PeersError(`${tsv} has a non-finite value at cell ${i}, dimension ${d}.`);
      data[i * dims + d] = v;
    }
  });
  return { data, dims };
}

async function main() {
  const o = parse();
  if (!fs.existsSync(o.file)) throw new PeersError(`${o.file} does not exist.`);
  if (!fs.existsSync(CLI)) throw new PeersError(`${CLI} is not built.`, 'run npm run build first (npm run bench:peers builds)');
  fs.mkdirSync(o.out, { recursive: true });
  const copy = path.join(o.out, 'peers.h5ad');
  if (path.resolve(copy) === o.file) throw new PeersError('--out would overwrite the input file.');
  const seuratVersion = ensureSeurat(o.install);
  const t0 = performance.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-peers-'));
  let shape;
  let seuratSeconds;
  try {
    shape = await exportCounts(o.file, o.layer, o.batch, work);
    log(`exported ${shape.nCells} cells × ${shape.nGenes} genes (${shape.nnz} non-zeros, ${shape.nBatches} batches) to ${work}`);
    const tsv = path.join(o.out, 'seurat-cca.tsv');
    const t = performance.now();
    const r = await runWithTimeout('Rscript', [R_SCRIPT, work, tsv, String(o.nFeatures), String(o.nPcs)], o.rTimeout, 'Seurat CCA integration (Rscript)');
    seuratSeconds = (performance.now() - t) / 1000;
    if (r.code !== 0) throw new PeersError(`Seurat CCA integration failed (Rscript exit ${r.code ?? r.signal}): ${r.tail.trim().split('\n').slice(-3).join(' | ')}`);
    const emb = readEmbedding(tsv, shape.cells);
    // The copy gets obsm['X_seurat']; written under a temporary name, then renamed.
    const tmp = path.join(o.out, `.peers.${process.pid}.h5ad.tmp`);
    fs.copyFileSync(o.file, tmp);
    try {
      await updateH5ad(tmp, { obsm: { [KEY]: { kind: 'dense', shape: [shape.nCells, emb.dims], dtype: 'float32', data: emb.data } } });
      fs.renameSync(tmp, copy);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    log(`Seurat CCA: ${emb.dims} PCs of the integrated assay in ${seuratSeconds.toFixed(1)} s → obsm['${KEY}'] of ${copy}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }

  const runs = [];
  for (const seed of o.seeds) {
    const dir = path.join(o.out, `bench-seed${seed}`);
    const args = [CLI, 'bench', copy, '--batch', o.batch, '--label', o.label, '--out', dir, '--embeddings', KEY, '--methods', o.methods, '--seed', String(seed), '--quiet', '--overwrite'];
    if (o.epochs !== undefined) args.push('--epochs', String(o.epochs));
    if (o.nTopGenes !== undefined) args.push('--n-top-genes', String(o.nTopGenes));
    if (o.layer) args.push('--layer', o.layer);
    if (!o.umap) args.push('--no-umap');
    if (!o.lobo) args.push('--no-lobo');
    log(`invae ${args.slice(1).join(' ')}`);
    const t = performance.now();
    const r = await runWithTimeout(process.execPath, args, o.benchTimeout, `invae bench (seed ${seed})`);
    if (r.code !== 0) throw new PeersError(`invae bench failed for seed ${seed} (exit ${r.code ?? r.signal}): ${r.tail.trim().split('\n').slice(-3).join(' | ')}`);
    const res = JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8'));
    runs.push({ seed, seconds: (performance.now() - t) / 1000, dir, results: res });
  }
  // Per method: aggregates per seed and their mean.
  const methods = {};
  for (const run of runs) {
    for (const m of run.results.methods) {
      const name = m.embedding === KEY ? NAME : m.embedding;
      methods[name] ??= { perSeed: {} };
      methods[name].perSeed[run.seed] = { batch: m.aggregates['Batch correction'], bio: m.aggregates['Bio conservation'], total: m.aggregates.Total };
    }
  }
  const mean = (xs) => (xs.some((x) => x === null || x === undefined) ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
  for (const v of Object.values(methods)) {
    const s = Object.values(v.perSeed);
    v.mean = { batch: mean(s.map((x) => x.batch)), bio: mean(s.map((x) => x.bio)), total: mean(s.map((x) => x.total)) };
  }
  const first = runs[0].results;
  const summary = {
    file: o.file,
    batchKey: o.batch,
    labelKey: o.label,
    cells: shape.nCells,
    genesInFile: shape.nGenes,
    genesBenchmarked: first.dataset?.nGenes ?? null,
    geneSelection: first.dataset?.geneSelection ?? null,
    seeds: o.seeds,
    seurat: { version: seuratVersion, key: KEY, method: `NormalizeData, FindVariableFeatures(vst, ${o.nFeatures}) per batch; FindIntegrationAnchors(cca); IntegrateData; ScaleData; RunPCA(${o.nPcs})`, seconds: seuratSeconds },
    methods,
    runs: runs.map((r) => ({ seed: r.seed, dir: r.dir, seconds: r.seconds })),
    output: { copy, dir: o.out },
    seconds: (performance.now() - t0) / 1000,
  };
  const text = `${JSON.stringify(summary, null, 2)}\n`;
  fs.writeFileSync(path.join(o.out, 'peers.json'), text);
  process.stdout.write(text);
}

main().catch(fail);
