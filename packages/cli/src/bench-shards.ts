import { promises as fsp } from 'node:fs';
import path from 'node:path';
import * as aq from 'arquero';
import { parse as parseYaml } from 'yaml';
import { InvalidOptionError } from '@invae/core';
import { VERSION as BENCH_VERSION, parseBenchmarkConfig, planBenchmark, sha256File, type BenchmarkConfig, type BenchmarkJobRecord, type BenchmarkJobSpec, type Embedding } from '@invae/bench';
import { VERSION as CORE_VERSION } from '@invae/core';
import { writeH5ad, type AnnData } from '@invae/io-anndata';
import { checkInputFile } from './fs-errors';
import { fillFolderAtomically, writeFileAtomically } from './output';
import { VERSION as CLI_VERSION } from './version';

/** What a job's shard id depends on besides the job: the versions of the code that computes it. */
export const SHARD_VERSIONS: Readonly<Record<string, string>> = { '@invae/cli': CLI_VERSION, '@invae/bench': BENCH_VERSION, '@invae/core': CORE_VERSION };

/** metrics.json of a shard: the job, the versions and the job's record (what `merge` reads). */
export interface ShardMetrics {
  schema: 'invae.bench.shard/1';
  job: Omit<BenchmarkJobSpec, 'shard' | 'file'> & { file: string };
  versions: Record<string, string>;
  record: BenchmarkJobRecord;
}

/** Reads and checks a benchmark config (YAML); paths in it are relative to its folder. */
export async function readBenchConfig(file: string): Promise<BenchmarkConfig> {
  await checkInputFile(file, 'file', 'YAML config');
  let raw: unknown;
  try {
    raw = parseYaml(await fsp.readFile(file, 'utf8'));
  } catch (e) {
    throw new InvalidOptionError('config', `${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`, { hint: 'see workflows/benchmark/config.example.yaml' });
  }
  return parseBenchmarkConfig(raw, path.dirname(path.resolve(file)));
}

/** The file of `<shards>/` that remembers the SHA-256 of each data file with its size and modification time. */
export const HASH_CACHE = '.sha256.json';

interface HashCacheEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/**
 * The jobs of a config (content-addressed: the SHA-256 of every data file). A file's hash is kept in
 * `<shards>/.sha256.json` with its size and modification time and reused while both are unchanged,
 * so the workflow's many `plan` and `run-job` calls do not read large files again; any change of the
 * file (size or time) hashes it anew.
 */
export async function planJobs(config: BenchmarkConfig): Promise<BenchmarkJobSpec[]> {
  const cacheFile = path.join(config.shards, HASH_CACHE);
  let cache: Record<string, HashCacheEntry> = {};
  try {
    const c = JSON.parse(await fsp.readFile(cacheFile, 'utf8')) as unknown;
    if (c && typeof c === 'object' && !Array.isArray(c)) cache = c as Record<string, HashCacheEntry>;
  } catch {
    // no cache yet (or an unreadable one): hash the files
  }
  let changed = false;
  const hashFile = async (file: string) => {
    const st = await fsp.stat(file);
    const hit = cache[file];
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && /^[0-9a-f]{64}$/.test(hit.sha256)) return hit.sha256;
    const { sha256 } = await sha256File(file);
    cache[file] = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
    changed = true;
    return sha256;
  };
  const jobs = await planBenchmark(config, { versions: SHARD_VERSIONS, hashFile });
  if (changed) {
    // best effort: a plan does not fail for a cache it cannot write (e.g. a read-only shards folder)
    await fsp
      .mkdir(config.shards, { recursive: true })
      .then(() => writeFileAtomically(cacheFile, `${JSON.stringify(cache, null, 2)}\n`))
      .catch(() => undefined);
  }
  return jobs;
}

/** Reads a shard's metrics.json (`where`: the shard folder or the file); a typed error names a missing or malformed one. */
export async function readShard(where: string): Promise<ShardMetrics> {
  const file = (await fsp.stat(where).catch(() => null))?.isDirectory() ? path.join(where, 'metrics.json') : where;
  let m: ShardMetrics;
  try {
    m = JSON.parse(await fsp.readFile(file, 'utf8')) as ShardMetrics;
  } catch (e) {
    throw new InvalidOptionError('shards', `Cannot read the shard ${file}: ${(e as Error).message}`, { hint: 'pass shard folders written by invae bench run-job (or their metrics.json)' });
  }
  if (m?.schema !== 'invae.bench.shard/1' || m.record?.schema !== 'invae.bench.job/1') throw new InvalidOptionError('shards', `${file} is not a shard's metrics.json (schema ${String(m?.schema)}).`, { hint: 'pass shard folders written by invae bench run-job' });
  return m;
}

/** Whether a job's shard is complete: metrics.json (written last) of this job id, and the embedding. */
export async function shardDone(job: BenchmarkJobSpec): Promise<boolean> {
  const m = await readShard(job.shard).catch(() => null);
  const h5ad = await fsp.stat(path.join(job.shard, 'embedding.h5ad')).catch(() => null);
  return Boolean(m && m.job.id === job.id && h5ad?.isFile());
}

/** Writes a job's shard atomically: embedding.h5ad (obs names, obsm[`X_<method>`]) and metrics.json. */
export async function writeShard(job: BenchmarkJobSpec, record: BenchmarkJobRecord, embedding: Embedding, cellNames: readonly string[]): Promise<void> {
  const key = `X_${record.name.replace(/[^A-Za-z0-9_]+/g, '_')}`;
  const adata: AnnData = {
    nObs: embedding.nRows,
    nVars: 0,
    obs: { table: aq.table({ _index: [...cellNames] }), indexName: '_index', columns: {} },
    var: { table: aq.table({ _index: [] as string[] }), indexName: '_index', columns: {} },
    layers: {},
    obsm: { [key]: { kind: 'dense', shape: [embedding.nRows, embedding.nCols], dtype: 'float32', data: Float32Array.from(embedding.data) } },
    varm: {},
    obsp: {},
    varp: {},
    uns: { invae_bench_job: { id: job.id, dataset: job.dataset, method: job.method, seed: job.seed, preset: job.preset ?? 'none' } },
  };
  const { shard: _shard, ...spec } = job;
  const metrics: ShardMetrics = { schema: 'invae.bench.shard/1', job: spec, versions: { ...SHARD_VERSIONS }, record };
  await fillFolderAtomically(job.shard, async (tmp) => {
    await writeH5ad(path.join(tmp, 'embedding.h5ad'), adata);
    await fsp.writeFile(path.join(tmp, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
  });
}
