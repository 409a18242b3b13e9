// Node module hooks that let a worker thread load @invae/core's TypeScript sources (tests only):
// .ts files are transpiled with esbuild, extensionless relative imports resolve to .ts files, and
// JSON imports need no import attribute (as under vitest).
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const isFile = (u) => {
  const p = fileURLToPath(u);
  return existsSync(p) && statSync(p).isFile();
};

export async function resolve(specifier, context, next) {
  const parent = context.parentURL;
  if (parent && parent.endsWith('.ts') && (specifier.startsWith('./') || specifier.startsWith('../'))) {
    const base = new URL(specifier, parent).href;
    for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) {
      if (isFile(new URL(candidate))) return { url: candidate, shortCircuit: true };
    }
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (url.startsWith('file:') && url.endsWith('.ts')) {
    const source = await readFile(new URL(url), 'utf8');
    const out = await transform(source, { loader: 'ts', format: 'esm', target: 'node20', sourcemap: 'inline', sourcefile: fileURLToPath(url) });
    return { format: 'module', source: out.code, shortCircuit: true };
  }
  if (url.startsWith('file:') && url.endsWith('.json')) {
    const source = await readFile(new URL(url), 'utf8');
    return { format: 'module', source: `export default ${source};`, shortCircuit: true };
  }
  return next(url, context);
}
