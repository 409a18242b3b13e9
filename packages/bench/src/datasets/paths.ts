import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DatasetEntry } from './registry';

/**
 * The folder datasets are downloaded to: `$INVAE_DATA_DIR`, else `$XDG_CACHE_HOME/invae/datasets`,
 * else `~/.cache/invae/datasets`.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.INVAE_DATA_DIR) return path.resolve(env.INVAE_DATA_DIR);
  const cache = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(cache, 'invae', 'datasets');
}

function ancestors(start: string): string[] {
  const out: string[] = [];
  let d = path.resolve(start);
  for (;;) {
    out.push(d);
    const up = path.dirname(d);
    if (up === d) return out;
    d = up;
  }
}

/**
 * Where a `local` entry's file may be, in the order tried: `$INVAE_SHARED/<sharedPath>`, then
 * `<A>/shared/<sharedPath>` for every folder A from the current folder (and from the running
 * script's folder) up to the root — so `../shared` beside a clone is found from anywhere inside it —
 * then `<dir>/<fileName>`.
 */
export function localCandidates(entry: DatasetEntry, dir: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string[] {
  const out: string[] = [];
  if (entry.sharedPath) {
    if (env.INVAE_SHARED) out.push(path.resolve(env.INVAE_SHARED, entry.sharedPath));
    const starts = [cwd];
    if (process.argv[1]) starts.push(path.dirname(path.resolve(process.argv[1])));
    for (const s of starts) for (const a of ancestors(s)) out.push(path.join(a, 'shared', entry.sharedPath));
  }
  out.push(path.join(dir, entry.fileName));
  return [...new Set(out)];
}

/** The first existing candidate of {@link localCandidates}, or null. */
export function findLocalFile(entry: DatasetEntry, dir: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | null {
  return localCandidates(entry, dir, env, cwd).find((p) => existsSync(p)) ?? null;
}
