import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { simulate, InvalidOptionError } from '@invae/core';
import {
  DatasetError,
  datasetStatus,
  defaultDataDir,
  fetchDataset,
  fileDatasetEntry,
  getDataset,
  listDatasets,
  prepareDataset,
  preparedToAnnData,
  type DatasetEntry,
  type FetchProgress,
} from '@invae/bench';
import { integer } from '../parse';
import { claimOutput, writeH5adOutput } from '../output';
import { checkInputFile } from '../fs-errors';
import { simulationToAnnData } from './simulate';

/** `1.2 GiB`-style sizes (binary units). */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

/**
 * Byte progress on stderr: a bar rewritten in place on a TTY (at most ten times a second), a line
 * per 10 % otherwise, nothing with `quiet`.
 */
export function byteProgress(options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): { onProgress: (p: FetchProgress) => void; done: () => void } {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  let drawn = false;
  let lastDraw = 0;
  let lastPhase = '';
  let lastDecile = -1;
  let t0 = performance.now();
  let b0 = 0;
  return {
    onProgress(p) {
      if (options.quiet) return;
      const now = performance.now();
      if (p.phase !== lastPhase) {
        if (drawn) stream.write('\n');
        drawn = false;
        lastPhase = p.phase;
        lastDecile = -1;
        t0 = now;
        b0 = p.bytes;
        if (p.phase === 'download' && p.resumedFrom > 0) stream.write(`resuming ${p.dataset} at ${formatBytes(p.resumedFrom)}\n`);
      }
      const frac = p.total ? Math.min(1, p.bytes / p.total) : null;
      const rate = (p.bytes - b0) / Math.max(1e-3, (now - t0) / 1000);
      const what = `${p.phase} ${p.dataset}`;
      const amount = `${formatBytes(p.bytes)}${p.total ? ` / ${formatBytes(p.total)}` : ''}`;
      if (tty) {
        const finished = frac === 1;
        if (!finished && now - lastDraw < 100) return;
        lastDraw = now;
        const width = 24;
        const bar = frac === null ? '?'.repeat(width) : `${'#'.repeat(Math.round(frac * width))}${'.'.repeat(width - Math.round(frac * width))}`;
        const pct = frac === null ? '' : `${(100 * frac).toFixed(0).padStart(3)}% `;
        stream.write(`\r[${bar}] ${pct}${amount}  ${formatBytes(rate)}/s  ${what}\x1b[K`);
        drawn = true;
      } else {
        const decile = frac === null ? Math.floor(p.bytes / (64 * 1024 * 1024)) : Math.floor(frac * 10);
        if (decile === lastDecile) return;
        lastDecile = decile;
        stream.write(`${what}: ${frac === null ? '' : `${(100 * frac).toFixed(0)}% `}${amount}\n`);
      }
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}

/**
 * What `invae bench` (and others) can read for a dataset argument: an existing file as is, else a
 * registry name resolved to its fetched or local .h5ad (throws the fetch/missing error otherwise).
 * Returns the file and, for a registry name, its entry (batch/label keys, counts location).
 */
export async function resolveDatasetArgument(arg: string, dir?: string): Promise<{ file: string; entry: DatasetEntry | null }> {
  if (existsSync(arg)) return { file: arg, entry: null };
  const entry = listDatasets().find((d) => d.name === arg);
  if (!entry) return { file: arg, entry: null };
  if (entry.kind === 'simulated') {
    throw new InvalidOptionError('dataset', `${entry.name} has no file: it is generated.`, { hint: 'write one with `invae simulate --out FILE.h5ad`' });
  }
  const st = await datasetStatus(entry, { dir });
  if (st.state !== 'present' && st.state !== 'local') {
    throw new DatasetError('DATASET_MISSING', entry.name, `${entry.name} is not in ${dir ?? defaultDataDir()} (${st.state}).`, {
      hint: `run \`invae datasets fetch ${entry.name}${dir ? ` --dir ${dir}` : ''}\` first`,
      destination: st.path ?? undefined,
    });
  }
  return { file: st.path!, entry };
}

interface DirOption {
  dir?: string;
}

/**
 * `invae datasets list|fetch|path|prepare`: the benchmark's dataset registry (see @invae/bench's
 * DATASETS): list the datasets with their keys and local state, download one with resume and
 * checksum verification, print where one is, or write its preprocessed (2000 HVG) counts as .h5ad.
 */
export function registerDatasets(program: Command): void {
  const datasets = program.command('datasets').description('the benchmark datasets: list, fetch (download + verify), path, prepare (HVG subset)');
  const dirOption = (c: Command) => c.option('--dir <dir>', `data folder (default: $INVAE_DATA_DIR, else $XDG_CACHE_HOME/invae/datasets or ~/.cache/invae/datasets)`);

  dirOption(datasets.command('list').description('list the registry: size, keys and whether each dataset is here'))
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: DirOption & { json?: boolean }) => {
      const rows = await Promise.all(
        listDatasets().map(async (e) => {
          const st = await datasetStatus(e, { dir: opts.dir });
          const size = e.kind === 'remote' ? (e.download?.sizeBytes ?? null) : st.bytes;
          return { e, st, size };
        }),
      );
      if (opts.json) {
        const out = rows.map(({ e, st, size }) => ({
          name: e.name,
          title: e.title,
          kind: e.kind,
          cells: e.cells,
          genes: e.genes,
          sizeBytes: size,
          sha256: e.kind === 'remote' ? (e.download?.sha256 ?? null) : (e.sha256 ?? null),
          urls: e.download?.urls ?? [],
          batchKey: e.batchKey,
          labelKey: e.labelKey,
          invariant: e.invariant,
          spurious: e.spurious,
          nTopGenes: e.preprocessing.nTopGenes,
          state: st.state,
          path: st.path,
          citation: e.citation,
          notes: e.notes,
        }));
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      const table = [['name', 'cells', 'genes', 'size', 'batch', 'label', 'status']];
      for (const { e, st, size } of rows) {
        const state = st.state === 'partial' ? `partial (${formatBytes(st.bytes)})` : st.state;
        table.push([e.name, e.cells?.toLocaleString('en-US') ?? '?', e.genes?.toLocaleString('en-US') ?? '?', formatBytes(size), e.batchKey, e.labelKey, state]);
      }
      const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
      const lines = table.map((r) => r.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd());
      lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
      process.stdout.write(`${lines.join('\n')}\n\ndata folder: ${path.resolve(opts.dir ?? defaultDataDir())}\n`);
    });

  dirOption(datasets.command('fetch').description('download a dataset (resumes, verifies its SHA-256) or locate a local one').argument('<name>', 'dataset name (see invae datasets list)'))
    .option('--force', 'download again even if a verified copy is present')
    .option('--url <url>', "download from this URL (a mirror) instead of the registry's; repeatable", (v: string, p: string[] = []) => [...p, v])
    .option('--json', 'print the result as JSON')
    .option('--quiet', 'no progress output')
    .action(async (name: string, opts: DirOption & { force?: boolean; url?: string[]; json?: boolean; quiet?: boolean }) => {
      const entry = getDataset(name);
      const bar = byteProgress({ quiet: opts.quiet || opts.json });
      const ac = new AbortController();
      const onSigint = () => ac.abort();
      process.once('SIGINT', onSigint);
      let r;
      try {
        r = await fetchDataset(entry, { dir: opts.dir, force: opts.force, urls: opts.url, onProgress: bar.onProgress, signal: ac.signal });
      } finally {
        bar.done();
        process.removeListener('SIGINT', onSigint);
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return;
      }
      if (r.status === 'generated') {
        process.stdout.write(`${name} is generated, nothing to fetch (invae simulate --out FILE.h5ad writes one).\n`);
        return;
      }
      const what = { downloaded: 'downloaded', resumed: 'downloaded (resumed)', present: 'already present', local: 'found' }[r.status];
      process.stdout.write(`${name}: ${what}: ${r.path} (${formatBytes(r.bytes)})\n`);
      if (r.sha256) {
        process.stdout.write(
          r.checksumVerified ? `sha256 ${r.sha256} verified\n` : `sha256 ${r.sha256} (the registry pins no checksum for ${name}; this one can be pinned)\n`,
        );
      } else if (r.status === 'present') process.stdout.write('not verified: the file was decompressed by hand, so the archive checksum cannot be checked\n');
    });

  dirOption(datasets.command('path').description('print the .h5ad of a fetched or local dataset').argument('<name>', 'dataset name'))
    .action(async (name: string, opts: DirOption) => {
      getDataset(name);
      const { file } = await resolveDatasetArgument(name, opts.dir);
      process.stdout.write(`${file}\n`);
    });

  dirOption(
    datasets
      .command('prepare')
      .description('write a dataset preprocessed for benchmarking: raw counts of its highly variable genes (seurat_v3) with obs')
      .argument('[name]', 'dataset name (omit with --file to prepare any .h5ad)')
      .requiredOption('-o, --out <file>', 'output .h5ad (written atomically)'),
  )
    .option('--file <h5ad>', "read this file instead of the registry's copy; without a name, any .h5ad (raw counts from layers['counts'], X or raw.X)")
    .option('--batch <key>', 'with --file and no name: obs key of the batches for the HVG selection (default: none)')
    .option('--label <key>', 'with --file and no name: obs key of the labels, checked to be present')
    .option('--layer <name>', 'with --file and no name: the layer of the raw counts')
    .option('--n-top-genes <n>', "highly variable genes to keep (default: the dataset's, 2000 for real data)", integer(1))
    .option('--all-genes', 'keep every gene (no HVG selection)')
    .option('--seed <n>', 'seed of simulated data', integer(0))
    .option('--overwrite', 'replace an existing output file')
    .option('--quiet', 'no progress output')
    .action(async (name: string | undefined, opts: DirOption & { out: string; file?: string; batch?: string; label?: string; layer?: string; nTopGenes?: number; allGenes?: boolean; seed?: number; overwrite?: boolean; quiet?: boolean }) => {
      if (!name && !opts.file) throw new InvalidOptionError('dataset', 'Name a dataset or pass --file FILE.h5ad.', { hint: 'see invae datasets list' });
      if (name && (opts.batch || opts.label || opts.layer)) {
        throw new InvalidOptionError('dataset', `--batch, --label and --layer describe a file without a registry name; ${name} has its own keys.`, { hint: `drop them, or drop the name ${name}` });
      }
      const entry = name ? getDataset(name) : fileDatasetEntry(opts.file!, { batchKey: opts.batch, labelKey: opts.label, layer: opts.layer });
      const out = path.resolve(opts.out);
      if (opts.file) await checkInputFile(opts.file, 'file', '.h5ad file');
      const lock = await claimOutput(out, { inputs: [opts.file], overwrite: opts.overwrite });
      try {
        await prepare(entry, out, opts);
      } finally {
        lock.release();
      }
    });
}

/** The run of `invae datasets prepare`, once its output is claimed. */
async function prepare(entry: ReturnType<typeof getDataset>, out: string, opts: DirOption & { file?: string; nTopGenes?: number; allGenes?: boolean; seed?: number; quiet?: boolean }): Promise<void> {
  const log = (m: string) => {
    if (!opts.quiet) process.stderr.write(`${m}\n`);
  };
  const t0 = performance.now();
  if (entry.kind === 'simulated' && !opts.file) {
    const sim = simulate({ seed: opts.seed, format: 'csr' });
    await writeH5adOutput(out, simulationToAnnData(sim));
    process.stdout.write(`wrote ${out}: ${sim.nCells} cells × ${sim.nGenes} genes (simulated, seed ${sim.options.seed})\n`);
    return;
  }
  const nTopGenes = opts.allGenes ? null : opts.nTopGenes;
  const p = await prepareDataset(entry, { dir: opts.dir, file: opts.file, nTopGenes, onProgress: log });
  await writeH5adOutput(out, preparedToAnnData(p));
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  process.stdout.write(
    `wrote ${out}: ${p.counts.shape[0]} cells × ${p.counts.shape[1]} genes (counts from ${p.countsLocation}${p.hvg ? `, ${p.counts.shape[1]} seurat_v3 HVGs of ${p.nFeatures}${entry.batchKey ? ` by '${entry.batchKey}'` : ''}` : ''}) in ${secs} s; batch key ${entry.batchKey ? `'${entry.batchKey}'` : 'none'}, label key ${entry.labelKey ? `'${entry.labelKey}'` : 'none'}\n`,
  );
}
