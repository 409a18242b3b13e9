import { createHash } from 'node:crypto';
import path from 'node:path';
import { InvalidOptionError, PRESETS, type PresetName } from '@invae/core';
import { sha256File } from '../datasets/fetch';
import { BENCHMARK_METHODS, type BenchmarkMethod } from './methods';
import type { RunBenchmarkOptions } from './run-benchmark';

/** A data set of a benchmark config. */
export interface BenchmarkConfigDataset {
  /** Its key in the config (the folder of its merged results). */
  name: string;
  /** The .h5ad, resolved against the config's folder. */
  file: string;
  batch: string;
  label: string;
  layer: string | null;
}

/** The options every job of a benchmark config shares (those of `invae bench`). */
export interface BenchmarkConfigOptions {
  epochs?: number;
  nTopGenes?: number;
  latentInv?: number;
  inv?: string[];
  spur?: string[];
  lobo?: boolean;
  loboClassifier?: 'linear' | 'knn';
  /** Min-max scaling at merge time (not part of a job's hash). */
  scale?: boolean;
}

/** A benchmark matrix: data sets × methods × seeds × presets, as `invae bench plan` reads it from YAML. */
export interface BenchmarkConfig {
  /** Folder of the job shards (resolved against the config's folder; default `shards`). */
  shards: string;
  /** Folder of the merged results (default `results`). */
  results: string;
  datasets: BenchmarkConfigDataset[];
  methods: BenchmarkMethod[];
  seeds: number[];
  presets: PresetName[];
  options: BenchmarkConfigOptions;
}

/** One job of a plan: a method with a seed and preset on a data set, and the shard folder it writes. */
export interface BenchmarkJobSpec {
  /** Content address: hash of the data file's content, the job and its options, and the versions. */
  id: string;
  dataset: string;
  file: string;
  /** SHA-256 of the data file. */
  datasetSha256: string;
  method: BenchmarkMethod;
  seed: number;
  /** Null for PCA (not trained: one job per data set, with the lowest seed). */
  preset: PresetName | null;
  /** `<shards>/<id>`. */
  shard: string;
}

const TOP_KEYS = ['shards', 'results', 'datasets', 'methods', 'seeds', 'presets', 'options'];
const DATASET_KEYS = ['file', 'batch', 'label', 'layer'];
const OPTION_KEYS = ['epochs', 'nTopGenes', 'latentInv', 'inv', 'spur', 'lobo', 'loboClassifier', 'scale'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(where: string, message: string, hint?: string): never {
  throw new InvalidOptionError(`config.${where}`, `${where}: ${message}`, hint ? { hint } : {});
}

function unknownKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  const extra = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (extra.length) bad(where ? `${where}.${extra[0]}` : extra[0]!, `unknown key '${extra[0]}'.`, `the keys are ${allowed.join(', ')}`);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || !v.trim()) bad(where, `expected a non-empty string, got ${JSON.stringify(v)}.`);
  return v;
}

function int(v: unknown, where: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) bad(where, `expected an integer ≥ ${min}, got ${JSON.stringify(v)}.`);
  return v;
}

function strings(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || !v.length) bad(where, `expected a non-empty list, got ${JSON.stringify(v)}.`);
  return v.map((x, i) => str(x, `${where}[${i}]`));
}

/**
 * Checks a benchmark config (the object a YAML file parses to) and resolves its paths against
 * `baseDir` (the config file's folder). Unknown keys are errors, so a typo does not pass silently.
 *
 * ```yaml
 * shards: shards            # job shards: <shards>/<job id>/embedding.h5ad + metrics.json
 * results: results          # merged results: <results>/<data set>/results.*
 * datasets:
 *   sim1: { file: data/sim1.h5ad, batch: batch, label: cell_type }
 * methods: [pca, finvae]
 * seeds: [0, 1]
 * presets: [integration]
 * options: { epochs: 3 }
 * ```
 * @throws InvalidOptionError naming the key (`config.datasets.sim1.batch`).
 */
export function parseBenchmarkConfig(raw: unknown, baseDir: string): BenchmarkConfig {
  if (!isObject(raw)) bad('(top)', 'the config is not a mapping.', 'see workflows/benchmark/config.example.yaml');
  unknownKeys(raw, TOP_KEYS, '');
  if (!isObject(raw.datasets) || !Object.keys(raw.datasets).length) bad('datasets', 'expected a mapping of data set names to { file, batch, label }.');
  const datasets = Object.entries(raw.datasets).map(([name, d]): BenchmarkConfigDataset => {
    const where = `datasets.${name}`;
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) bad(where, `the name '${name}' is not a folder name.`, 'use letters, digits, _ . -');
    if (!isObject(d)) bad(where, 'expected a mapping { file, batch, label }.');
    unknownKeys(d, DATASET_KEYS, where);
    return {
      name,
      file: path.resolve(baseDir, str(d.file, `${where}.file`)),
      batch: str(d.batch, `${where}.batch`),
      label: str(d.label, `${where}.label`),
      layer: d.layer === undefined || d.layer === null ? null : str(d.layer, `${where}.layer`),
    };
  });
  const methods = raw.methods === undefined ? (['pca', 'finvae'] as BenchmarkMethod[]) : strings(raw.methods, 'methods');
  methods.forEach((m, i) => {
    if (!(BENCHMARK_METHODS as readonly string[]).includes(m)) bad(`methods[${i}]`, `unknown method '${m}'.`, `choose from ${BENCHMARK_METHODS.join(', ')}`);
  });
  const seeds = raw.seeds === undefined ? [0] : Array.isArray(raw.seeds) && raw.seeds.length ? raw.seeds.map((s, i) => int(s, `seeds[${i}]`, 0)) : bad('seeds', `expected a non-empty list of integers, got ${JSON.stringify(raw.seeds)}.`);
  const presets = raw.presets === undefined ? (['integration'] as PresetName[]) : strings(raw.presets, 'presets');
  presets.forEach((p, i) => {
    if (!(p in PRESETS)) bad(`presets[${i}]`, `unknown preset '${p}'.`, `choose from ${Object.keys(PRESETS).join(', ')}`);
  });
  const o = raw.options ?? {};
  if (!isObject(o)) bad('options', 'expected a mapping.');
  unknownKeys(o, OPTION_KEYS, 'options');
  const options: BenchmarkConfigOptions = {};
  if (o.epochs !== undefined) options.epochs = int(o.epochs, 'options.epochs', 1);
  if (o.nTopGenes !== undefined) options.nTopGenes = int(o.nTopGenes, 'options.nTopGenes', 0);
  if (o.latentInv !== undefined) options.latentInv = int(o.latentInv, 'options.latentInv', 1);
  if (o.inv !== undefined) options.inv = strings(o.inv, 'options.inv');
  if (o.spur !== undefined) options.spur = strings(o.spur, 'options.spur');
  for (const k of ['lobo', 'scale'] as const) {
    if (o[k] !== undefined) {
      if (typeof o[k] !== 'boolean') bad(`options.${k}`, `expected true or false, got ${JSON.stringify(o[k])}.`);
      options[k] = o[k];
    }
  }
  if (o.loboClassifier !== undefined) {
    if (o.loboClassifier !== 'linear' && o.loboClassifier !== 'knn') bad('options.loboClassifier', `expected linear or knn, got ${JSON.stringify(o.loboClassifier)}.`);
    options.loboClassifier = o.loboClassifier;
  }
  return {
    shards: path.resolve(baseDir, raw.shards === undefined ? 'shards' : str(raw.shards, 'shards')),
    results: path.resolve(baseDir, raw.results === undefined ? 'results' : str(raw.results, 'results')),
    datasets,
    methods: [...new Set(methods)] as BenchmarkMethod[],
    seeds: [...new Set(seeds)].sort((a, b) => a - b),
    presets: [...new Set(presets)] as PresetName[],
    options,
  };
}

/** The options of `runBenchmarkJob` for a job of `config` (the batch, label and layer of its data set, the shared options). */
export function jobRunOptions(config: BenchmarkConfig, job: BenchmarkJobSpec): Omit<RunBenchmarkOptions, 'methods' | 'seeds' | 'seed'> & { method: BenchmarkMethod; seed: number } {
  const d = config.datasets.find((x) => x.name === job.dataset)!;
  const { scale: _scale, ...o } = config.options;
  return { ...o, batch: d.batch, label: d.label, layer: d.layer, preset: job.preset ?? config.presets[0]!, method: job.method, seed: job.seed, umap: false };
}

/**
 * The jobs of a config: per data set one PCA job (not trained; lowest seed) and every trained method
 * × seed × preset. Each job's id hashes the data file's content (SHA-256, so it is the same on every
 * machine and changes when the file does), the job, the options that change its numbers (batch,
 * label, layer and the shared options but `scale`, applied at merge) and `versions`, so a finished
 * shard is found again by a rerun and a changed input gets a new one.
 */
export async function planBenchmark(config: BenchmarkConfig, options: { versions: Readonly<Record<string, string>>; hashFile?: (file: string) => Promise<string> }): Promise<BenchmarkJobSpec[]> {
  const hashFile = options.hashFile ?? (async (f: string) => (await sha256File(f)).sha256);
  const { scale: _scale, ...shared } = config.options;
  const jobs: BenchmarkJobSpec[] = [];
  for (const d of config.datasets) {
    let sha: string;
    try {
      sha = await hashFile(d.file);
    } catch (e) {
      throw new InvalidOptionError(`config.datasets.${d.name}.file`, `datasets.${d.name}.file: cannot read ${d.file} (${(e as Error).message}).`, { hint: 'paths are relative to the config file' });
    }
    const add = (method: BenchmarkMethod, seed: number, preset: PresetName | null) => {
      const key = { schema: 'invae.bench.job/1', versions: options.versions, data: sha, batch: d.batch, label: d.label, layer: d.layer, method, seed, preset, options: shared };
      const id = createHash('sha256').update(stableJson(key)).digest('hex').slice(0, 24);
      jobs.push({ id, dataset: d.name, file: d.file, datasetSha256: sha, method, seed, preset, shard: path.join(config.shards, id) });
    };
    for (const method of [...config.methods].sort((a, b) => BENCHMARK_METHODS.indexOf(a) - BENCHMARK_METHODS.indexOf(b))) {
      if (method === 'pca') add(method, config.seeds[0]!, null);
      else for (const preset of config.presets) for (const seed of config.seeds) add(method, seed, preset);
    }
  }
  return jobs;
}

/** JSON with the keys of every object sorted (a stable hash input). */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
