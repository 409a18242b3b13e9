import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The package boundaries of the monorepo, checked from the sources and the lockfile.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const packages = ['core', 'priors', 'io-anndata', 'bench', 'cli'] as const;
type Pkg = (typeof packages)[number];

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  exports: Record<string, unknown>;
}
const manifest = (p: Pkg) => JSON.parse(readFileSync(path.join(root, 'packages', p, 'package.json'), 'utf8')) as Manifest;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const full = path.join(dir, f);
    return statSync(full).isDirectory() ? sourceFiles(full) : /\.ts$/.test(f) ? [full] : [];
  });
}

/** Every import specifier in a package's sources; relative ones resolved against the package folder. */
function importsOf(p: Pkg): string[] {
  const pkgDir = path.join(root, 'packages', p);
  const specs: string[] = [];
  for (const file of sourceFiles(path.join(pkgDir, 'src'))) {
    const text = readFileSync(file, 'utf8');
    // Static imports/re-exports at the start of a statement, and dynamic import() calls.
    const statements = /^\s*(?:import|export)\b[^;'"]*?(?:from\s*)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;
    for (const m of text.matchAll(statements)) {
      const spec = (m[1] ?? m[2])!;
      specs.push(spec.startsWith('.') ? path.relative(pkgDir, path.resolve(path.dirname(file), spec)) : spec);
    }
  }
  return specs;
}

/** Which siblings each package may import (the architecture of the README). */
const allowed: Record<Pkg, Pkg[]> = {
  core: [],
  priors: ['core'],
  'io-anndata': [],
  bench: ['core', 'io-anndata', 'priors'],
  cli: ['core', 'io-anndata', 'priors', 'bench'],
};

describe('workspace boundaries', () => {
  it.each(packages)('%s imports only the public entry of allowed siblings', (p) => {
    for (const spec of importsOf(p)) {
      expect(spec, `${p} reaches outside its own folder: ${spec}`).not.toMatch(/^\.\.(\/|$)/);
      const m = /^@invae\/([^/]+)(\/.*)?$/.exec(spec);
      if (!m) continue;
      expect(allowed[p], `${p} must not import @invae/${m[1]}`).toContain(m[1]);
      expect(m[2], `${p} imports a sibling's internals: ${spec}`).toBeUndefined();
    }
  });

  it.each(packages)('%s declares every sibling it imports as a dependency, and ships ESM + CJS + types', (p) => {
    const mf = manifest(p);
    const used = new Set(importsOf(p).filter((s) => s.startsWith('@invae/')));
    for (const u of used) expect(Object.keys(mf.dependencies ?? {}), `${p} imports ${u}`).toContain(u);
    expect(mf.exports['.']).toMatchObject({
      import: { types: './dist/index.d.ts', default: './dist/index.js' },
      require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
    });
  });

  it('io-anndata pulls in no TensorFlow.js, directly or transitively', () => {
    const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dependencies?: Record<string, string> }>;
    };
    const seen = new Set<string>();
    const queue = Object.keys(manifest('io-anndata').dependencies ?? {});
    while (queue.length) {
      const name = queue.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const entry = lock.packages[`node_modules/${name}`] ?? lock.packages[`packages/io-anndata/node_modules/${name}`];
      expect(entry, `lockfile entry for ${name}`).toBeDefined();
      queue.push(...Object.keys(entry!.dependencies ?? {}));
    }
    expect([...seen].filter((n) => n.startsWith('@tensorflow/') || n.startsWith('@invae/'))).toEqual([]);
    expect(seen).toContain('h5wasm');
    expect(seen).toContain('arquero');
  });

  it('the native TensorFlow engines are optional peers of core, never dependencies', () => {
    const core = manifest('core');
    for (const native of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
      expect(Object.keys(core.dependencies ?? {})).not.toContain(native);
      expect(core.peerDependenciesMeta?.[native]?.optional).toBe(true);
    }
  });
});
