#!/usr/bin/env node
// Effects of the built-in domain priors (issue 5), end to end through the invae CLI:
//   invae simulate (data with the prior's mechanism) → invae train --inv-prior … → invae embed,
// then the effect is measured on the embedding. Prints JSON.
//
//   node packages/cli/scripts/prior-effects.mjs [--only disease,treatment,gene-program] [--baseline]
//                                               [--disease-seeds 0,1,2,3] [--keep DIR]
// --baseline also trains the gene-program model without dedicated dimensions; --disease-seeds
// repeats the disease experiment with other training seeds.
//
// Needs the built packages (npx nx run-many -t build). packages/cli/test/prior-effects.test.ts
// runs the same experiments and asserts the effects.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readH5ad } from '@invae/io-anndata';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The built CLI entry point. */
export const defaultBin = path.resolve(here, '../dist/bin.js');

/** Runs `invae ARGS`; throws with its stderr when it fails. Returns stdout. */
function invae(bin, args) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, INVAE_BACKEND: process.env.INVAE_BACKEND ?? '' }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`invae ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** Pearson correlation of two equal-length arrays. */
export function pearson(a, b) {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/**
 * Leave-one-out k-nearest-neighbour accuracy (Euclidean, majority vote, ties to the nearest
 * neighbour's label) of `labels` from the columns `cols` of a row-major matrix.
 */
export function knnAccuracy(m, cols, labels, k = 15) {
  const n = m.nRows;
  const d = cols.length;
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = m.data[i * m.nCols + cols[j]];
  const dist = new Float64Array(n);
  const order = new Int32Array(n);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (x[i * d + j] - x[r * d + j]) ** 2;
      dist[r] = r === i ? Infinity : s;
      order[r] = r;
    }
    const nearest = Array.from(order).sort((a, b) => dist[a] - dist[b]).slice(0, k);
    const votes = new Map();
    for (const r of nearest) votes.set(labels[r], (votes.get(labels[r]) ?? 0) + 1);
    let best = labels[nearest[0]];
    for (const [label, v] of votes) if (v > votes.get(best)) best = label;
    if (best === labels[i]) correct++;
  }
  return correct / n;
}

/** Share of the most frequent label: the accuracy of always guessing it. */
export function majorityShare(labels) {
  const counts = new Map();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return Math.max(...counts.values()) / labels.length;
}

const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i);
const round = (x) => Math.round(x * 1000) / 1000;

/** The obsm matrix `key` and the obs columns of an .h5ad file. */
async function readEmbedding(file, key) {
  const a = await readH5ad(file, { X: false, layers: false, onWarning: () => {} });
  const m = a.obsm[key];
  if (!m || m.kind !== 'dense') throw new Error(`${file} has no dense obsm['${key}']`);
  const obs = {};
  for (const name of Object.keys(a.obs.columns)) obs[name] = a.obs.table.array(name);
  return { latent: { nRows: m.shape[0], nCols: m.shape[1], data: m.data }, obs };
}

/** Training options shared by the experiments (small networks). */
function trainArgs({ epochs, batchSize = 128, lr = 0.01, seed = 0 }) {
  return ['--epochs', String(epochs), '--batch-size', String(batchSize), '--hidden', '32', '--lr', String(lr), '--seed', String(seed), '--quiet', '--json', '--overwrite'];
}

/**
 * R² of a least-squares fit of a two-level label (as 0/1) on the columns `cols` (with intercept):
 * the share of the label's variance a linear read-out of those latents explains.
 */
export function linearR2(m, cols, labels) {
  const n = m.nRows;
  const level = labels[0];
  const y0 = labels.map((l) => (l === level ? 1 : 0));
  const centre = (v) => {
    const mean = v.reduce((s, x) => s + x, 0) / n;
    return v.map((x) => x - mean);
  };
  const y = centre(y0);
  const basis = [];
  for (const j of cols) {
    let v = centre(Array.from({ length: n }, (_, i) => m.data[i * m.nCols + j]));
    for (const q of basis) {
      const dot = v.reduce((s, x, i) => s + x * q[i], 0);
      v = v.map((x, i) => x - dot * q[i]);
    }
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    if (norm > 1e-9) basis.push(v.map((x) => x / norm));
  }
  const total = y.reduce((s, x) => s + x * x, 0);
  let explained = 0;
  for (const q of basis) explained += y.reduce((s, x, i) => s + x * q[i], 0) ** 2;
  return explained / total;
}

/**
 * disease: 3 cell types × 2 disease states × 2 batches; a batch moves the (one) spurious latent
 * by 3 (unit variance), a disease state half of the 4 invariant ones by ±2. Trains the `disease`
 * prior (disease × cell type, unit variance) and a spurious Gaussian prior whose mean depends on
 * the batch (the `gaussian` plugin with fixMean false, fixVar true; the reference default has a
 * zero mean, so a batch *shift* would cost as much in either block), with 40 epochs of KL warm-up,
 * then measures kNN accuracies and linear R² on the invariant and the spurious latents.
 * Shorter training (e.g. 120 epochs without warm-up) lands, for some seeds, in a local optimum
 * that keeps part of the batch in the invariant latent.
 */
export async function diseaseEffect({ dir, bin = defaultBin, epochs = 160, seed = 1, extra = [], simExtra = [] }) {
  fs.mkdirSync(dir, { recursive: true });
  const sim = path.join(dir, 'disease.h5ad');
  invae(bin, ['simulate', '--out', sim, '--cells', '600', '--genes', '150', '--batches', '2', '--cell-types', '3', '--diseases', '2', '--disease-shift', '2', '--batch-shift', '3', '--batch-variance', '0', '--latent-inv', '4', '--latent-spur', '1', '--seed', '1', ...simExtra]);
  const model = path.join(dir, 'disease-model');
  const li = 4;
  const spurPrior = ['--spur', 'batch', '--spur-prior', 'gaussian', '--spur-prior-options', '{"fixMean": false, "fixVar": true}'];
  const train = JSON.parse(
    invae(bin, ['train', sim, '--out', model, '--preset', 'reference', '--inv-prior', 'disease', '--inv-prior-options', '{"cellType": "cell_type", "variance": "unit"}', ...spurPrior, '--latent-inv', String(li), '--latent-spur', '1', ...trainArgs({ epochs, batchSize: 64, lr: 0.003, seed }), '--warmup', '40', ...extra]),
  );
  const emb = path.join(dir, 'disease-embedded.h5ad');
  invae(bin, ['embed', model, sim, '--out', emb, '--latent', 'full', '--json', '--overwrite']);
  const { latent, obs } = await readEmbedding(emb, 'X_inVAE_full');
  const inv = range(0, li);
  const spur = range(li, latent.nCols);
  const state = obs.cell_type.map((c, i) => `${c}|${obs.disease[i]}`);
  return {
    cells: latent.nRows,
    trainSeconds: round(train.seconds),
    diseaseFromInv: round(knnAccuracy(latent, inv, obs.disease)),
    diseaseChance: round(majorityShare(obs.disease)),
    stateFromInv: round(knnAccuracy(latent, inv, state)),
    stateChance: round(majorityShare(state)),
    batchFromInv: round(knnAccuracy(latent, inv, obs.batch)),
    batchFromSpur: round(knnAccuracy(latent, spur, obs.batch)),
    batchChance: round(majorityShare(obs.batch)),
    batchR2FromInv: round(linearR2(latent, inv, obs.batch)),
    batchR2FromSpur: round(linearR2(latent, spur, obs.batch)),
  };
}

/**
 * treatment: one treatment at doses 0.1, 1, 10, 100 (Hill response, EC50 3) for training; the
 * same simulated system at the unseen dose 3 is embedded afterwards. The held-out dose's mean
 * invariant latent is projected on the direction from its neighbours' means (doses 1 → 10):
 * 0 = at dose 1, 1 = at dose 10.
 */
export async function treatmentEffect({ dir, bin = defaultBin, epochs = 30 }) {
  fs.mkdirSync(dir, { recursive: true });
  const common = ['--cells', '1500', '--genes', '150', '--batches', '2', '--cell-types', '2', '--diseases', '1', '--latent-inv', '4', '--latent-spur', '1', '--treatments', '1', '--seed', '2'];
  const train = path.join(dir, 'treatment.h5ad');
  const heldOut = path.join(dir, 'treatment-dose3.h5ad');
  invae(bin, ['simulate', '--out', train, ...common, '--doses', '0.1,1,10,100']);
  invae(bin, ['simulate', '--out', heldOut, ...common, '--doses', '3']);
  const model = path.join(dir, 'treatment-model');
  const options = JSON.stringify({ treatments: ['treatment_0'] });
  const summary = JSON.parse(invae(bin, ['train', train, '--out', model, '--preset', 'reference', '--inv-prior', 'treatment', '--inv-prior-options', options, '--spur', 'batch', '--latent-inv', '4', '--latent-spur', '1', ...trainArgs({ epochs })]));
  const embTrain = path.join(dir, 'treatment-embedded.h5ad');
  const embHeld = path.join(dir, 'treatment-dose3-embedded.h5ad');
  invae(bin, ['embed', model, train, '--out', embTrain, '--json', '--overwrite']);
  invae(bin, ['embed', model, heldOut, '--out', embHeld, '--json', '--overwrite']);
  const a = await readEmbedding(embTrain, 'X_inVAE');
  const b = await readEmbedding(embHeld, 'X_inVAE');
  const meanAt = ({ latent, obs }, dose) => {
    const m = new Float64Array(latent.nCols);
    let n = 0;
    for (let i = 0; i < latent.nRows; i++) {
      if (obs.dose[i] !== dose || obs.treatment[i] !== 'treatment_0') continue;
      n++;
      for (let j = 0; j < latent.nCols; j++) m[j] += latent.data[i * latent.nCols + j];
    }
    return { mean: m.map((v) => v / n), n };
  };
  const lo = meanAt(a, 1).mean;
  const hi = meanAt(a, 10).mean;
  const dir_ = hi.map((v, j) => v - lo[j]);
  const norm2 = dir_.reduce((s, v) => s + v * v, 0);
  const project = (m) => m.reduce((s, v, j) => s + (v - lo[j]) * dir_[j], 0) / norm2;
  const held = meanAt(b, 3);
  const hill = (d) => d / (d + 3);
  const projections = Object.fromEntries([0.1, 1, 10, 100].map((d) => [String(d), round(project(meanAt(a, d).mean))]));
  return {
    cells: a.latent.nRows,
    heldOutCells: held.n,
    trainSeconds: round(summary.seconds),
    heldOutDose: 3,
    neighbours: [1, 10],
    heldOutPosition: round(project(held.mean)),
    truePosition: round((hill(3) - hill(1)) / (hill(10) - hill(1))),
    trainDosePositions: projections,
    neighbourDistance: round(Math.sqrt(norm2)),
  };
}

/**
 * gene programs: three planted programs of 10 genes each (of 150); the gene sets go to
 * `--gene-sets`, and `dedicatedDims` gives each program the last invariant dimensions, decoded by a
 * masked path to its genes only. Measures |Pearson| of every dedicated dimension with its
 * program's true activity (and, with `baseline`, the best |Pearson| of any invariant dimension of
 * the same model trained without dedicated dimensions).
 */
export async function geneProgramEffect({ dir, bin = defaultBin, epochs = 40, baseline = false }) {
  fs.mkdirSync(dir, { recursive: true });
  const sim = path.join(dir, 'programs.h5ad');
  const gmt = path.join(dir, 'programs.gmt');
  invae(bin, ['simulate', '--out', sim, '--cells', '1500', '--genes', '200', '--batches', '2', '--cell-types', '3', '--diseases', '1', '--latent-inv', '4', '--latent-spur', '1', '--programs', '3', '--program-size', '10', '--programs-out', gmt, '--seed', '3']);
  const names = fs
    .readFileSync(gmt, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('\t')[0]);
  const li = 6;
  const run = async (dedicated) => {
    const model = path.join(dir, `programs-model-${dedicated}`);
    const summary = JSON.parse(
      invae(bin, ['train', sim, '--out', model, '--preset', 'reference', '--gene-sets', gmt, '--inv-prior-options', JSON.stringify({ dedicatedDims: dedicated }), '--spur', 'batch', '--latent-inv', String(li), '--latent-spur', '1', ...trainArgs({ epochs })]),
    );
    const emb = path.join(dir, `programs-embedded-${dedicated}.h5ad`);
    invae(bin, ['embed', model, sim, '--out', emb, '--json', '--overwrite']);
    const { latent, obs } = await readEmbedding(emb, 'X_inVAE');
    const column = (j) => Array.from({ length: latent.nRows }, (_, i) => latent.data[i * latent.nCols + j]);
    const corr = names.map((n) => range(0, li).map((j) => Math.abs(pearson(column(j), obs[`true_activity_${n}`]))));
    const manifest = JSON.parse(fs.readFileSync(path.join(model, 'model.json'), 'utf8'));
    return { corr, summary, paths: manifest.model.config.decoderPaths ?? null };
  };
  const withDims = await run(true);
  const out = {
    cells: 1500,
    programs: names,
    trainSeconds: round(withDims.summary.seconds),
    dedicatedDims: names.map((_, k) => li - names.length + k),
    dedicatedCorrelation: Object.fromEntries(names.map((n, k) => [n, round(withDims.corr[k][li - names.length + k])])),
    decoderPaths: withDims.paths && { names: withDims.paths.names, genesPerDim: withDims.paths.genes.map((g) => g.length) },
  };
  if (baseline) {
    const without = await run(false);
    out.withoutDedicatedDims = { bestCorrelationOfAnyDim: Object.fromEntries(names.map((n, k) => [n, round(Math.max(...without.corr[k]))])) };
  }
  return out;
}

async function main(argv) {
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1].split(',') : ['disease', 'treatment', 'gene-program'];
  const seeds = argv.includes('--disease-seeds') ? argv[argv.indexOf('--disease-seeds') + 1].split(',').map(Number) : null;
  const keep = argv.includes('--keep') ? argv[argv.indexOf('--keep') + 1] : null;
  const dir = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'invae-prior-effects-'));
  fs.mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const result = {};
  try {
    if (only.includes('disease')) result.disease = await diseaseEffect({ dir });
    if (seeds) {
      result.diseaseBySeed = {};
      for (const seed of seeds) result.diseaseBySeed[seed] = await diseaseEffect({ dir: path.join(dir, `seed${seed}`), seed });
    }
    if (only.includes('treatment')) result.treatment = await treatmentEffect({ dir });
    if (only.includes('gene-program')) result.geneProgram = await geneProgramEffect({ dir, baseline: argv.includes('--baseline') });
  } finally {
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  }
  result.seconds = round((performance.now() - t0) / 1000);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e.message ?? e);
    process.exit(1);
  });
}
