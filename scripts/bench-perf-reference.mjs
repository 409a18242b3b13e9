// The PyTorch reference (theislab/inVAE) beside invae in `npm run bench:perf -- --reference DIR`:
// writes bench-perf's simulated data to a temporary .h5ad, runs scripts/bench-reference.py on it for
// each model and thread count, and sets each invae training entry beside the reference entries of the
// same model and size (ratioToReference). The reference is never part of the repository: DIR is a local
// checkout (or bare git repository) of github.com/theislab/inVAE, python one with torch and anndata.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** scripts/bench-reference.py. */
export const referenceScript = fileURLToPath(new URL('./bench-reference.py', import.meta.url));

/** The covariates of bench-perf's invae run, which the reference gets too. */
export const REFERENCE_KEYS = { inv: ['cell_type', 'disease'], spur: ['batch'] };

/**
 * The python that runs the reference: $INVAE_REFERENCE_PYTHON, else Debian's /usr/bin/python3 (which has
 * python3-torch and python3-anndata), else python3 on the PATH (test-support's judge resolution).
 */
export function referencePython(env = process.env, exists = fs.existsSync) {
  return env.INVAE_REFERENCE_PYTHON || (exists('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

/** The reference folder: `--reference`, else $INVAE_REFERENCE_DIR, else null (not requested). */
export function referenceDir(option, env = process.env) {
  const d = option ?? env.INVAE_REFERENCE_DIR;
  return d ? path.resolve(d) : null;
}

/**
 * `--reference-threads`: comma-separated positive integers, duplicates dropped, in the order given.
 * @throws Error naming the bad value.
 */
export function parseReferenceThreads(text) {
  const parts = String(text).split(',').map((s) => s.trim());
  const out = [];
  for (const p of parts) {
    const n = Number(p);
    if (p === '' || !Number.isSafeInteger(n) || n < 1) throw new Error(`--reference-threads expects comma-separated thread counts ≥ 1 (e.g. 1,2), got '${text}'`);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** The arguments of one bench-reference.py run. */
export function referenceArgs({ script = referenceScript, dir, h5ad, model, warmup, steps, threads, batchSize = 256 }) {
  return [
    script,
    '--reference', dir,
    '--h5ad', h5ad,
    '--model', model.toLowerCase(),
    '--warmup', String(warmup),
    '--steps', String(steps),
    '--threads', String(threads),
    '--batch-size', String(batchSize),
    '--inv-keys', REFERENCE_KEYS.inv.join(','),
    '--spur-keys', REFERENCE_KEYS.spur.join(','),
  ];
}

/**
 * Why the reference cannot run here (a phrase), or null when it can: `dir` must exist and `python` must
 * import torch and anndata.
 */
export function referenceUnavailable(dir, python, spawn = spawnSync) {
  if (!fs.existsSync(dir)) return `reference folder ${dir} not found (a checkout of github.com/theislab/inVAE; --reference or INVAE_REFERENCE_DIR)`;
  const r = spawn(python, ['-c', 'import torch, anndata'], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) return `${python} does not run (${r.error.code ?? r.error.message}; set INVAE_REFERENCE_PYTHON)`;
  if (r.status !== 0) {
    const m = /No module named '([^']+)'/.exec(r.stderr ?? '');
    return m ? `${python} cannot import ${m[1]} (apt-get install python3-${m[1]}, or set INVAE_REFERENCE_PYTHON)` : `${python} cannot import torch and anndata: ${lastLine(r.stderr)}`;
  }
  return null;
}

function lastLine(text) {
  return (text ?? '').trim().split('\n').filter(Boolean).pop() ?? '';
}

/**
 * Runs bench-reference.py once: its JSON object, or `{ model, threads, error }` with the script's
 * message when it fails (never a throw: one failed run does not end the benchmark).
 */
export function runReference(python, opts, spawn = spawnSync) {
  const r = spawn(python, referenceArgs(opts), { encoding: 'utf8', timeout: opts.timeoutMs ?? 1_800_000, maxBuffer: 64 * 1024 * 1024 });
  const fail = (error) => ({ implementation: 'reference', model: opts.model, threads: opts.threads, error });
  if (r.error) return fail(`${python} did not run: ${r.error.code ?? r.error.message}`);
  if (r.status !== 0) return fail(lastLine(r.stderr) || `exit status ${r.status}`);
  try {
    return JSON.parse(lastLine(r.stdout));
  } catch {
    return fail(`bench-reference.py printed no JSON: ${lastLine(r.stdout)}`);
  }
}

/** invae cells/s over reference cells/s, 3 decimals (null when either is missing). */
export function ratio(invaeCellsPerSecond, referenceCellsPerSecond) {
  if (!(invaeCellsPerSecond > 0) || !(referenceCellsPerSecond > 0)) return null;
  return +(invaeCellsPerSecond / referenceCellsPerSecond).toFixed(3);
}

/**
 * Sets each invae training entry beside the reference: `ratioToReference` is its cells/s over the
 * reference's of the same model and size, run with as many threads as invae used workers (else the
 * fewest threads measured); `referenceThreads` names that run and `ratioToReferenceByThreads` gives
 * the ratio to every measured thread count. Without reference runs (not requested, unavailable, or
 * failed) the three fields are null. Returns new entries; the inputs are not modified.
 */
export function sideBySide(training, referenceRuns) {
  const ok = Array.isArray(referenceRuns) ? referenceRuns.filter((r) => !r.error && r.cellsPerSecond > 0) : [];
  return training.map((t) => {
    const same = ok.filter((r) => r.model === t.model && r.cells === t.nCells).sort((a, b) => a.threads - b.threads);
    if (same.length === 0) return { ...t, referenceThreads: null, ratioToReference: null, ratioToReferenceByThreads: null };
    const match = same.find((r) => r.threads === t.workersUsed) ?? same[0];
    return {
      ...t,
      referenceThreads: match.threads,
      ratioToReference: ratio(t.cellsPerSecond, match.cellsPerSecond),
      ratioToReferenceByThreads: Object.fromEntries(same.map((r) => [String(r.threads), ratio(t.cellsPerSecond, r.cellsPerSecond)])),
    };
  });
}

/**
 * Runs repeated over rounds (bench:perf --rounds) as one run per configuration: the first run of each
 * `key` with `cellsPerSecond` and `msPerStep` (and `cpuMsPerStep` when present) the medians over its
 * rounds (the lower middle for an even count), and `roundsCellsPerSecond` every round's value in
 * order. Failed runs (`error`) are kept only when no round of that configuration succeeded.
 */
export function medianOfRounds(runs, key) {
  const groups = new Map();
  for (const r of runs) {
    const k = key(r);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(r);
  }
  const median = (values) => {
    const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
    return v.length ? v[Math.floor((v.length - 1) / 2)] : undefined;
  };
  return [...groups.values()].map((group) => {
    const ok = group.filter((r) => !r.error);
    if (ok.length === 0) return group[0];
    const out = { ...ok[0], cellsPerSecond: median(ok.map((r) => r.cellsPerSecond)), msPerStep: median(ok.map((r) => r.msPerStep)), roundsCellsPerSecond: ok.map((r) => r.cellsPerSecond) };
    const cpu = median(ok.map((r) => r.cpuMsPerStep));
    if (cpu !== undefined) out.cpuMsPerStep = cpu;
    return out;
  });
}

/** Table lines (stderr) of the reference runs and of invae beside them. */
export function referenceTable(training, reference) {
  if (typeof reference === 'string') return [`reference: ${reference}`];
  if (reference.error) return [`reference: not run: ${reference.error}`];
  const pad = (s, n) => String(s).padEnd(n);
  const lines = [`reference (theislab/inVAE ${reference.commit ? reference.commit.slice(0, 7) : 'no git commit'}, torch ${reference.torch ?? '?'}, ${reference.python})`];
  lines.push(`${pad('model', 9)}${pad('cells', 8)}${pad('threads', 9)}${pad('cells/s', 9)}${pad('ms/step', 9)}cpu ms/step`);
  for (const r of reference.runs) {
    lines.push(r.error ? `${pad(r.model, 9)}${pad('', 8)}${pad(r.threads, 9)}failed: ${r.error}` : `${pad(r.model, 9)}${pad(r.cells, 8)}${pad(r.threads, 9)}${pad(r.cellsPerSecond, 9)}${pad(r.msPerStep, 9)}${r.cpuMsPerStep ?? '—'}`);
  }
  lines.push('', 'invae beside the reference (same model and size; reference with threads = workers used, else 1)');
  lines.push(`${pad('model', 9)}${pad('cells', 8)}${pad('workers', 10)}${pad('path', 9)}${pad('invae', 9)}${pad('reference', 14)}ratio`);
  for (const t of training) {
    const ref = reference.runs.find((r) => !r.error && r.model === t.model && r.cells === t.nCells && r.threads === t.referenceThreads);
    lines.push(`${pad(t.model, 9)}${pad(t.nCells, 8)}${pad(`${t.workers}→${t.workersUsed}`, 10)}${pad(t.path ?? '—', 9)}${pad(t.cellsPerSecond, 9)}${pad(ref ? `${ref.cellsPerSecond} (${ref.threads}t)` : '—', 14)}${t.ratioToReference ?? '—'}`);
  }
  return lines;
}

/** The AnnData (for @invae/io-anndata's writeH5ad) of a core `simulate` result: CSR counts in X, obs batch/cell_type/disease. */
export function simulationAnnData(sim, aq) {
  const c = sim.counts;
  if (c.kind !== 'csr') throw new Error('simulationAnnData expects CSR counts');
  const cat = (k) => ({ kind: 'categorical', categories: sim.categories[k], ordered: false });
  return {
    nObs: sim.nCells,
    nVars: sim.nGenes,
    X: { kind: 'csr', shape: [c.shape[0], c.shape[1]], dtype: 'float32', data: c.data, indices: c.indices, indptr: c.indptr },
    obs: {
      table: aq.table({ _index: sim.cellNames, batch: sim.obs.batch, cell_type: sim.obs.cell_type, disease: sim.obs.disease }),
      indexName: '_index',
      columns: { batch: cat('batch'), cell_type: cat('cell_type'), disease: cat('disease') },
    },
    var: { table: aq.table({ _index: sim.geneNames }), indexName: '_index', columns: {} },
    layers: {},
    obsm: {},
    varm: {},
    obsp: {},
    varp: {},
    uns: {},
  };
}
