#!/usr/bin/env node
// Finds the benchmark results the docs' benchmark page is generated from: the `results.json` files
// (with their sibling results.md / results.svg / UMAP pictures) that `npm run bench:ci` writes under
// reports/bench-ci/, or under the folder (or file) named by INVAE_BENCH_RESULTS.
// `--fingerprint` prints a hash of those files (an Nx runtime input of docs:build, so the page is
// rebuilt when the results change).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './lib.mjs';

/** Where bench:ci results are looked for. */
export function benchResultsRoot() {
  const env = process.env.INVAE_BENCH_RESULTS;
  return env ? path.resolve(repoRoot, env) : path.join(repoRoot, 'reports', 'bench-ci');
}

const PICTURE = /\.(svg|png)$/i;

function describe(dir, json) {
  const files = readdirSync(dir);
  const pictures = files.filter((f) => PICTURE.test(f)).sort();
  return {
    dir,
    json,
    md: files.includes('results.md') ? path.join(dir, 'results.md') : null,
    table: files.includes('results.svg') ? path.join(dir, 'results.svg') : null,
    // One picture per UMAP: the PNG when both a PNG and an SVG were written (lighter pages).
    umaps: pictures
      .filter((f) => /umap/i.test(f) && !(f.toLowerCase().endsWith('.svg') && pictures.includes(f.replace(/\.svg$/i, '.png'))))
      .map((f) => path.join(dir, f)),
  };
}

/**
 * Every results set under the results root, sorted by folder: `{ dir, json, md, table, umaps }`
 * (json: path of results.json or null when only a results.md exists).
 */
export function findBenchResults(root = benchResultsRoot()) {
  if (!existsSync(root)) return [];
  if (statSync(root).isFile()) return [describe(path.dirname(root), root)];
  const out = [];
  const walk = (dir, depth) => {
    const entries = readdirSync(dir, { withFileTypes: true });
    const names = entries.map((e) => e.name);
    if (names.includes('results.json')) out.push(describe(dir, path.join(dir, 'results.json')));
    else if (names.includes('results.md')) out.push(describe(dir, null));
    if (depth >= 3) return;
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) walk(path.join(dir, e.name), depth + 1);
  };
  walk(root, 0);
  return out.sort((a, b) => a.dir.localeCompare(b.dir));
}

/** A hash of every file the benchmark page would be generated from ('none' when there is none). */
export function fingerprint(sets = findBenchResults()) {
  if (!sets.length) return 'none';
  const h = createHash('sha256');
  for (const s of sets) {
    for (const f of [s.json, s.md, s.table, ...s.umaps].filter(Boolean)) {
      h.update(path.relative(repoRoot, f));
      h.update(readFileSync(f));
    }
  }
  return h.digest('hex');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--fingerprint')) process.stdout.write(`${fingerprint()}\n`);
  else process.stdout.write(`${JSON.stringify(findBenchResults(), null, 2)}\n`);
}
