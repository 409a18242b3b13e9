#!/usr/bin/env node
// Tutorials with real outputs (issue 14): runs the `invae` command line on real datasets as a user
// would (datasets path → train → embed → predict → bench) and writes one docs page per dataset with
// every command, its real (trimmed) output and wall time, the bench results table, UMAPs by batch and
// by label, the loss curve and the leave-one-batch-out accuracy of the invariant predictor. The
// after-integration tutorial (issue 17; scripts/tutorials-after-integration.mjs) runs expression, de
// and map on CellBench lung, with `script` steps computing what the page reports from their outputs.
// A step after one that ran again is run again too (it reads the new outputs), unless it is marked
// independent (bench reads only the input file).
//
// Usage: npm run docs:tutorials -- [--tutorials cellbench-lung,hematopoiesis] [--out reports/tutorials]
//          [--docs apps/docs/src/tutorials] [--public apps/docs/src/public/tutorials] [--report-only] [--fresh]
// Every command runs in --out/<tutorial>/ with relative output names (model/, embedded.h5ad,
// predictions.csv, bench/) and its record (argv, stdout, stderr, exit code, start, wall time, commit,
// machine) is kept in --out/<tutorial>/steps/<step>.json; a step whose record exists with the same
// arguments and exit code 0 is not run again (--fresh reruns it). --report-only runs nothing and
// writes the pages from the records and output folders alone, so a page is a function of its output
// folder (seeds are fixed: --seed 0 on every command). Without --docs the pages land in --out.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterIntegrationSteps, renderAfterIntegration } from './tutorials-after-integration.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The tutorials. `trainEpochs` / `benchEpochs`: null keeps the preset's automatic epochs (scvi-tools'
 * rule, 400 for these sizes); a number is passed as --epochs to that command and the page states it
 * with the reason (`epochsWhy`).
 */
export const TUTORIALS = {
  'cellbench-lung': {
    page: 'cellbench-lung.md',
    title: 'Tutorial: CellBench lung, real outputs',
    dataset: 'cellbench-lung-3cl',
    batch: 'batch',
    label: 'cell_line',
    trainEpochs: null,
    benchEpochs: null,
    epochsWhy: null,
    intro:
      "CellBench (Tian et al. 2019): three lung adenocarcinoma cell lines (H1975, H2228, HCC827) sequenced with two protocols, CEL-seq2 and Drop-seq — 450 cells × 14,888 genes. The protocol is the batch (`obs['batch']`; `obs['protocol']` names the same two groups) and the cell line is the biology to keep (`obs['cell_line']`). A good integration mixes the two protocols within each cell line and keeps the three lines apart.",
  },
  hematopoiesis: {
    page: 'hematopoiesis.md',
    title: 'Tutorial: Paul15 hematopoiesis, real outputs',
    dataset: 'paul15-hematopoiesis',
    batch: 'batch',
    label: 'cell_type',
    trainEpochs: 100,
    benchEpochs: 100,
    epochsWhy:
      'The preset\'s automatic rule gives 400 epochs for these cells (2,457 training cells). These pages were made against a deadline on a shared 2-CPU machine where, under load earlier the same day, an epoch on these cells had taken 12–58 s: both commands were run with `--epochs 100` to fit the time there was, which can leave the models under-trained (see the loss curves). On a free machine drop the option to get the default.',
    intro:
      "Paul et al. 2015: mouse bone-marrow myeloid progenitors (MARS-seq), 2,730 cells × 3,451 genes with integer counts, sorted into 8 plates. The plate is the batch (`obs['batch']`); `obs['cell_type']` holds the 19 clusters of the paper (erythroid, megakaryocyte, monocyte, neutrophil, … progenitors) and `obs['lineage']` groups them into 10 lineages. The tutorial keeps `cell_type` as the biology; `--inv lineage` (and `--label lineage` for the bench) is the coarser alternative.",
  },
};

/**
 * The tutorial of the three outputs after integration (issue 17): batch-corrected expression,
 * differential expression and mapping a query batch onto a reference. Its steps mix `invae` commands
 * with computations of this script (`script` steps: the subsets, the variance explained, the Wilcoxon
 * baseline, the label-transfer scores), each reading the files the commands wrote and writing a JSON
 * file the page is made from.
 */
TUTORIALS['after-integration'] = {
  kind: 'after-integration',
  page: 'after-integration.md',
  title: 'Tutorial: after integration — corrected expression, differential expression and query mapping (CellBench lung)',
  dataset: 'cellbench-lung-3cl',
  batch: 'batch',
  label: 'cell_line',
  /** The cell-line contrast, and the cell line whose two protocols make the batch-only contrast. */
  group: 'H1975',
  reference: 'HCC827',
  protocolLine: 'H1975',
  /** The reference protocol (trained on) and the query protocol (mapped). */
  referenceBatch: 'celseq2',
  queryBatch: 'dropseq',
  unknownThreshold: 0.5,
  fdr: 0.05,
  delta: 0.25,
  /** null: the preset's automatic epochs (scvi-tools' rule, 400 for these sizes) for every training, the mapping's included. */
  trainEpochs: null,
  mapEpochs: null,
  epochsWhy:
    "Every training on this page — the full model, the reference of the mapping and the mapping itself — keeps the preset's automatic epochs (scvi-tools' rule min(round(20000 / cells × 400), 400): 400 for each of these sizes). On 450 cells × 2,000 genes an epoch takes well under a second even on a shared 2-CPU machine (measured below), so the full default was affordable and there was no reason to cut it.",
  intro:
    "What to do with a model once the batches are integrated: read out **batch-corrected expression** (`invae expression`), find **differentially expressed genes** between groups of cells on that corrected expression (`invae de`), and **map a new batch** onto the model without retraining it (`invae map`). The data is CellBench (Tian et al. 2019): three lung adenocarcinoma cell lines (H1975, H2228, HCC827) sequenced with two protocols, CEL-seq2 and Drop-seq — 450 cells × 14,888 genes. The protocol is the batch, the spurious source of variation (`obs['batch']`: `celseq2`, `dropseq`), and the cell line is the biology (`obs['cell_line']`). Because every cell line was sequenced with both protocols, the data holds a ground truth for each output: corrected expression should lose the protocol and keep the cell line; a comparison of one cell line's CEL-seq2 cells with its own Drop-seq cells is a contrast with no biology in it; and a protocol the model never saw can be mapped and its cell lines predicted.",
};

/** UMAPs are shown two to a row (about 340 px each): rendered at 0.6 × their SVG size, a page of six stays near 300 KB. */
const UMAP_ZOOM = 0.6;

/** Headings of the UMAPs by the method names `invae bench` writes. */
const METHOD_TITLES = { PCA: 'PCA (unintegrated)', 'scVI-equivalent': 'scVI-equivalent (batch injected, no label)', FinVAE: 'FinVAE (inVAE, integration preset)' };

/** The commands of one tutorial; `$FILE` is the dataset's path printed by the first step. */
export function stepsOf(t) {
  if (t.kind === 'after-integration') return afterIntegrationSteps(t);
  const epochs = (n) => (n === null ? [] : ['--epochs', String(n)]);
  return [
    { name: 'path', argv: ['datasets', 'path', t.dataset], about: 'Where the dataset is (`invae datasets list` shows the registry; a local dataset needs no download).' },
    {
      name: 'train',
      argv: ['train', '$FILE', '--inv', t.label, '--spur', t.batch, '--validation', '0.1', '--predict', t.label, ...epochs(t.trainEpochs), '--seed', '0', '--out', 'model'],
      output: 'model',
      about: `Train FinVAE with the default (integration) preset: '${t.label}' conditions the invariant prior, '${t.batch}' is the spurious covariate injected into the decoder, 10 % of the cells are held out to report a validation loss, and a linear invariant predictor of '${t.label}' is trained on the invariant latent.`,
    },
    { name: 'embed', argv: ['embed', 'model', '$FILE', '--out', 'embedded.h5ad'], output: 'embedded.h5ad', about: "Write the invariant latent into `obsm['X_inVAE']` of a copy of the file (the input is never modified)." },
    {
      name: 'predict',
      argv: ['predict', 'model', '$FILE', '--label', t.label, '--out', 'predictions.csv'],
      output: 'predictions.csv',
      about: `Predict '${t.label}' with the model's invariant predictor. These cells are the training cells, so this accuracy is a training accuracy; the held-out-batch accuracy is in the bench below.`,
    },
    {
      name: 'bench',
      argv: ['bench', '$FILE', '--batch', t.batch, '--label', t.label, '--methods', 'pca,scvi,finvae', ...epochs(t.benchEpochs), '--seed', '0', '--out', 'bench'],
      output: 'bench',
      // reads only the input file: a rerun of the steps before it does not change its output
      independent: true,
      about: 'Score PCA (unintegrated), the scVI-equivalent and FinVAE with the scib-metrics set, predict the label of each batch from the others (leave one batch out), and draw UMAPs and loss curves.',
    },
  ];
}

// ---------------------------------------------------------------------------------------------------
// Running

function gitCommit() {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' });
  if (head.status !== 0) return 'unknown';
  // The command line is built from packages/: changes elsewhere (scripts, docs) do not change its outputs.
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'packages'], { cwd: repoRoot, encoding: 'utf8' }).stdout.trim();
  return `${head.stdout.trim()}${dirty ? ' (with uncommitted changes in packages/)' : ''}`;
}

function machine() {
  const cpus = os.cpus();
  return `${cpus[0]?.model?.trim() ?? 'unknown CPU'}, ${cpus.length} CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.platform()} ${os.arch()}, Node ${process.version}`;
}

/** Runs `invae ARGV` in `cwd`; resolves to the step's record. */
function runInvae(argv, cwd, onStderr) {
  const bin = path.join(repoRoot, 'packages/cli/dist/bin.js');
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: build the packages first (npm run build)`);
  const startedAt = new Date().toISOString();
  const load1 = os.loadavg()[0];
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...argv], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, INVAE_BACKEND: process.env.INVAE_BACKEND ?? '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(String(d));
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ argv, startedAt, wallSeconds: (performance.now() - t) / 1000, exitCode: code, stdout, stderr, load1, commit: gitCommit(), machine: machine() }));
  });
}

/** Runs a `script` step (a computation of this script on the outputs of the commands before it); resolves to its record. */
async function runScriptStep(step, argv, dir, file) {
  const startedAt = new Date().toISOString();
  const load1 = os.loadavg()[0];
  const t = performance.now();
  let stdout = '';
  let stderr = '';
  let exitCode = 0;
  try {
    stdout = await step.run(dir, file);
  } catch (e) {
    stderr = `${e.stack ?? e}`;
    exitCode = 1;
  }
  return { argv, startedAt, wallSeconds: (performance.now() - t) / 1000, exitCode, stdout, stderr, load1, commit: gitCommit(), machine: machine() };
}

const sameArgs = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** Runs (or reuses) every step of tutorial `key` in `dir`. */
async function runTutorial(key, t, dir, { fresh, log }) {
  const stepsDir = path.join(dir, 'steps');
  fs.mkdirSync(stepsDir, { recursive: true });
  let file = null;
  // a step after one that ran again reads its new outputs: it runs again too
  let ranBefore = false;
  for (const step of stepsOf(t)) {
    const recordFile = path.join(stepsDir, `${step.name}.json`);
    const argv = step.argv.map((a) => (a === '$FILE' ? file : a));
    const old = fs.existsSync(recordFile) ? JSON.parse(fs.readFileSync(recordFile, 'utf8')) : null;
    let record = old;
    if (fresh || (ranBefore && !step.independent) || !old || old.exitCode !== 0 || !sameArgs(old.argv, argv) || (step.output && !fs.existsSync(path.join(dir, step.output)))) {
      if (!step.independent) ranBefore = true;
      // The page shows the command as a user types it, without --overwrite: clear the old output first.
      if (step.output) fs.rmSync(path.join(dir, step.output), { recursive: true, force: true });
      log(`${key}: ${step.script ? 'script' : 'invae'} ${argv.join(' ')}`);
      record = step.script ? await runScriptStep(step, argv, dir, file) : await runInvae(argv, dir, (s) => log(s.trimEnd().replace(/^/gm, `  ${key} ${step.name}| `)));
      const tmp = `${recordFile}.tmp`;
      fs.writeFileSync(tmp, `${JSON.stringify({ step: step.name, ...record }, null, 1)}\n`);
      fs.renameSync(tmp, recordFile);
      if (record.exitCode !== 0) throw new Error(`${key}: \`${step.script ? 'script' : 'invae'} ${argv.join(' ')}\` exited with ${record.exitCode}:\n${record.stderr.slice(-2000)}`);
    } else log(`${key}: ${step.name} done before (${old.wallSeconds.toFixed(0)} s), reused`);
    if (step.name === 'path') file = record.stdout.trim();
  }
}

// ---------------------------------------------------------------------------------------------------
// The page

/** At most `max` lines: the first `head` and the last ones, with the number of lines left out. */
export function trimLines(text, max = 24, head = 6) {
  const lines = text.replace(/\r/g, '').replace(/\n+$/, '').split('\n');
  if (lines.length <= max) return lines.join('\n');
  const tail = max - head - 1;
  return [...lines.slice(0, head), `… (${lines.length - head - tail} lines left out)`, ...lines.slice(-tail)].join('\n');
}

export const seconds = (s) => (s < 90 ? `${s.toFixed(1)} s` : s < 5400 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(2)} h`);
export const fmt = (v) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : '–');
export const pct = (v) => (typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : '–');
export const shellQuote = (a) => (/^[A-Za-z0-9_./,:=@%+-]+$/.test(a) ? a : a === '$FILE' ? '"$FILE"' : `'${a.replace(/'/g, `'\\''`)}'`);

export function readJson(file, what) {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing (${what}); run without --report-only to make it`);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/**
 * Puts picture `from` (a PNG) into the page's public folder as `name`; returns its site path. When
 * the SVG it was rendered from lies beside it, the PNG is rendered again at `zoom` × the SVG's size
 * (`invae` writes PNGs at twice that size), which keeps a page's pictures to a few hundred KB.
 */
export function publish(from, assets, siteDir, name, svgToPng, zoom = 1) {
  if (!fs.existsSync(from)) throw new Error(`${from} is missing (a picture of the page); run without --report-only to make it`);
  fs.mkdirSync(assets, { recursive: true });
  const svg = from.replace(/\.png$/, '.svg');
  if (fs.existsSync(svg)) fs.writeFileSync(path.join(assets, name), svgToPng(fs.readFileSync(svg, 'utf8'), { zoom, background: 'white' }));
  else fs.copyFileSync(from, path.join(assets, name));
  return `${siteDir}/${name}`;
}

/** The markdown page of tutorial `key` from its output folder `dir`; copies its pictures into `assets` (site path `siteDir`). */
export function renderPage(key, t, dir, assets, siteDir, svgToPng) {
  const steps = stepsOf(t);
  const records = Object.fromEntries(steps.map((s) => [s.name, readJson(path.join(dir, 'steps', `${s.name}.json`), `record of step ${s.name}`)]));
  // The page shows what ran (the recorded arguments, the dataset path as "$FILE"); its text describes
  // the commands of this script, so a record made with other arguments is refused.
  const file = records.path.stdout.trim();
  const shownArgv = {};
  for (const s of steps) {
    const r = records[s.name];
    if (r.exitCode !== 0) throw new Error(`${key}: the record of step ${s.name} has exit code ${r.exitCode}; rerun without --report-only`);
    const expected = s.argv.map((a) => (a === '$FILE' ? file : a));
    if (!sameArgs(r.argv, expected)) {
      throw new Error(`${key}: step ${s.name} ran \`invae ${r.argv.join(' ')}\` but this script runs \`invae ${expected.join(' ')}\`; rerun without --report-only`);
    }
    shownArgv[s.name] = r.argv.map((a) => (a === file ? '$FILE' : a));
  }
  if (t.kind === 'after-integration') return renderAfterIntegration(key, t, dir, assets, siteDir, svgToPng, records, shownArgv);
  const results = readJson(path.join(dir, 'bench', 'results.json'), 'bench results');
  const resultsMd = fs.readFileSync(path.join(dir, 'bench', 'results.md'), 'utf8');
  const history = readJson(path.join(dir, 'model', 'history.json'), 'training history');
  const commits = [...new Set(Object.values(records).map((r) => r.commit))];
  const machines = [...new Set(Object.values(records).map((r) => r.machine))];
  const days = [...new Set(Object.values(records).map((r) => r.startedAt.slice(0, 10)))];
  const L = [];
  L.push(`# ${t.title}`, '');
  L.push(`<!-- Generated by scripts/tutorials.mjs (npm run docs:tutorials) from its output folder; do not edit by hand. -->`, '');
  L.push(t.intro, '');
  L.push(
    `Every command below was run as written, with the \`invae\` command line of this repository, and every output on this page is the command's real output (long progress logs trimmed), written into the page by \`scripts/tutorials.mjs\`: nothing is pasted by hand. Run on ${days.join(', ')} at commit \`${commits.join('`, `')}\` on ${machines.join('; ')}. The machine was shared with other jobs, so wall times are upper bounds. Seeds are fixed (\`--seed 0\`).`,
    '',
  );
  if (t.epochsWhy) {
    const secs = (history.epochs ?? []).map((e) => e.seconds).filter((x) => typeof x === 'number').sort((a, b) => a - b);
    const measured = secs.length ? ` In this run an epoch of \`invae train\` took ${secs[0].toFixed(1)}–${secs.at(-1).toFixed(1)} s (median ${secs[Math.floor(secs.length / 2)].toFixed(1)} s).` : '';
    L.push(`::: info Epochs`, `${t.epochsWhy}${measured}`, ':::', '');
  }
  const timingRows = [];
  let n = 0;
  for (const s of steps) {
    const r = records[s.name];
    n += 1;
    const shown = shownArgv[s.name].map(shellQuote);
    L.push(`## ${n}. \`invae ${s.argv[0]}${s.name === 'path' ? ' path' : ''}\``, '', s.about, '');
    L.push('```sh', s.name === 'path' ? `FILE=$(invae ${shown.join(' ')})` : `invae ${shown.join(' ')}`, '```', '');
    // bench prints bench/results.md on stdout: the page shows that file as tables below, not twice.
    const stdoutShown = s.name !== 'bench' && r.stdout.trim();
    const out = [r.stderr.trim() ? trimLines(r.stderr) : '', stdoutShown ? trimLines(r.stdout) : ''].filter(Boolean);
    const what = s.name === 'bench' ? '; progress on stderr; stdout, `bench/results.md`, is shown as tables below' : out.length === 2 ? '; progress on stderr, then stdout' : '';
    L.push(`Output (${seconds(r.wallSeconds)} wall time${what}):`, '', '```text', out.join('\n') || '(no output)', '```', '');
    timingRows.push(`| \`invae ${s.argv[0]}${s.name === 'path' ? ' path' : ''}\` | ${r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} | ${seconds(r.wallSeconds)} |`);
    if (s.name === 'train') {
      const epochs = history.epochs ?? [];
      const last = epochs.at(-1);
      const loss = publish(path.join(dir, 'model', 'loss.png'), assets, siteDir, 'loss.png', svgToPng);
      L.push(
        `The model folder holds \`model.json\`, \`weights.safetensors\`, \`history.json\` and the loss curve \`loss.svg\` / \`loss.png\`${last ? ` (${epochs.length} epochs; last epoch: training loss ${fmt(last.loss)}${typeof last.validationLoss === 'number' ? `, validation loss ${fmt(last.validationLoss)}` : ''})` : ''}:`,
        '',
        `![Training and validation loss per epoch of invae train on ${t.dataset}](${loss})`,
        '',
      );
    }
    if (s.name === 'bench') L.push(...benchSections(t, results, resultsMd, dir, assets, siteDir, svgToPng));
  }
  L.push('## Wall time of each command', '', '| command | started | wall time |', '| --- | --- | --- |', ...timingRows, '');
  const spans = steps.map((s) => ({ from: Date.parse(records[s.name].startedAt), to: Date.parse(records[s.name].startedAt) + records[s.name].wallSeconds * 1000 }));
  if (spans.some((a) => spans.some((b) => a !== b && a.from < b.to && b.from < a.to))) {
    L.push('Some commands overlapped in time (see the start times; `invae bench` reads only the input file, so it can run beside the others), which lengthens their wall times.', '');
  }
  L.push('## Regenerate this page', '', '```sh', 'npm run docs:tutorials -- --tutorials ' + key + ' --docs apps/docs/src/tutorials', '```', '');
  L.push(`reruns every command (about ${seconds(Object.values(records).reduce((a, r) => a + r.wallSeconds, 0))} here) unless its record is in the output folder; \`--report-only\` rewrites the page from an existing output folder without running anything.`, '');
  return `${L.join('\n')}`;
}

function benchSections(t, results, resultsMd, dir, assets, siteDir, svgToPng) {
  const L = [];
  L.push('### Results table', '', `scib-metrics set (unscaled; higher is better), the table \`bench/results.md\` holds:`, '', resultsMd.split('\nInvariant prediction')[0].trim(), '');
  const umap = results.umap?.methods ?? {};
  if (Object.keys(umap).length) {
    L.push('### UMAPs by batch and by label', '', `UMAP of each embedding (${results.umap.nNeighbors} neighbours, min_dist ${results.umap.minDist}, seed ${results.umap.seed}), coloured by '${t.batch}' (left) and by '${t.label}' (right):`, '');
    for (const [method, u] of Object.entries(umap)) {
      const stem = path.basename(u.batch.png, '_batch.png');
      const byBatch = publish(path.join(dir, 'bench', u.batch.png), assets, siteDir, `${stem}_batch.png`, svgToPng, UMAP_ZOOM);
      const byLabel = publish(path.join(dir, 'bench', u.label.png), assets, siteDir, `${stem}_label.png`, svgToPng, UMAP_ZOOM);
      L.push(`**${METHOD_TITLES[method] ?? method}**`, '', `<img src="${byBatch}" alt="UMAP of ${method} coloured by ${t.batch}" width="49%"> <img src="${byLabel}" alt="UMAP of ${method} coloured by ${t.label}" width="49%">`, '');
    }
  }
  const ip = results.invariantPrediction;
  if (ip) {
    const methods = Object.entries(ip.methods);
    L.push('### Invariant prediction on a held-out batch', '', ip.protocol, '');
    const batches = [...new Set(methods.flatMap(([, m]) => m.perBatch.map((b) => b.batch)))];
    L.push(`| held-out ${t.batch} | cells | ${methods.map(([m]) => `${m} accuracy`).join(' | ')} |`, `| --- | --- | ${methods.map(() => '---').join(' | ')} |`);
    for (const b of batches) {
      const cells = methods[0][1].perBatch.find((x) => x.batch === b)?.nTest ?? '–';
      L.push(`| ${b} | ${cells} | ${methods.map(([, m]) => pct(m.perBatch.find((x) => x.batch === b)?.accuracy)).join(' | ')} |`);
    }
    L.push(`| **mean** | | ${methods.map(([, m]) => `**${pct(m.mean.accuracy)}**`).join(' | ')} |`, '');
    const macro = methods.map(([m, r]) => `${m} ${fmt(r.mean.macroF1)}`).join(', ');
    L.push(`Mean macro-F1 over the held-out batches: ${macro}.`, '');
    const unseen = methods[0][1].perBatch.filter((b) => b.unseenLabels?.length);
    if (unseen.length) L.push(`Labels of a held-out batch that no other batch has cannot be predicted: ${unseen.map((b) => `${b.batch} (${b.unseenLabels.join(', ')})`).join('; ')}.`, '');
  }
  const losses = fs.existsSync(path.join(dir, 'bench')) ? fs.readdirSync(path.join(dir, 'bench')).filter((f) => /^loss_.+\.png$/.test(f)).sort() : [];
  if (losses.length) {
    L.push('### Loss curves of the bench models', '');
    for (const f of losses) L.push(`<img src="${publish(path.join(dir, 'bench', f), assets, siteDir, f, svgToPng)}" alt="${f.replace(/\.png$/, '')}" width="49%">`);
    L.push('');
  }
  return L;
}

// ---------------------------------------------------------------------------------------------------
// Command line

async function main() {
  const { values } = parseArgs({
    options: {
      tutorials: { type: 'string', default: Object.keys(TUTORIALS).join(',') },
      out: { type: 'string', default: path.join(repoRoot, 'reports/tutorials') },
      docs: { type: 'string' },
      public: { type: 'string' },
      'report-only': { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  const log = (m) => {
    if (!values.quiet) process.stderr.write(`${m}\n`);
  };
  const keys = values.tutorials.split(',').map((s) => s.trim()).filter(Boolean);
  for (const k of keys) if (!TUTORIALS[k]) throw new Error(`unknown tutorial '${k}' (known: ${Object.keys(TUTORIALS).join(', ')})`);
  const out = path.resolve(values.out);
  const docs = values.docs ? path.resolve(values.docs) : null;
  const publicRoot = path.resolve(values.public ?? (docs ? path.join(docs, '../public/tutorials') : path.join(out, 'public/tutorials')));
  let svgToPng;
  try {
    ({ svgToPng } = await import('@invae/bench'));
  } catch (e) {
    throw new Error(`cannot load @invae/bench to render the pictures (${e.message}); build the packages first (npm run build)`);
  }
  const written = [];
  for (const key of keys) {
    const t = TUTORIALS[key];
    const dir = path.join(out, key);
    if (!values['report-only']) await runTutorial(key, t, dir, { fresh: values.fresh, log });
    const stem = t.page.replace(/\.md$/, '');
    const assets = path.join(publicRoot, stem);
    // Pictures go to a temporary folder first: a failed render leaves the published ones as they were.
    const staging = `${assets}.tmp`;
    fs.rmSync(staging, { recursive: true, force: true });
    let page;
    try {
      page = renderPage(key, t, dir, staging, `/tutorials/${stem}`, svgToPng);
    } catch (e) {
      fs.rmSync(staging, { recursive: true, force: true });
      throw e;
    }
    fs.rmSync(assets, { recursive: true, force: true });
    fs.renameSync(staging, assets);
    const pageFile = path.join(docs ?? out, t.page);
    fs.mkdirSync(path.dirname(pageFile), { recursive: true });
    fs.writeFileSync(`${pageFile}.tmp`, page);
    fs.renameSync(`${pageFile}.tmp`, pageFile);
    const bytes = fs.readdirSync(assets).reduce((a, f) => a + fs.statSync(path.join(assets, f)).size, 0);
    log(`${key}: wrote ${pageFile} and ${fs.readdirSync(assets).length} pictures (${(bytes / 1024).toFixed(0)} KiB) in ${assets}`);
    written.push({ tutorial: key, page: pageFile, assets, pictureBytes: bytes });
  }
  process.stdout.write(`${JSON.stringify({ tutorials: written }, null, 1)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`tutorials: ${e.message}\n`);
    process.exit(1);
  });
}
