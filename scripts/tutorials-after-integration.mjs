// The after-integration tutorial of scripts/tutorials.mjs (issue 17): batch-corrected expression
// (`invae expression`), differential expression (`invae de`) and mapping a query batch (`invae map`)
// on CellBench lung, with the measurements that judge each output against what the data holds
// (variance explained by protocol and by cell line; a Wilcoxon baseline; label-transfer accuracy).
// Its `script` steps are computations of this module on the files the commands wrote; like the
// commands, each keeps a record in steps/<step>.json and writes a JSON file the page is made from.
import fs from 'node:fs';
import path from 'node:path';
import { fmt, pct, publish, readJson, seconds, shellQuote, trimLines } from './tutorials.mjs';

// ---------------------------------------------------------------------------------------------------
// Pure computations (unit-tested in packages/cli/test/tutorials-script.test.ts)

/**
 * Per-gene fraction of variance explained by a grouping of the cells (R² of a one-way ANOVA: the
 * between-group sum of squares over the total), for a cells × genes row-major matrix `values`.
 * A gene constant over the cells has no variance to explain: its R² is NaN.
 */
export function r2ByGroup(values, nCells, nGenes, groups) {
  if (values.length !== nCells * nGenes) throw new Error(`r2ByGroup: ${values.length} values for ${nCells} × ${nGenes}`);
  if (groups.length !== nCells) throw new Error(`r2ByGroup: ${groups.length} group labels for ${nCells} cells`);
  const levels = [...new Set(groups)];
  const code = Int32Array.from(groups, (g) => levels.indexOf(g));
  const count = new Float64Array(levels.length);
  for (const c of code) count[c] += 1;
  const r2 = new Float64Array(nGenes);
  const sums = new Float64Array(levels.length);
  for (let g = 0; g < nGenes; g++) {
    sums.fill(0);
    let total = 0;
    for (let i = 0; i < nCells; i++) {
      const v = values[i * nGenes + g];
      sums[code[i]] += v;
      total += v;
    }
    const mean = total / nCells;
    let ssTotal = 0;
    for (let i = 0; i < nCells; i++) ssTotal += (values[i * nGenes + g] - mean) ** 2;
    let ssBetween = 0;
    for (let k = 0; k < levels.length; k++) if (count[k] > 0) ssBetween += count[k] * (sums[k] / count[k] - mean) ** 2;
    r2[g] = ssTotal > 1e-12 * nCells ? ssBetween / ssTotal : Number.NaN;
  }
  return r2;
}

/** Mean of the finite values, and how many there were. */
export function finiteMean(v) {
  let s = 0;
  let n = 0;
  for (const x of v) {
    if (Number.isFinite(x)) {
      s += x;
      n += 1;
    }
  }
  return { mean: n ? s / n : Number.NaN, n };
}

/** log1p of every value, as a new Float64Array. */
const log1p = (v) => Float64Array.from(v, (x) => Math.log1p(x));

/** A CSR or dense matrix as a dense row-major Float64Array. */
export function denseOf(m) {
  const [r, c] = m.shape;
  if (m.kind === 'dense') return Float64Array.from(m.data);
  if (m.kind !== 'csr') throw new Error(`expected a CSR or dense matrix, got ${m.kind}`);
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let p = Number(m.indptr[i]); p < Number(m.indptr[i + 1]); p++) out[i * c + m.indices[p]] = m.data[p];
  return out;
}

/** Per-cell total of a dense row-major matrix. */
function rowTotals(x, nCells, nGenes) {
  const t = new Float64Array(nCells);
  for (let i = 0; i < nCells; i++) for (let g = 0; g < nGenes; g++) t[i] += x[i * nGenes + g];
  return t;
}

/** Counts per `librarySize` (over the given genes), then log1p: scanpy's normalize_total + log1p. */
export function logNormalised(counts, nCells, nGenes, librarySize = 1e4) {
  const totals = rowTotals(counts, nCells, nGenes);
  const out = new Float64Array(counts.length);
  for (let i = 0; i < nCells; i++) {
    const f = totals[i] > 0 ? librarySize / totals[i] : 0;
    for (let g = 0; g < nGenes; g++) out[i * nGenes + g] = Math.log1p(counts[i * nGenes + g] * f);
  }
  return out;
}

/** Size of the intersection of two sets of names. */
export const overlap = (a, b) => {
  const sb = new Set(b);
  return [...new Set(a)].filter((x) => sb.has(x)).length;
};

/** Minimal CSV reader (RFC 4180 quotes) → array of rows of strings. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/**
 * Label-transfer scores of predictions against the true labels: accuracy over every cell (a cell
 * marked `unknown` counts as wrong), the cells marked unknown, and the accuracy over the others.
 */
export function transferScores(predicted, truth, unknown = 'unknown') {
  if (predicted.length !== truth.length) throw new Error(`transferScores: ${predicted.length} predictions for ${truth.length} cells`);
  let right = 0;
  let unknownN = 0;
  let rightKnown = 0;
  for (let i = 0; i < truth.length; i++) {
    if (predicted[i] === unknown) unknownN += 1;
    else if (predicted[i] === truth[i]) {
      right += 1;
      rightKnown += 1;
    }
  }
  const known = truth.length - unknownN;
  return { cells: truth.length, accuracy: truth.length ? right / truth.length : Number.NaN, unknown: unknownN, accuracyOfLabelled: known ? rightKnown / known : Number.NaN };
}

// ---------------------------------------------------------------------------------------------------
// Steps

const io = () => import('@invae/io-anndata');
const bench = () => import('@invae/bench');

/** The obs column `key` of an AnnData as strings. */
function obsColumn(adata, key, file) {
  if (!adata.obs.table.columnNames().includes(key)) throw new Error(`${file} has no obs column '${key}'`);
  return Array.from(adata.obs.table.array(key), (v) => (v === null || v === undefined ? '' : String(v)));
}

/** Writes the cells `rows` of `adata` to `file` (atomically), categories no cell uses left out. */
async function writeSubset(adata, rows, file) {
  const { writeH5ad } = await io();
  const X = adata.X;
  if (!X || X.kind !== 'csr') throw new Error('the dataset is expected to hold sparse CSR counts in X');
  const indptr = new Float64Array(rows.length + 1);
  let nnz = 0;
  for (const [k, i] of rows.entries()) {
    nnz += Number(X.indptr[i + 1]) - Number(X.indptr[i]);
    indptr[k + 1] = nnz;
  }
  const data = new Float32Array(nnz);
  const indices = new Int32Array(nnz);
  for (const [k, i] of rows.entries()) {
    const from = Number(X.indptr[i]);
    const to = Number(X.indptr[i + 1]);
    data.set(X.data.subarray(from, to), indptr[k]);
    indices.set(X.indices.subarray(from, to), indptr[k]);
  }
  const table = adata.obs.table.reify(rows);
  const columns = {};
  for (const [k, info] of Object.entries(adata.obs.columns)) {
    if (info.kind !== 'categorical') columns[k] = info;
    else {
      const used = new Set(table.array(k));
      columns[k] = { ...info, categories: info.categories.filter((c) => used.has(c)) };
    }
  }
  const subset = {
    nObs: rows.length,
    nVars: adata.nVars,
    X: { kind: 'csr', shape: [rows.length, adata.nVars], dtype: 'float32', data, indices, indptr },
    obs: { ...adata.obs, table, columns },
    var: adata.var,
    layers: {},
    obsm: {},
    varm: {},
    obsp: {},
    varp: {},
    uns: adata.uns,
  };
  const tmp = `${file}.tmp.h5ad`;
  await writeH5ad(tmp, subset);
  fs.renameSync(tmp, file);
}

/** Step `subsets`: the reference protocol's cells, the query protocol's, and the cells of one cell line. */
async function runSubsets(t, dir, file) {
  const { readH5ad } = await io();
  const adata = await readH5ad(file, { onWarning: () => {} });
  const batch = obsColumn(adata, t.batch, file);
  const label = obsColumn(adata, t.label, file);
  const out = path.join(dir, 'subsets');
  fs.mkdirSync(out, { recursive: true });
  const lines = [];
  const parts = [
    [`${t.referenceBatch}.h5ad`, (i) => batch[i] === t.referenceBatch, `${t.batch} == ${t.referenceBatch}`],
    [`${t.queryBatch}.h5ad`, (i) => batch[i] === t.queryBatch, `${t.batch} == ${t.queryBatch}`],
    [`${t.protocolLine}.h5ad`, (i) => label[i] === t.protocolLine, `${t.label} == ${t.protocolLine}`],
  ];
  for (const [name, keep, what] of parts) {
    const rows = [...Array(adata.nObs).keys()].filter(keep);
    if (rows.length === 0) throw new Error(`no cell of ${file} has ${what}`);
    await writeSubset(adata, rows, path.join(out, name));
    lines.push(`subsets/${name}: ${rows.length} cells (${what}) × ${adata.nVars} genes`);
  }
  return `${lines.join('\n')}\n`;
}

/** Step `variance`: mean per-gene R² of batch and of cell line in log-normalised counts and in the decoded expression. */
async function runVariance(t, dir) {
  const { readH5ad } = await io();
  const matrices = [];
  let genes = null;
  for (const [file, what, kind] of [
    ['corrected.h5ad', 'log-normalised counts (X of corrected.h5ad)', 'counts'],
    ['corrected.h5ad', "invae, --transform-batch all (layers['invae_normalized'], log1p)", 'layer'],
    [`as-${t.referenceBatch}.h5ad`, `invae, --transform-batch ${t.referenceBatch} (log1p)`, 'layer'],
  ]) {
    const a = await readH5ad(path.join(dir, file), { onWarning: () => {} });
    const [n, g] = [a.nObs, a.nVars];
    genes = g;
    const values = kind === 'counts' ? logNormalised(denseOf(a.X), n, g) : log1p(denseOf(a.layers.invae_normalized));
    const row = { matrix: what, file, cells: n, genes: g };
    for (const key of [t.batch, t.label]) {
      const { mean, n: used } = finiteMean(r2ByGroup(values, n, g, obsColumn(a, key, file)));
      row[key] = mean;
      row.genesScored = used;
    }
    matrices.push(row);
  }
  fs.writeFileSync(path.join(dir, 'variance.json'), `${JSON.stringify({ batch: t.batch, label: t.label, genes, matrices }, null, 1)}\n`);
  return `${matrices.map((m) => `${m.matrix}: mean R² of ${t.batch} ${m[t.batch].toFixed(4)}, of ${t.label} ${m[t.label].toFixed(4)} (${m.genesScored} genes)`).join('\n')}\n`;
}

/** The Wilcoxon baseline of one `invae de` contrast, on the same cells and genes. */
async function wilcoxonOf(t, dir, deFolder, file) {
  const { readH5ad } = await io();
  const { wilcoxonCalls } = await bench();
  const de = readJson(path.join(dir, deFolder, 'de.json'), `output of invae de (${deFolder})`);
  const a = await readH5ad(file, { onWarning: () => {} });
  const names = Array.from(a.var.table.array(a.var.indexName), String);
  const col = new Map(names.map((n, j) => [n, j]));
  const genes = de.genes.map((g) => g.gene);
  const cols = genes.map((g) => {
    if (!col.has(g)) throw new Error(`${file} has no gene '${g}' of ${deFolder}/de.json`);
    return col.get(g);
  });
  const full = denseOf(a.X);
  const n = a.nObs;
  const counts = new Float32Array(n * cols.length);
  for (let i = 0; i < n; i++) for (let j = 0; j < cols.length; j++) counts[i * cols.length + j] = full[i * a.nVars + cols[j]];
  const groups = obsColumn(a, de.groupby, file);
  const A = [];
  const B = [];
  groups.forEach((g, i) => (g === de.group ? A.push(i) : (de.reference === null ? true : g === de.reference) && B.push(i)));
  const { q, called } = wilcoxonCalls(counts, cols.length, A, B, t.fdr);
  // the log2 fold change of the mean normalised expression, for the |LFC| ≥ δ filter invae's calls have
  const norm = logNormalised(counts, n, cols.length).map(Math.expm1);
  const meanOf = (cells, j) => cells.reduce((s, i) => s + norm[i * cols.length + j], 0) / cells.length;
  const eps = de.pseudocount ?? 1e-4;
  const lfc = genes.map((_, j) => Math.log2(meanOf(A, j) + eps) - Math.log2(meanOf(B, j) + eps));
  const wil = genes.filter((_, j) => called[j]);
  const wilDelta = genes.filter((_, j) => called[j] && Math.abs(lfc[j]) >= de.delta);
  const inv = de.genes.filter((g) => g.isDe).map((g) => g.gene);
  return {
    contrast: `${de.groupby}: ${de.group} vs ${de.reference ?? 'rest'}`,
    file: path.relative(dir, file),
    cells: [A.length, B.length],
    genes: genes.length,
    fdr: t.fdr,
    delta: de.delta,
    invae: inv.length,
    wilcoxon: wil.length,
    wilcoxonDelta: wilDelta.length,
    overlap: overlap(inv, wil),
    overlapDelta: overlap(inv, wilDelta),
    minQ: Math.min(...q),
    topWilcoxon: genes.map((g, j) => ({ gene: g, q: q[j], lfc: lfc[j] })).sort((x, y) => x.q - y.q).slice(0, 10),
  };
}

/** Step `wilcoxon`: both contrasts of `invae de` tested again with a Wilcoxon rank-sum test on log-normalised counts. */
async function runWilcoxon(t, dir, file) {
  const contrasts = {
    'de-lines': await wilcoxonOf(t, dir, 'de-lines', file),
    'de-protocol': await wilcoxonOf(t, dir, 'de-protocol', path.join(dir, 'subsets', `${t.protocolLine}.h5ad`)),
  };
  fs.writeFileSync(path.join(dir, 'wilcoxon.json'), `${JSON.stringify(contrasts, null, 1)}\n`);
  return `${Object.values(contrasts)
    .map((c) => `${c.contrast} (${c.cells[0]} vs ${c.cells[1]} cells, ${c.genes} genes): invae ${c.invae}, Wilcoxon ${c.wilcoxon} (${c.wilcoxonDelta} with |LFC| ≥ ${c.delta}), both ${c.overlap} (${c.overlapDelta})`)
    .join('\n')}\n`;
}

/** Step `transfer`: the query's predictions (mapped, unmapped, model trained on everything) scored against its true cell lines. */
async function runTransfer(t, dir) {
  const { readH5ad } = await io();
  const queryFile = path.join(dir, 'subsets', `${t.queryBatch}.h5ad`);
  const a = await readH5ad(queryFile, { X: false, onWarning: () => {} });
  const truth = obsColumn(a, t.label, queryFile);
  const cells = Array.from(a.obs.table.array(a.obs.indexName), String);
  const out = {};
  for (const [key, csv] of [['unmapped', 'unmapped.csv'], ['mapped', 'mapped.csv'], ['full', 'full.csv']]) {
    const rows = parseCsv(fs.readFileSync(path.join(dir, csv), 'utf8')).filter((r) => r.length > 1);
    const body = rows.slice(1);
    if (body.length !== cells.length || body.some((r, i) => r[0] !== cells[i])) throw new Error(`${csv} does not list the cells of ${queryFile} in order`);
    out[key] = { file: csv, ...transferScores(body.map((r) => r[1]), truth), meanConfidence: body.reduce((s, r) => s + Number(r[2]), 0) / body.length };
  }
  fs.writeFileSync(path.join(dir, 'transfer.json'), `${JSON.stringify({ label: t.label, unknownThreshold: t.unknownThreshold, ...out }, null, 1)}\n`);
  return `${Object.entries(out)
    .map(([k, s]) => `${k}: accuracy ${(s.accuracy * 100).toFixed(1)} % of ${s.cells} cells, ${s.unknown} unknown, ${(s.accuracyOfLabelled * 100).toFixed(1)} % of the labelled`)
    .join('\n')}\n`;
}

/** The steps of the after-integration tutorial. `script` steps run `run(t, dir, file)` of this module. */
export function afterIntegrationSteps(t) {
  const epochs = (n) => (n === null ? [] : ['--epochs', String(n)]);
  const q = `subsets/${t.queryBatch}.h5ad`;
  const thr = String(t.unknownThreshold);
  return [
    { name: 'path', argv: ['datasets', 'path', t.dataset], about: 'Where the dataset is.' },
    {
      name: 'subsets',
      script: true,
      argv: ['subsets', '$FILE', `${t.batch}=${t.referenceBatch}`, `${t.batch}=${t.queryBatch}`, `${t.label}=${t.protocolLine}`],
      output: 'subsets',
      run: (dir, file) => runSubsets(t, dir, file),
      about: `Three subsets of the cells, written by the tutorial script (\`.h5ad\` files as any tool writes them): the ${t.referenceBatch} cells (the reference of the mapping), the ${t.queryBatch} cells (its query) and the ${t.protocolLine} cells (for the protocol-only contrast).`,
    },
    {
      name: 'train',
      argv: ['train', '$FILE', '--inv', t.label, '--spur', t.batch, '--encoder-covariates', 'spurious', '--predict', t.label, ...epochs(t.trainEpochs), '--seed', '0', '--out', 'model'],
      output: 'model',
      about: `Train FinVAE on all 450 cells with the integration preset (2,000 highly variable genes): '${t.label}' conditions the invariant prior, '${t.batch}' is injected into the decoder, and the encoder reads the counts and the batch only (\`--encoder-covariates spurious\`), so that cells are encoded without their cell line — which \`invae predict\` and \`invae map\` below need.`,
    },
    {
      name: 'expression-all',
      argv: ['expression', 'model', '$FILE', '--transform-batch', 'all', '--out', 'corrected.h5ad'],
      output: 'corrected.h5ad',
      about: "Batch-corrected expression: every cell decoded once as if from each protocol and averaged (`--transform-batch all`), per 10,000 counts, into `layers['invae_normalized']`; X of the new file holds the counts of the model's 2,000 genes.",
    },
    {
      name: 'expression-reference',
      argv: ['expression', 'model', '$FILE', '--transform-batch', t.referenceBatch, '--out', `as-${t.referenceBatch}.h5ad`],
      output: `as-${t.referenceBatch}.h5ad`,
      about: `The counterfactual: every cell decoded as if it had been sequenced with ${t.referenceBatch}.`,
    },
    {
      name: 'variance',
      script: true,
      argv: ['variance', 'corrected.h5ad', `as-${t.referenceBatch}.h5ad`, '--by', `${t.batch},${t.label}`],
      output: 'variance.json',
      run: (dir) => runVariance(t, dir),
      about: `How much of each gene's variance the protocol explains, and how much the cell line, before and after correction: per gene, the R² of a one-way ANOVA of its log expression on '${t.batch}' and on '${t.label}' (between-group over total sum of squares), averaged over the model's genes. Computed by the tutorial script (\`r2ByGroup\` in \`scripts/tutorials-after-integration.mjs\`) from the files \`invae expression\` wrote.`,
    },
    {
      name: 'de-lines',
      argv: ['de', 'model', '$FILE', '--groupby', t.label, '--group', t.group, '--reference', t.reference, '--seed', '0', '--out', 'de-lines'],
      output: 'de-lines',
      about: `Differential expression of ${t.group} against ${t.reference} on batch-corrected expression (the default): the posterior of each gene's log2 fold change, P(|LFC| ≥ ${t.delta}), its Bayes factor, and the genes called at a posterior expected FDR of ${t.fdr}.`,
    },
    {
      name: 'de-protocol',
      argv: ['de', 'model', `subsets/${t.protocolLine}.h5ad`, '--groupby', t.batch, '--group', t.referenceBatch, '--reference', t.queryBatch, '--seed', '0', '--out', 'de-protocol'],
      output: 'de-protocol',
      about: `A contrast with no biology in it: the ${t.protocolLine} cells sequenced with ${t.referenceBatch} against the same cell line sequenced with ${t.queryBatch}. Every difference is the protocol's, which batch-corrected expression should remove.`,
    },
    {
      name: 'wilcoxon',
      script: true,
      argv: ['wilcoxon', 'de-lines', 'de-protocol', '--fdr', String(t.fdr)],
      output: 'wilcoxon.json',
      run: (dir, file) => runWilcoxon(t, dir, file),
      about: `The usual baseline on the same cells and genes: a two-sided Wilcoxon rank-sum test of log-normalised counts (counts per 10,000 over the model's genes, log1p; normal approximation with tie correction, as scanpy's \`rank_genes_groups(method='wilcoxon')\`), Benjamini–Hochberg at FDR ${t.fdr} (\`wilcoxonCalls\` of \`@invae/bench\`). As invae calls only changes of |LFC| ≥ ${t.delta}, the Wilcoxon calls are counted also with that filter on the log2 fold change of the mean normalised counts.`,
    },
    {
      name: 'train-reference',
      argv: ['train', `subsets/${t.referenceBatch}.h5ad`, '--inv', t.label, '--spur', t.batch, '--encoder-covariates', 'spurious', '--predict', t.label, ...epochs(t.trainEpochs), '--seed', '0', '--out', 'reference'],
      output: 'reference',
      about: `The reference of the mapping: the same model trained on the ${t.referenceBatch} cells only. The ${t.queryBatch} protocol is unknown to it.`,
    },
    {
      name: 'predict-unmapped',
      argv: ['predict', 'reference', q, '--label', t.label, '--unknown-threshold', thr, '--out', 'unmapped.csv'],
      output: 'unmapped.csv',
      about: `Without mapping: the ${t.queryBatch} cells encoded by the reference as they are (their protocol is a batch the model has not seen), cells whose most probable cell line has a probability below ${thr} marked \`unknown\`.`,
    },
    {
      name: 'map',
      argv: ['map', 'reference', q, '--label', t.label, ...epochs(t.mapEpochs), '--seed', '0', '--out', 'mapped'],
      output: 'mapped',
      about: `Map the ${t.queryBatch} cells onto the reference (scArches-style): only the input weights of the new batch train, on the query's counts; the reference's weights stay frozen. \`--label\` only scores the result: the cell lines of the query are not used for mapping.`,
    },
    {
      name: 'predict-mapped',
      argv: ['predict', 'mapped', q, '--label', t.label, '--unknown-threshold', thr, '--out', 'mapped.csv'],
      output: 'mapped.csv',
      about: `The same prediction with the mapped model.`,
    },
    {
      name: 'predict-full',
      argv: ['predict', 'model', q, '--label', t.label, '--unknown-threshold', thr, '--out', 'full.csv'],
      output: 'full.csv',
      about: `For comparison, the model of step 3, trained on both protocols — these ${t.queryBatch} cells and their cell lines included, so this is a training accuracy, the ceiling for the mapping.`,
    },
    {
      name: 'transfer',
      script: true,
      argv: ['transfer', 'unmapped.csv', 'mapped.csv', 'full.csv', '--label', t.label],
      output: 'transfer.json',
      run: (dir) => runTransfer(t, dir),
      about: `The three predictions scored against the true cell lines by the tutorial script: accuracy over every query cell (\`unknown\` counts as wrong), the cells marked \`unknown\`, and the accuracy over the cells that got a cell line.`,
    },
  ];
}

// ---------------------------------------------------------------------------------------------------
// The page

const num = (n) => n.toLocaleString('en-US');

/** The page of the after-integration tutorial from its output folder `dir` (records and output files alone). */
export function renderAfterIntegration(key, t, dir, assets, siteDir, svgToPng, records, shownArgv) {
  const steps = afterIntegrationSteps(t);
  const byName = Object.fromEntries(steps.map((s) => [s.name, s]));
  const variance = readJson(path.join(dir, 'variance.json'), 'output of step variance');
  const wil = readJson(path.join(dir, 'wilcoxon.json'), 'output of step wilcoxon');
  const transfer = readJson(path.join(dir, 'transfer.json'), 'output of step transfer');
  const deLines = readJson(path.join(dir, 'de-lines', 'de.json'), 'output of invae de (de-lines)');
  const deProtocol = readJson(path.join(dir, 'de-protocol', 'de.json'), 'output of invae de (de-protocol)');
  const history = readJson(path.join(dir, 'model', 'history.json'), 'training history');
  const commits = [...new Set(Object.values(records).map((r) => r.commit))];
  const machines = [...new Set(Object.values(records).map((r) => r.machine))];
  const days = [...new Set(Object.values(records).map((r) => r.startedAt.slice(0, 10)))];
  const L = [];
  const timingRows = [];
  let n = 0;
  const step = (name) => {
    const s = byName[name];
    const r = records[name];
    n += 1;
    const title = s.script ? `script: ${s.argv[0]}` : `invae ${s.argv[0]}${name === 'path' ? ' path' : ''}`;
    L.push(`### ${n}. \`${title}\``, '', s.about, '');
    if (s.script) L.push(`Computed by \`scripts/tutorials-after-integration.mjs\` (no command to type). Output (${seconds(r.wallSeconds)}):`, '', '```text', r.stdout.trim() || '(no output)', '```', '');
    else {
      const shown = shownArgv[name].map(shellQuote);
      L.push('```sh', name === 'path' ? `FILE=$(invae ${shown.join(' ')})` : `invae ${shown.join(' ')}`, '```', '');
      const out = [r.stderr.trim() ? trimLines(r.stderr) : '', r.stdout.trim() ? trimLines(r.stdout) : ''].filter(Boolean);
      L.push(`Output (${seconds(r.wallSeconds)} wall time${out.length === 2 ? '; progress on stderr, then stdout' : ''}):`, '', '```text', out.join('\n') || '(no output)', '```', '');
    }
    timingRows.push(`| ${n}. \`${title}\` | ${r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} | ${seconds(r.wallSeconds)} |`);
  };

  L.push(`# ${t.title}`, '');
  L.push(`<!-- Generated by scripts/tutorials.mjs (npm run docs:tutorials -- --tutorials ${key}) from its output folder; do not edit by hand. -->`, '');
  L.push(t.intro, '');
  L.push(
    `Every command below was run as written, with the \`invae\` command line of this repository, and every number and picture on this page comes from the run's output files, written into the page by \`scripts/tutorials.mjs\`: nothing is pasted by hand. Run on ${days.join(', ')} at commit \`${commits.join('`, `')}\` on ${machines.join('; ')}. The machine was shared with other jobs, so wall times are upper bounds. Seeds are fixed (\`--seed 0\`). The guide pages [Expression and differential expression](../guide/expression-de.md) and [Invariant classifier on a new batch](./predict-new-batch.md#_5-map-the-new-batch-onto-the-model-scarches-style) describe the options.`,
    '',
  );
  const secs = (history.epochs ?? []).map((e) => e.seconds).filter((x) => typeof x === 'number').sort((a, b) => a - b);
  const measured = secs.length ? ` In this run an epoch of the first \`invae train\` took ${secs[0].toFixed(1)}–${secs.at(-1).toFixed(1)} s (median ${secs[Math.floor(secs.length / 2)].toFixed(1)} s).` : '';
  L.push('::: info Epochs', `${t.epochsWhy}${measured}`, ':::', '');

  L.push('## Data and model', '');
  step('path');
  step('subsets');
  step('train');
  const last = history.epochs?.at(-1);
  const loss = publish(path.join(dir, 'model', 'loss.png'), assets, siteDir, 'loss.png', svgToPng);
  L.push(`${history.epochs?.length ?? 0} epochs; last epoch: loss ${fmt(last?.loss)}.`, '', `![Training loss per epoch of invae train on ${t.dataset}](${loss})`, '');

  // ---- corrected expression
  L.push('## Batch-corrected expression', '');
  step('expression-all');
  step('expression-reference');
  step('variance');
  const [raw, all, ref] = variance.matrices;
  L.push(`| expression (log1p, ${num(variance.genes)} genes, ${num(raw.cells)} cells) | mean R² of ${t.batch} (protocol) | mean R² of ${t.label} |`, '| --- | --- | --- |');
  for (const m of variance.matrices) L.push(`| ${m.matrix} | ${fmt(m[t.batch])} | ${fmt(m[t.label])} |`);
  L.push('');
  const cmp = (a, b) => (a < b ? 'less' : a > b ? 'more' : 'as much');
  L.push(
    `Averaged over the genes, the protocol explains ${fmt(raw[t.batch])} of a gene's variance in the log-normalised counts and ${fmt(all[t.batch])} in the expression corrected with \`--transform-batch all\` (${cmp(all[t.batch], raw[t.batch])}, ${fmt(all[t.batch] / raw[t.batch])} ×), ${fmt(ref[t.batch])} when every cell is decoded as ${t.referenceBatch}; the cell line explains ${fmt(raw[t.label])} before and ${fmt(all[t.label])} after (${cmp(all[t.label], raw[t.label])}). The decoded expression is also denoised — it has none of the sampling noise of the counts — which raises the share of any structured factor; the protocol's share falls nonetheless${all[t.batch] < raw[t.batch] ? '' : ' — here it did not'}. Protocol and cell line are not fully independent in this design (the protocols hold the three cell lines in slightly different proportions), so a small R² of ${t.batch} remains even with the protocol fully removed.`,
    '',
  );

  // ---- DE
  L.push('## Differential expression', '');
  step('de-lines');
  const volcano1 = publish(path.join(dir, 'de-lines', 'volcano.png'), assets, siteDir, 'volcano-lines.png', svgToPng, 0.8);
  L.push(`![Volcano plot of ${t.group} vs ${t.reference}](${volcano1})`, '');
  L.push(`The ten genes with the highest Bayes factor (\`de-lines/de.csv\` holds all ${num(deLines.genes.length)}):`, '', ...topTable(deLines), '');
  step('de-protocol');
  const volcano2 = publish(path.join(dir, 'de-protocol', 'volcano.png'), assets, siteDir, 'volcano-protocol.png', svgToPng, 0.8);
  L.push(`![Volcano plot of ${t.protocolLine}: ${t.referenceBatch} vs ${t.queryBatch}](${volcano2})`, '');
  L.push(`Its top genes:`, '', ...topTable(deProtocol), '');
  step('wilcoxon');
  L.push(`| contrast | cells | invae calls | Wilcoxon calls | Wilcoxon, \\|LFC\\| ≥ ${wil['de-lines'].delta} | called by both (Wilcoxon with the filter) |`, '| --- | --- | --- | --- | --- | --- |');
  for (const c of Object.values(wil)) L.push(`| ${c.contrast} | ${c.cells[0]} vs ${c.cells[1]} | ${c.invae} | ${c.wilcoxon} | ${c.wilcoxonDelta} | ${c.overlap} (${c.overlapDelta}) |`);
  L.push('');
  const a = wil['de-lines'];
  const p = wil['de-protocol'];
  L.push(
    `Between two cell lines, invae calls ${a.invae} of ${num(a.genes)} genes at FDR ${a.fdr} and the Wilcoxon test ${a.wilcoxon} (${a.wilcoxonDelta} of them with |LFC| ≥ ${a.delta}); ${a.overlap} genes are called by both${a.wilcoxon ? ` (${pct(a.overlap / a.wilcoxon)} of the Wilcoxon calls${a.invae ? `, ${pct(a.overlap / a.invae)} of invae's` : ''})` : ''}. With no ground truth between two cell lines, the counts alone do not say which calls are right; invae ${a.invae > a.wilcoxon ? 'calls more' : a.invae < a.wilcoxon ? 'calls fewer' : 'calls as many'}: its test is on the posterior of the groups' mean denoised expression rather than on the cells' noisy counts. In the protocol-only contrast, where no gene differs biologically, invae calls ${p.invae} genes on batch-corrected expression and the Wilcoxon test on the counts ${p.wilcoxon} (${p.wilcoxonDelta} with |LFC| ≥ ${p.delta}): ${p.invae < p.wilcoxonDelta ? `${p.wilcoxonDelta ? `${pct(1 - p.invae / p.wilcoxonDelta)} fewer than the filtered Wilcoxon calls — the protocol's genes that a test on counts reports as differences are, for the most part, removed by the correction` : 'fewer'}` : `not fewer than the filtered Wilcoxon calls: the correction did not remove the protocol's differences here`}.`,
    '',
  );

  // ---- mapping
  L.push('## Mapping a new protocol onto a reference', '');
  step('train-reference');
  step('predict-unmapped');
  step('map');
  step('predict-mapped');
  step('predict-full');
  step('transfer');
  L.push(`| ${t.queryBatch} cells (${transfer.mapped.cells}), ${t.label} predicted by | accuracy | marked unknown (confidence < ${transfer.unknownThreshold}) | accuracy of the others | mean confidence |`, '| --- | --- | --- | --- | --- |');
  const rows = [
    ['unmapped', `the reference (${t.referenceBatch} only), query not mapped`],
    ['mapped', `the reference mapped to ${t.queryBatch} (\`invae map\`)`],
    ['full', `the model trained on both protocols (query cells included)`],
  ];
  for (const [k, what] of rows) {
    const s = transfer[k];
    L.push(`| ${what} | ${pct(s.accuracy)} | ${s.unknown} | ${pct(s.accuracyOfLabelled)} | ${fmt(s.meanConfidence)} |`);
  }
  L.push('');
  const tr = records['train-reference'].wallSeconds;
  const refHistory = readJson(path.join(dir, 'reference', 'history.json'), 'training history of the reference');
  const mapHistory = readJson(path.join(dir, 'mapped', 'history.json'), 'training history of the mapping');
  const mp = records.map.wallSeconds;
  L.push(
    `Mapping took ${seconds(mp)} against ${seconds(tr)} for training the reference (${mapHistory.epochs.length} and ${refHistory.epochs.length} epochs; ${transfer.mapped.cells} query cells, ${num(Number(records['subsets'].stdout.match(new RegExp(`${t.referenceBatch}\\.h5ad: (\\d+)`))?.[1] ?? NaN))} reference cells): each mapping epoch runs the whole network forward and backward over the query's cells but updates only the new batch's input weights (median epoch ${medianEpoch(mapHistory)} s mapping, ${medianEpoch(refHistory)} s training). The label-transfer accuracy ${transfer.mapped.accuracy === transfer.unmapped.accuracy ? `is ${pct(transfer.mapped.accuracy)} both unmapped and mapped` : `goes from ${pct(transfer.unmapped.accuracy)} unmapped to ${pct(transfer.mapped.accuracy)} mapped`}, against ${pct(transfer.full.accuracy)} for the model that saw these cells and their labels${transfer.mapped.accuracy === transfer.unmapped.accuracy ? `; the mean confidence of the predictions is ${fmt(transfer.unmapped.meanConfidence)} unmapped and ${fmt(transfer.mapped.meanConfidence)} mapped` : ''}.`,
    '',
  );
  if (['unmapped', 'mapped', 'full'].every((k) => transfer[k].accuracy >= 0.99)) {
    L.push(
      `On CellBench the three cell lines are far enough apart that the reference's predictor places nearly every ${t.queryBatch} cell right even unmapped, with the protocol encoded as unseen: this data cannot show a gain in accuracy from mapping (the simulated held-out batch of [Invariant classifier on a new batch](./predict-new-batch.md) shows one); what it shows is that mapping keeps the predictions of a new protocol right while adding it to the model, for \`invae embed\` and \`invae predict\` to use.`,
      '',
    );
  }
  L.push('## Wall time of each step', '', '| step | started | wall time |', '| --- | --- | --- |', ...timingRows, '');
  L.push('## Regenerate this page', '', '```sh', `npm run docs:tutorials -- --tutorials ${key} --docs apps/docs/src/tutorials`, '```', '');
  L.push(`reruns every step (about ${seconds(Object.values(records).reduce((s, r) => s + r.wallSeconds, 0))} here) unless its record is in the output folder; \`--report-only\` rewrites the page from an existing output folder without running anything.`, '');
  return L.join('\n');
}

/** Median seconds of an epoch in a training history, to one decimal. */
function medianEpoch(history) {
  const s = (history.epochs ?? []).map((e) => e.seconds).filter((x) => typeof x === 'number').sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)].toFixed(2) : '–';
}

/** The ten genes of a DE result with the highest Bayes factor, as a markdown table. */
function topTable(de) {
  const rows = ['| gene | LFC (posterior mean) | P(DE) | ln Bayes factor | called | detection group / reference |', '| --- | --- | --- | --- | --- | --- |'];
  for (const g of de.genes.slice(0, 10)) rows.push(`| ${g.gene} | ${fmt(g.lfcMean)} | ${fmt(g.probaDe)} | ${fmt(g.bayesFactor)} | ${g.isDe ? 'yes' : 'no'} | ${pct(g.detectionGroup)} / ${pct(g.detectionReference)} |`);
  rows.push('', `${de.nDe} of ${num(de.genes.length)} genes called at FDR ${de.fdrTarget} (|LFC| ≥ ${de.delta}; ${de.nCellsGroup} vs ${de.nCellsReference} cells${de.batchCorrected ? ', batch-corrected' : ''}).`);
  return rows;
}
