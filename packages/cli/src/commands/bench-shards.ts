import path from 'node:path';
import { promises as fsp } from 'node:fs';
import type { Command } from 'commander';
import { InvalidOptionError, initEngine } from '@invae/core';
import { jobRunOptions, mergeBenchmarkJobs, runBenchmarkJob, type BenchmarkJobRecord } from '@invae/bench';
import { readBenchInput } from '../bench-input';
import { planJobs, readBenchConfig, readShard, shardDone, writeShard } from '../bench-shards';
import { claimOutput, writeFolderAtomically } from '../output';
import { integerList } from '../parse';
import { loadPlugins } from '../plugins';
import type { GlobalOptions } from '../program';
import { VERSION as CLI_VERSION } from '../version';

/**
 * `invae bench plan | run-job | merge`: a benchmark matrix (data sets × methods × seeds × presets, from
 * a YAML config) as content-addressed job shards and their merge, for a workflow engine (Snakemake).
 */
export function registerBenchShards(bench: Command): void {
  // `invae bench FILE` requires --batch, --label and --out; its subcommands do not. Options that both
  // know (--out, --json, --quiet, --seeds, --scale, --overwrite) are parsed by bench (commander parses
  // a parent's options wherever they appear), so the subcommands read them with optsWithGlobals().
  const required = bench.options.filter((o) => o.mandatory);
  bench.hook('preSubcommand', () => {
    for (const o of required) o.mandatory = false;
  });
  bench.hook('postAction', () => {
    for (const o of required) o.mandatory = true;
  });
  bench
    .command('plan')
    .description('list the jobs of a benchmark config (data set × method × seed × preset), each with its content-addressed shard folder and whether it is done')
    .argument('<config>', 'benchmark config (YAML; see workflows/benchmark/config.example.yaml)')
    .option('--json', 'one JSON object per job and line')
    .action(async (configFile: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ json?: boolean }>();
      const jobs = await planJobs(await readBenchConfig(configFile));
      for (const job of jobs) {
        const done = await shardDone(job);
        if (opts.json) process.stdout.write(`${JSON.stringify({ ...job, done })}\n`);
        else process.stdout.write(`${job.id}  ${job.dataset}  ${job.method}  seed ${job.seed}  ${job.preset ?? '-'}  ${done ? 'done' : 'pending'}\n`);
      }
    });

  bench
    .command('run-job')
    .description("run one job of a benchmark config: its embedding (obsm of <shard>/embedding.h5ad) and metrics (<shard>/metrics.json); a finished shard is skipped")
    .argument('<config>', 'benchmark config (YAML)')
    .requiredOption('--job <id>', "the job's id (invae bench plan lists them)")
    .option('--quiet', 'no progress output')
    .action(async (configFile: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ job: string; quiet?: boolean } & GlobalOptions>();
      const config = await readBenchConfig(configFile);
      const jobs = await planJobs(config);
      const job = jobs.find((j) => j.id === opts.job);
      if (!job) throw new InvalidOptionError('job', `${configFile} has no job '${opts.job}' (it has ${jobs.length}).`, { hint: `invae bench plan ${configFile} lists the ids; an edited config or data file gives new ones` });
      const log = (m: string) => void (!opts.quiet && process.stderr.write(`${m}\n`));
      if (await shardDone(job)) {
        log(`job ${job.id} (${job.dataset} ${job.method} seed ${job.seed}) is done: ${job.shard} (skipped)`);
        return;
      }
      await initEngine({ backend: opts.backend, report: opts.quiet ? null : undefined });
      await loadPlugins();
      const options = jobRunOptions(config, job);
      const input = await readBenchInput(job.file, options.layer ?? undefined, true);
      const result = await runBenchmarkJob(input, { ...options, log });
      await fsp.mkdir(path.dirname(job.shard), { recursive: true });
      await writeShard(job, result.record, result.embedding, input.cellNames ?? []);
      log(`wrote ${job.shard}`);
    });

  bench
    .command('merge')
    .description('merge job shards into the results of a single-process run (invae bench FILE --seeds): <out>/<data set>/results.json/csv/md/svg and run.json')
    .argument('<shards...>', 'shard folders (or their metrics.json)')
    .option('-o, --out <dir>', 'output directory (required)')
    .option('--scale', 'min-max scale every metric across methods (per seed) before aggregating')
    .option('--seeds <list>', 'the seeds every trained method must have (default: those of the shards)', integerList(0))
    .option('--overwrite', 'replace an existing output directory')
    .option('--quiet', 'no table output')
    .action(async (shards: string[], _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ out?: string; scale?: boolean; seeds?: number[]; overwrite?: boolean; quiet?: boolean }>();
      const out = opts.out;
      if (!out) throw new InvalidOptionError('out', 'invae bench merge needs --out DIR.', { hint: 'e.g. invae bench merge shards/* --out results' });
      const byDataset = new Map<string, BenchmarkJobRecord[]>();
      for (const s of shards) {
        const m = await readShard(s);
        byDataset.set(m.job.dataset, [...(byDataset.get(m.job.dataset) ?? []), m.record]);
      }
      const runs = [...byDataset].map(([name, records]) => [name, mergeBenchmarkJobs(records, { scale: opts.scale, seeds: opts.seeds, environment: { '@invae/cli': CLI_VERSION } })] as const);
      const lock = await claimOutput(out, { inputs: shards, overwrite: opts.overwrite });
      try {
        await fsp.mkdir(out, { recursive: true });
        for (const [name, run] of runs) {
          await writeFolderAtomically(path.join(out, name), run.files);
          if (!opts.quiet) process.stdout.write(`## ${name}\n\n${run.markdown}\n`);
        }
      } finally {
        lock.release();
      }
    });
}
