#!/usr/bin/env node
// Generates the benchmark results page (src/benchmarks/index.md) from benchmark runs — never from
// numbers written by hand. Source, in order:
//   1. the results of `npm run bench:ci` (reports/bench-ci/**/results.json, or INVAE_BENCH_RESULTS);
//   2. otherwise a small `invae bench` run on a dataset simulated by `invae simulate`, done here.
// Pictures next to the results (results.svg, UMAP plots) are copied to src/public/benchmarks/.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchResultsRoot, findBenchResults } from './bench-source.mjs';
import { docsRoot, fail, generated, mdCode, mdText, repoRoot, resetDir, writeFileAtomic } from './lib.mjs';

const CLI = path.join(repoRoot, 'packages', 'cli', 'bin', 'invae.js');

/** The fallback run: small enough for a docs build (~1 min on 2 cores), large enough for every metric. */
export const SIMULATED_RUN = {
  simulate: ['simulate', '--cells', '800', '--genes', '200', '--batches', '3', '--cell-types', '4', '--seed', '0'],
  bench: ['--batch', 'batch', '--label', 'cell_type', '--methods', 'pca,scvi,finvae', '--epochs', '20', '--seed', '0', '--quiet'],
};

function invae(args, what) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: repoRoot, env: { ...process.env, INVAE_BACKEND: process.env.INVAE_BACKEND || 'wasm' } });
  if (r.status !== 0) fail(`${what} failed (exit ${r.status}):\n${r.stderr || r.stdout}`, 'build the packages first: npx nx run-many -t build');
  return r;
}

/** Runs the fallback benchmark in a temporary folder; returns its results set and a cleanup function. */
function simulatedRun() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'invae-docs-bench-'));
  const sim = path.join(dir, 'simulated.h5ad');
  const out = path.join(dir, 'simulated');
  invae([...SIMULATED_RUN.simulate, '--out', sim], 'invae simulate');
  invae(['bench', sim, ...SIMULATED_RUN.bench, '--out', out], 'invae bench');
  const b = SIMULATED_RUN.bench;
  const command = `invae ${SIMULATED_RUN.simulate.join(' ')} --out simulated.h5ad\ninvae bench simulated.h5ad ${b.slice(0, 4).join(' ')} \\\n  ${b.slice(4).join(' ')} --out simulated`;
  const set = findBenchResults(out)[0];
  if (!set) fail(`invae bench wrote no results.json in ${out}`);
  return { set: { ...set, command }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const AGGREGATES = ['Batch correction', 'Bio conservation', 'Total'];

function fmt(v) {
  return v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v).toFixed(3);
}

function slug(s) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'results';
}

/** Validates the part of results.json (schema invae.bench.results/1) the page reads. */
function readResults(file) {
  let r;
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    fail(`${path.relative(repoRoot, file)} is not valid JSON (${e.message})`, 'rerun the benchmark that wrote it');
  }
  if (typeof r?.schema !== 'string' || !r.schema.startsWith('invae.bench.results/') || !Array.isArray(r.methods) || !r.metricTypes) {
    fail(`${path.relative(repoRoot, file)} is not an invae bench results file (schema invae.bench.results/1)`, 'point INVAE_BENCH_RESULTS at the output folder of invae bench or npm run bench:ci');
  }
  return r;
}

/**
 * Tables of the optional parts of results.json, when the run computed them: leave-one-batch-out
 * invariant prediction and identifiability against the simulation's true latents.
 */
function optionalSections(r, order, id) {
  const out = [];
  const byOrder = (obj) => [...order.filter((k) => k in obj), ...Object.keys(obj).filter((k) => !order.includes(k))];
  const ip = r.invariantPrediction;
  if (ip && ip.methods && typeof ip.methods === 'object' && !Array.isArray(ip.methods)) {
    out.push(`### Invariant prediction of \`${mdText(ip.label ?? 'label')}\` (leave one batch out) {#${id}-lobo}`, '');
    if (ip.protocol) out.push(mdText(ip.protocol), '');
    out.push('| Method | Predictor | Accuracy | Macro-F1 |', '| --- | --- | ---: | ---: |');
    for (const k of byOrder(ip.methods)) {
      const m = ip.methods[k];
      out.push(`| ${mdText(k)} | ${mdText(m?.classifier ?? '')} | ${fmt(m?.mean?.accuracy)} | ${fmt(m?.mean?.macroF1)} |`);
    }
    out.push('');
  }
  const idf = r.identifiability;
  if (idf && idf.methods && typeof idf.methods === 'object') {
    out.push(`### Identifiability against \`obsm['${mdText(idf.truthKey ?? '?')}']\` {#${id}-identifiability}`, '');
    out.push('Mean correlation coefficient (absolute correlations matched one-to-one, Hungarian algorithm) and linear R², as inVAE\'s simulations report.', '');
    out.push('| Method | MCC (Pearson) | MCC (Spearman) | Linear R² |', '| --- | ---: | ---: | ---: |');
    for (const k of byOrder(idf.methods)) {
      const m = idf.methods[k];
      out.push(`| ${mdText(k)} | ${fmt(m?.mccPearson)} | ${fmt(m?.mccSpearman)} | ${fmt(m?.linearR2)} |`);
    }
    out.push('');
  }
  if (r.environment && typeof r.environment === 'object') {
    out.push(`Run with ${Object.entries(r.environment).map(([k, v]) => `${mdText(k)} ${mdText(v)}`).join(' · ')}.`, '');
  }
  return out;
}

/** The Markdown section of one results set; copies its pictures into the public folder. */
function section(set, index) {
  const rel = path.relative(repoRoot, set.dir) || '.';
  const ds = set.json ? readResults(set.json).dataset : null;
  const file = typeof ds === 'string' ? ds : ds?.file;
  const name = set.name ?? path.basename(set.dir);
  const id = `${slug(name)}-${index + 1}`;
  const lines = [`## ${mdText(name)} {#${id}}`, ''];
  const when = new Date(statSync(set.json ?? set.md).mtimeMs).toISOString().slice(0, 16).replace('T', ' ');
  if (set.json) {
    const r = readResults(set.json);
    const metrics = Object.keys(r.metricTypes);
    const sorted = [...r.methods].sort((a, b) => (b.aggregates?.Total ?? -Infinity) - (a.aggregates?.Total ?? -Infinity));
    lines.push(
      `${file ? `${mdCode(file)}: ` : ''}${r.nCells} cells, ${r.nLabels} labels, ${r.nBatches} batches · scib-metrics ${mdText(r.scibMetrics ?? '?')} definitions · scale: ${mdText(r.scale ?? 'none')} · ` +
        (set.command ? `source: a run made while the docs were built (${when} UTC; command below)` : `source: ${mdCode(`${rel}/results.json`)} (${when} UTC)`),
      '',
    );
    const best = sorted[0];
    if (best) {
      const others = sorted.slice(1).map((m) => `${mdText(m.embedding)} ${fmt(m.aggregates?.Total)}`);
      lines.push(`Highest **Total**: **${mdText(best.embedding)}** (${fmt(best.aggregates?.Total)})${others.length ? `; then ${others.join(', ')}` : ''}.`, '');
    }
    // Aggregates: one row per method. Metrics: one row per metric, one column per method (a table of
    // ten metric columns would not fit the page).
    lines.push(`| Method | ${AGGREGATES.map(mdText).join(' | ')} |`, `| --- | ${AGGREGATES.map(() => '---:').join(' | ')} |`);
    for (const m of sorted) lines.push(`| ${mdText(m.embedding)} | ${AGGREGATES.map((k) => fmt(m.aggregates?.[k])).join(' | ')} |`);
    lines.push('', 'Total = 0.4 × Batch correction + 0.6 × Bio conservation (each the mean of its metrics).', '');
    lines.push(`| Metric | Family | ${sorted.map((m) => mdText(m.embedding)).join(' | ')} |`, `| --- | --- | ${sorted.map(() => '---:').join(' | ')} |`);
    for (const k of metrics) lines.push(`| ${mdText(k)} | ${mdText(r.metricTypes[k])} | ${sorted.map((m) => fmt(m.metrics?.[k])).join(' | ')} |`);
    lines.push('', '`–`: not computable for this data (e.g. iLISI with one batch).', '');
    lines.push(...optionalSections(r, sorted.map((m) => m.embedding), id));
    const train = r.trainingSeconds ? Object.entries(r.trainingSeconds) : [];
    const metricSeconds = r.methods.map((m) => [m.embedding, Object.values(m.seconds ?? {}).reduce((a, b) => a + b, 0)]);
    if (train.length || metricSeconds.length) {
      lines.push(
        `Seconds — metrics: ${metricSeconds.map(([k, v]) => `${mdText(k)} ${v.toFixed(1)}`).join(', ')}` +
          (train.length ? `; training: ${train.map(([k, v]) => `${mdText(k)} ${Number(v).toFixed(1)}`).join(', ')}` : '') +
          '.',
        '',
      );
    }
  } else {
    lines.push(`source: ${mdCode(`${rel}/results.md`)} (${when} UTC)`, '', readFileSync(set.md, 'utf8').replace(/\{\{/g, '&#123;&#123;'), '');
  }
  const assets = path.join(generated.benchmarkAssets, id);
  const pictures = [set.table, ...set.umaps].filter(Boolean);
  if (pictures.length) mkdirSync(assets, { recursive: true });
  if (set.table) {
    copyFileSync(set.table, path.join(assets, 'results.svg'));
    lines.push(`![scib-metrics style results table of ${mdText(name)}](/benchmarks/${id}/results.svg){.bench-table}`, '');
  }
  if (set.umaps.length) {
    // Methods in the order of the table (best Total first), batch before label.
    const order = set.json ? [...readResults(set.json).methods].sort((a, b) => (b.aggregates?.Total ?? -Infinity) - (a.aggregates?.Total ?? -Infinity)).map((m) => m.embedding) : [];
    const rank = (f) => {
      const m = /^umap_(.+)_([^_]+)\.(?:png|svg)$/i.exec(path.basename(f));
      const i = m ? order.indexOf(m[1]) : -1;
      return (i < 0 ? order.length : i) * 2 + (m && m[2] === 'label' ? 1 : 0);
    };
    const umaps = [...set.umaps].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    lines.push('### UMAP of each embedding', '', '<div class="bench-umaps">', '');
    for (const f of umaps) {
      const base = path.basename(f);
      copyFileSync(f, path.join(assets, base));
      const m = /^umap_(.+)_([^_]+)\.(?:png|svg)$/i.exec(base);
      const alt = m ? `UMAP of ${m[1]}, coloured by ${m[2]}` : base;
      lines.push(`<img class="umap" src="/benchmarks/${id}/${base}" alt="${mdText(alt)}" title="${mdText(alt)}" loading="lazy">`, '');
    }
    lines.push('</div>', '');
  }
  if (set.command) lines.push('Reproduce with:', '', '```sh', set.command, '```', '');
  return lines.join('\n');
}

/** Writes src/benchmarks/index.md; returns a description of its source. */
export function generateBenchPage() {
  resetDir(generated.benchmarks);
  resetDir(generated.benchmarkAssets);
  let sets = findBenchResults();
  let cleanup = () => {};
  let origin;
  if (sets.length) {
    const where = process.env.INVAE_BENCH_RESULTS ? `the folder named by INVAE_BENCH_RESULTS (\`${path.relative(repoRoot, benchResultsRoot())}\`)` : '`reports/bench-ci/`';
    origin = `the results of \`npm run bench:ci\` (${sets.length} run${sets.length > 1 ? 's' : ''} found in ${where})`;
  } else {
    const run = simulatedRun();
    sets = [{ ...run.set, name: 'Simulated data (docs build)' }];
    cleanup = run.cleanup;
    origin = 'a small `invae bench` run on simulated data, done while the docs were built, because no `npm run bench:ci` results were found (`reports/bench-ci/`)';
  }
  try {
    const md = [
      '---',
      'title: Benchmark results',
      'outline: [2, 3]',
      'aside: false',
      '---',
      '<!-- Generated by apps/docs/scripts/bench-page.mjs from benchmark results. Do not edit. -->',
      '',
      '# Benchmark results',
      '',
      `This page is generated at docs build time from ${origin}. Every number below is read from the`,
      '`results.json` that `invae bench` wrote; nothing is typed in by hand. Methods are sorted by Total.',
      'To score your own data, see the tutorial [Benchmark against Python-computed embeddings](../tutorials/benchmark.md).',
      '',
      ...sets.map((s, i) => section(s, i)),
    ].join('\n');
    writeFileAtomic(path.join(generated.benchmarks, 'index.md'), md);
  } finally {
    cleanup();
  }
  return origin;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!existsSync(CLI)) fail(`${CLI} is missing`);
  const t0 = performance.now();
  const origin = generateBenchPage();
  process.stdout.write(`benchmark page: from ${origin.replace(/`/g, '')} (${((performance.now() - t0) / 1000).toFixed(1)} s) in ${path.relative(docsRoot, generated.benchmarks)}\n`);
}
