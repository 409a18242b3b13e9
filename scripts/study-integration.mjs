#!/usr/bin/env node
// Integration study (issue 14): which inVAE design integrates real data? Trains every configuration
// of the design space on every dataset with several seeds, scores each latent with the same
// scib-metrics code as `invae bench` (plus leave-one-batch-out accuracy of the invariant predictor and,
// on simulated data, identifiability against the true latents), and prints JSON; a markdown table of
// mean ± sd per configuration is written beside the JSON.
//
// Usage: npm run study:integration -- [--datasets cellbench,paul15,sim] [--configs a,b] [--seeds 0,1,2]
//          [--epochs N] [--n-top-genes 2000] [--out reports/study-integration] [--list]
//          [--report-only] [--docs apps/docs/src/benchmarks/integration-study.md]
// Each (dataset, configuration, seed) result is cached as one JSON file in --out/cells/, so an
// interrupted study resumes where it stopped; --fresh recomputes. --report-only trains nothing and
// summarises every cached result in --out/cells (e.g. runs made with different --epochs per dataset);
// --docs also writes the summary as the docs' integration-study page.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Invae, initEngine, simulate, csrMatrix, denseMatrix, denseToCsr } from '@invae/core';
import { registerBuiltinPriors } from '@invae/priors';
import { readH5ad, frameIndex } from '@invae/io-anndata';
import {
  Benchmarker,
  highlyVariableGenesSeuratV3,
  subsetColumns,
  pca,
  logNormalize,
  leaveOneBatchOut,
  leaveOneBatchOutFolds,
  meanCorrelationCoefficient,
  linearR2,
} from '@invae/bench';
import { STUDY_CONFIGS, setupFor, trainOptionsFor } from './study-configs.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    datasets: { type: 'string', default: 'cellbench,paul15,sim' },
    configs: { type: 'string' },
    seeds: { type: 'string', default: '0,1,2' },
    epochs: { type: 'string' },
    'n-top-genes': { type: 'string', default: '2000' },
    out: { type: 'string', default: path.join(repoRoot, 'reports/study-integration') },
    shared: { type: 'string' },
    fresh: { type: 'boolean', default: false },
    'report-only': { type: 'boolean', default: false },
    docs: { type: 'string' },
    list: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

if (values.list) {
  for (const c of STUDY_CONFIGS) process.stdout.write(`${c.name.padEnd(28)} ${c.description}\n`);
  process.exit(0);
}

const log = (m) => {
  if (!values.quiet) process.stderr.write(`${m}\n`);
};
const sharedDir = path.resolve(values.shared ?? process.env.INVAE_SHARED ?? path.join(repoRoot, '../shared'));
const DATASETS = {
  cellbench: { file: 'data/cellbench-lung-3cl.h5ad', batch: 'batch', label: 'cell_line', title: 'CellBench lung (3 lines × CEL-seq2/Drop-seq)' },
  paul15: { file: 'data/paul15-hematopoiesis.h5ad', batch: 'batch', label: 'cell_type', title: 'Paul15 hematopoiesis (19 clusters × 8 plates)' },
  sim: { simulated: true, batch: 'batch', label: 'cell_type', invariant: ['cell_type', 'disease'], title: 'simulator defaults (2,000 cells × 500 genes, 3 batches)' },
};

function toCsr(m) {
  if (m.kind === 'csr') return csrMatrix(m.shape[0], m.shape[1], m.indptr, m.indices, m.data);
  if (m.kind === 'dense') return denseToCsr(denseMatrix(m.shape[0], m.shape[1], m.data));
  throw new Error(`study: X of kind ${m.kind} is not supported here`);
}

/** The dataset: counts (HVG-selected raw counts, CSR), gene names, obs, and the truth when simulated. */
async function loadStudyDataset(name) {
  const d = DATASETS[name];
  if (!d) throw new Error(`unknown dataset '${name}' (known: ${Object.keys(DATASETS).join(', ')})`);
  if (d.simulated) {
    const sim = simulate({ seed: 0 });
    const counts = sim.counts.kind === 'csr' ? sim.counts : denseToCsr(sim.counts);
    return { ...d, name, data: { counts, geneNames: sim.geneNames, obs: sim.obs }, truth: { data: sim.zInv, nRows: sim.nCells, nCols: sim.latentDimInv } };
  }
  const file = path.join(sharedDir, d.file);
  if (!fs.existsSync(file)) throw new Error(`${file} not found (set --shared or INVAE_SHARED to the shared folder)`);
  const adata = await readH5ad(file);
  let counts = toCsr(adata.X);
  let geneNames = frameIndex(adata.var);
  const obs = {};
  for (const k of Object.keys(adata.obs.columns)) obs[k] = adata.obs.table.array(k);
  const nTop = Number(values['n-top-genes']);
  if (nTop > 0 && counts.shape[1] > nTop) {
    const hvg = highlyVariableGenesSeuratV3(counts, { nTopGenes: nTop, batches: Array.from(obs[d.batch], String) });
    const sub = subsetColumns(counts, hvg.selected);
    counts = csrMatrix(sub.shape[0], sub.shape[1], sub.indptr, sub.indices, sub.data);
    geneNames = Array.from(hvg.selected, (i) => geneNames[i]);
  }
  return { ...d, name, data: { counts, geneNames, obs }, truth: null };
}

const sd = (xs) => {
  if (xs.length < 2) return 0;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

function withoutColumns(data, keys) {
  const obs = { ...data.obs };
  for (const k of keys) delete obs[k];
  return { ...data, obs };
}

/** Trains one configuration on one dataset with one seed; returns its latent (and the latent for LOBO). */
async function trainCell(ds, config, seed) {
  const setup = setupFor(config, ds, seed);
  const train = trainOptionsFor(config, ds, seed, values.epochs ? Number(values.epochs) : undefined);
  const t = performance.now();
  const w = Invae.setup(ds.data, setup, { warn: () => {} });
  try {
    const history = await w.train(ds.data, train);
    const z = w.latent(ds.data, { part: 'inv' });
    const leak = (setup.invariant?.categorical ?? []).filter((k) => k === ds.label);
    const zPredict = leak.length ? w.latent(withoutColumns(ds.data, leak), { part: 'inv' }) : z;
    const last = history?.epochs?.at?.(-1) ?? null;
    return { z, zPredict, seconds: (performance.now() - t) / 1000, epochs: train.epochs, finalLoss: last ? last.loss : null };
  } finally {
    w.dispose();
  }
}

function scoreCell(ds, name, z, zPredict, unintegrated, seed) {
  const labels = Array.from(ds.data.obs[ds.label], String);
  const batches = Array.from(ds.data.obs[ds.batch], String);
  const bm = new Benchmarker({ embeddings: { [name]: z }, labels, batches, unintegrated, seed });
  bm.benchmark();
  const r = bm.getResults({ scale: 'none' }).methods[0];
  const lobo = leaveOneBatchOut(leaveOneBatchOutFolds(z, labels, batches, zPredict), { classifier: 'linear', seed });
  const out = { metrics: r.metrics, aggregates: r.aggregates, lobo: lobo.mean };
  if (ds.truth) {
    out.identifiability = { mcc: meanCorrelationCoefficient(ds.truth, z, 'pearson'), r2: linearR2(ds.truth, z) };
  }
  return out;
}

const engine = await initEngine({ report: null });
registerBuiltinPriors();
const seeds = values.seeds.split(',').map(Number);
const wanted = values.configs ? values.configs.split(',').map((s) => s.trim()) : STUDY_CONFIGS.map((c) => c.name);
const configs = wanted.map((n) => {
  const c = STUDY_CONFIGS.find((x) => x.name === n);
  if (!c) throw new Error(`unknown configuration '${n}' (see --list)`);
  return c;
});
const cellsDir = path.join(values.out, 'cells');
fs.mkdirSync(cellsDir, { recursive: true });

const rows = [];
if (values['report-only']) {
  for (const f of fs.readdirSync(cellsDir).filter((f) => f.endsWith('.json')).sort()) rows.push(JSON.parse(fs.readFileSync(path.join(cellsDir, f), 'utf8')));
}
for (const dsName of values['report-only'] ? [] : values.datasets.split(',').map((s) => s.trim())) {
  const ds = await loadStudyDataset(dsName);
  log(`${dsName}: ${ds.data.counts.shape[0]} cells × ${ds.data.counts.shape[1]} genes`);
  const nComps = Math.min(50, ds.data.counts.shape[0] - 1, ds.data.counts.shape[1]);
  const unintegrated = pca(logNormalize(ds.data.counts), nComps).coordinates;
  for (const config of configs) {
    for (const seed of config.deterministic ? [0] : seeds) {
      const key = createHash('sha256')
        .update(JSON.stringify({ dsName, nTop: values['n-top-genes'], config: { ...config, description: undefined }, seed, epochs: values.epochs ?? null }))
        .digest('hex')
        .slice(0, 16);
      const cellFile = path.join(cellsDir, `${dsName}-${config.name}-${seed}-${key}.json`);
      let cell;
      if (!values.fresh && fs.existsSync(cellFile)) cell = JSON.parse(fs.readFileSync(cellFile, 'utf8'));
      else {
        let z;
        let zPredict;
        let extra = {};
        if (config.kind === 'pca') {
          z = unintegrated;
          zPredict = z;
        } else {
          const r = await trainCell(ds, config, seed);
          z = r.z;
          zPredict = r.zPredict;
          extra = { trainSeconds: r.seconds, epochs: r.epochs, finalLoss: r.finalLoss };
        }
        cell = { dataset: dsName, config: config.name, seed, ...extra, ...scoreCell(ds, config.name, z, zPredict, unintegrated, seed) };
        fs.writeFileSync(cellFile, `${JSON.stringify(cell)}\n`);
      }
      const a = cell.aggregates;
      log(`  ${dsName} ${config.name} seed ${seed}: batch ${a['Batch correction']?.toFixed(3)} bio ${a['Bio conservation']?.toFixed(3)} total ${a.Total?.toFixed(3)} lobo ${cell.lobo.accuracy?.toFixed(3)}${cell.trainSeconds ? ` (${cell.trainSeconds.toFixed(0)} s)` : ''}`);
      rows.push(cell);
    }
  }
}

// Summary: mean ± sd over seeds per (dataset, configuration).
const summary = [];
const groups = new Map();
for (const r of rows) {
  const k = `${r.dataset}\u0000${r.config}`;
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k).push(r);
}
for (const cells of groups.values()) {
  const pick = (f) => cells.map(f).filter((v) => typeof v === 'number' && Number.isFinite(v));
  const stat = (f) => {
    const xs = pick(f);
    return xs.length ? { mean: mean(xs), sd: sd(xs), n: xs.length } : null;
  };
  summary.push({
    dataset: cells[0].dataset,
    config: cells[0].config,
    seeds: cells.map((c) => c.seed),
    batch: stat((c) => c.aggregates['Batch correction']),
    bio: stat((c) => c.aggregates['Bio conservation']),
    total: stat((c) => c.aggregates.Total),
    ilisi: stat((c) => c.metrics.iLISI),
    kbet: stat((c) => c.metrics.KBET),
    nmi: stat((c) => c.metrics['KMeans NMI']),
    loboAccuracy: stat((c) => c.lobo.accuracy),
    mcc: stat((c) => c.identifiability?.mcc),
    r2: stat((c) => c.identifiability?.r2),
    trainSeconds: stat((c) => c.trainSeconds),
    epochs: [...new Set(cells.map((c) => c.epochs).filter((e) => e !== undefined))],
  });
}
const fmt = (s) => (s ? (s.n > 1 ? `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}` : s.mean.toFixed(3)) : '–');
const seedsSeen = [...new Set(rows.map((r) => r.seed))].sort((a, b) => a - b);
let md = `# Integration study\n\nscib-metrics set as \`invae bench\` (unscaled), leave-one-batch-out accuracy of a linear invariant predictor, mean ± sd over seeds (${seedsSeen.join(', ')}; n per row in the table); ${values['n-top-genes']} seurat_v3 HVGs (batch-aware) on real data. Every configuration is described at the end.\n`;
for (const dsName of new Set(summary.map((s) => s.dataset))) {
  const part = summary.filter((s) => s.dataset === dsName).sort((a, b) => (b.total?.mean ?? 0) - (a.total?.mean ?? 0));
  const simulated = part.some((s) => s.mcc);
  const epochs = [...new Set(part.flatMap((s) => s.epochs))].join(', ');
  md += `\n## ${DATASETS[dsName].title}\n\n${epochs ? `${epochs} epochs per model.\n\n` : ''}| configuration | seeds | Batch | Bio | Total | iLISI | kBET | KMeans NMI | LOBO acc.${simulated ? ' | MCC | R²' : ''} |\n|---|---|---|---|---|---|---|---|---${simulated ? '|---|---' : ''}|\n`;
  for (const s of part) {
    md += `| ${s.config} | ${s.seeds.length} | ${fmt(s.batch)} | ${fmt(s.bio)} | ${fmt(s.total)} | ${fmt(s.ilisi)} | ${fmt(s.kbet)} | ${fmt(s.nmi)} | ${fmt(s.loboAccuracy)}${simulated ? ` | ${fmt(s.mcc)} | ${fmt(s.r2)}` : ''} |\n`;
  }
}
md += `\n## Configurations\n\n${[...new Set(summary.map((s) => s.config))].map((n) => `- \`${n}\`: ${STUDY_CONFIGS.find((c) => c.name === n)?.description ?? '(not in this version of the script)'}`).join('\n')}\n`;
const report = { study: 'integration', engine: engine.engine, seeds, nTopGenes: Number(values['n-top-genes']), epochs: values.epochs ?? 'per configuration', configs: configs.map((c) => ({ name: c.name, description: c.description })), summary, cells: rows };
fs.writeFileSync(path.join(values.out, 'study.json'), `${JSON.stringify(report, null, 1)}\n`);
fs.writeFileSync(path.join(values.out, 'study.md'), md);
if (values.docs) {
  const intro = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'study-integration-intro.md'), 'utf8');
  fs.writeFileSync(path.resolve(values.docs), `${intro}\n${md.replace(/^# Integration study\n/, '## Results\n').replace(/^## /gm, '### ').replace(/^### Results/m, '## Results')}`);
}
process.stdout.write(`${JSON.stringify({ study: 'integration', out: values.out, summary }, null, 1)}\n`);
