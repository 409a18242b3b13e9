// The house rules of the monorepo, checked on the sources, manifests and lockfile: each package is entered
// through its one public `src/index.ts` (ESM + CJS + types), no package reaches into a sibling's files, each
// imports only the siblings the architecture allows and declares them, core stays free of the other invae
// packages (but the dependency-free @invae/common) and of h5wasm, io-anndata of TensorFlow.js, and neither
// the package graph nor any package's module graph has a runtime import cycle; and one in-memory matrix type (dense,
// CSR, CSC) is declared once, in @invae/common, and means the same in every package.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scratchDirs } from './scratch';

const scratch = scratchDirs('invae-structure');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = path.join(root, 'packages');

interface PackageInfo {
  dir: string;
  name: string;
  deps: Set<string>;
  subpaths: Set<string>;
  files: string[];
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTs(p));
    else if (/\.(ts|mts|cts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const packages: PackageInfo[] = fs
  .readdirSync(packagesDir)
  .filter((d) => fs.existsSync(path.join(packagesDir, d, 'package.json')) && fs.existsSync(path.join(packagesDir, d, 'src')))
  .map((d) => {
    const dir = path.join(packagesDir, d);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const deps = new Set<string>([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})]);
    const subpaths = new Set<string>(Object.keys(pkg.exports ?? { '.': '' }));
    return { dir, name: pkg.name as string, deps, subpaths, files: listTs(path.join(dir, 'src')) };
  });
const invaeNames = new Set(packages.map((p) => p.name));
/** Dependency-free packages every invae package may use (core included). */
const FOUNDATIONS = new Set(['@invae/common']);

interface ImportRef {
  spec: string;
  /** Type-only imports vanish at runtime and cannot make a runtime cycle. */
  typeOnly: boolean;
}

/** The module specifiers a source file imports or re-exports (static, dynamic and require). */
function importsOf(file: string): ImportRef[] {
  const text = fs
    .readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const refs: ImportRef[] = [];
  const stmt = /(?:^|\n|;)\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(stmt)) {
    const clause = m[3] ?? '';
    const allTypeNames = /^\{[^}]*\}$/.test(clause.trim()) && clause.replace(/[{}\s]/g, '').split(',').filter(Boolean).every((n) => n.startsWith('type'));
    refs.push({ spec: m[4]!, typeOnly: Boolean(m[2]) || allTypeNames });
  }
  for (const m of text.matchAll(/(?:^|\n|;)\s*import\s*['"]([^'"]+)['"]/g)) refs.push({ spec: m[1]!, typeOnly: false });
  for (const m of text.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) refs.push({ spec: m[1]!, typeOnly: false });
  return refs;
}

/** Source text without comments. */
function codeOf(file: string): string {
  return fs
    .readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Names a module exports, following `export *` and `export { … } from` through relative modules. */
function exportedNames(file: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(file)) return out;
  seen.add(file);
  const text = codeOf(file);
  for (const m of text.matchAll(/(?:^|\n|;)\s*export\s+\*\s+from\s*['"]([^'"]+)['"]/g)) {
    const t = m[1]!.startsWith('.') ? resolveRelative(file, m[1]!) : undefined;
    if (t) for (const n of exportedNames(t, seen)) out.add(n);
  }
  for (const m of text.matchAll(/(?:^|\n|;)\s*export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of m[1]!.split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()!.trim();
      if (name) out.add(name);
    }
  }
  for (const m of text.matchAll(/(?:^|\n|;)\s*export\s+(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\*?|class|const|let|var|interface|type|enum)\s+([A-Za-z_$][\w$]*)/g)) out.add(m[1]!);
  return out;
}

function packageOf(file: string): PackageInfo | undefined {
  return packages.find((p) => file.startsWith(p.dir + path.sep));
}

function resolveRelative(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec.replace(/\.(js|mjs|cjs)$/, ''));
  for (const c of [base, `${base}.ts`, `${base}.mts`, `${base}.cts`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  }
  return undefined;
}

function bareName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Every cycle found by depth-first search, each as the list of nodes on it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 1);
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 1) found.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
  return found;
}

/** Matrix type names only `@invae/common` may declare: one in-memory matrix type for every package. */
const COMMON_MATRIX_TYPES = ['DenseMatrix', 'CsrMatrix', 'CscMatrix', 'Matrix'];
/** Former repeats of those types (bench's count matrices), which must not come back under any package. */
const RETIRED_MATRIX_TYPES = ['CsrCounts', 'CsrCountMatrix'];

function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Names of the interfaces and type aliases a source file declares (not those it imports or re-exports). */
function declaredTypes(text: string): string[] {
  const found: string[] = [];
  const decl = /(?:^|[\n;{}])\s*(?:export\s+)?(?:declare\s+)?(?:interface\s+([A-Za-z_$][\w$]*)|type\s+([A-Za-z_$][\w$]*)\s*(?:<[^=;]*>)?\s*=)/g;
  for (const m of withoutComments(text).matchAll(decl)) found.push((m[1] ?? m[2])!);
  return found;
}

/** The names a file exports under another name (`export { A as B }`), with the module they come from (null: the file itself). */
function renamedExports(text: string): { local: string; exported: string; from: string | null }[] {
  const out: { local: string; exported: string; from: string | null }[] = [];
  for (const m of withoutComments(text).matchAll(/export\s+(?:type\s+)?\{([^}]*)\}\s*(?:from\s*['"]([^'"]+)['"])?/g)) {
    for (const part of m[1]!.split(',')) {
      const r = /^\s*(?:type\s+)?([\w$]+)\s+as\s+([\w$]+)\s*$/.exec(part);
      if (r) out.push({ local: r[1]!, exported: r[2]!, from: m[2] ?? null });
    }
  }
  return out;
}

/** The names a file re-exports from another module, by module. */
function reExports(text: string): { name: string; from: string }[] {
  const out: { name: string; from: string }[] = [];
  for (const m of withoutComments(text).matchAll(/export\s+(?:type\s+)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/g)) {
    for (const part of m[1]!.split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()!.trim();
      if (name) out.push({ name, from: m[2]! });
    }
  }
  return out;
}

describe('the checker itself', () => {
  it('reads static, re-export, dynamic and type-only imports, and finds cycles', () => {
    const dir = scratch.make();
    const file = path.join(dir, 'a.ts');
    fs.writeFileSync(
      file,
      [
        "import { x } from './b';",
        "import type { T } from './c';",
        "import { type U, type V } from './d';",
        "export * from './e';",
        "// import { no } from './commented';",
        "const m = await import('./f');",
        "import './g';",
      ].join('\n'),
    );
    const refs = importsOf(file);
    expect(refs.map((r) => [r.spec, r.typeOnly])).toEqual([
      ['./b', false],
      ['./c', true],
      ['./d', true],
      ['./e', false],
      ['./g', false],
      ['./f', false],
    ]);
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c', 'a']]);
    expect(cycles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
  });

  it('finds type declarations, renamed exports and re-exports, not imports', () => {
    const text = [
      "import { type CsrMatrix, type DenseMatrix } from '@invae/common';",
      "import type { Matrix } from '@invae/common';",
      "export type { CscMatrix, Matrix } from '@invae/common';",
      '/** interface CsrCounts in a comment */',
      'export interface CsrCounts { n: number }',
      'interface Local<T> { x: T }',
      'export type Matrix = DenseMatrix | CsrMatrix;',
      'type Pair<A, B> = [A, B];',
      "export { Embedding as Matrix } from './embedding';",
      'const typeOfThing = 1;',
    ].join('\n');
    expect(declaredTypes(text)).toEqual(['CsrCounts', 'Local', 'Matrix', 'Pair']);
    expect(renamedExports(text)).toEqual([{ local: 'Embedding', exported: 'Matrix', from: './embedding' }]);
    expect(reExports(text)).toEqual([
      { name: 'CscMatrix', from: '@invae/common' },
      { name: 'Matrix', from: '@invae/common' },
      { name: 'Matrix', from: './embedding' },
    ]);
  });

  it('lists the names a barrel exports, through export * and re-exports', () => {
    const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'invae-structure-'));
    fs.writeFileSync(path.join(dir, 'index.ts'), "export * from './a';\nexport { b, c as d, type E } from './b';\n// export { hidden } from './b';\nexport const v = 1;\n");
    fs.writeFileSync(path.join(dir, 'a.ts'), 'export function f() {}\nexport class K {}\nexport interface I {}\nconst local = 2;\nexport { local as exposed };\n');
    fs.writeFileSync(path.join(dir, 'b.ts'), 'export const b = 1, c = 2;\nexport type E = number;\nexport const hidden = 3;\n');
    expect([...exportedNames(path.join(dir, 'index.ts'))].sort()).toEqual(['E', 'I', 'K', 'b', 'd', 'exposed', 'f', 'v']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('workspace structure', () => {
  it('finds the packages and their sources', () => {
    expect([...invaeNames].sort()).toEqual(expect.arrayContaining(['@invae/bench', '@invae/cli', '@invae/core', '@invae/io-anndata', '@invae/priors']));
    for (const p of packages) {
      expect(fs.existsSync(path.join(p.dir, 'src/index.ts')), `${p.name} has src/index.ts`).toBe(true);
      expect(p.files.length, p.name).toBeGreaterThan(0);
    }
  });

  it('no package reaches into a sibling: relative imports stay inside the package, sibling imports name a declared entry', () => {
    const offences: string[] = [];
    for (const p of packages) {
      for (const file of p.files) {
        for (const { spec } of importsOf(file)) {
          const where = `${path.relative(root, file)} imports '${spec}'`;
          if (spec.startsWith('.')) {
            const target = path.resolve(path.dirname(file), spec);
            if (!target.startsWith(path.join(p.dir, 'src') + path.sep) && target !== path.join(p.dir, 'src')) {
              // package.json (version) is the one file above src a package may read.
              if (!/package\.json$/.test(spec)) offences.push(`${where}: outside its src/`);
            }
            continue;
          }
          const name = bareName(spec);
          if (!invaeNames.has(name)) continue;
          const sibling = packages.find((q) => q.name === name)!;
          const sub = spec === name ? '.' : `.${spec.slice(name.length)}`;
          if (!sibling.subpaths.has(sub)) offences.push(`${where}: '${sub}' is not an entry in ${name}'s package.json exports`);
          if (name === p.name) offences.push(`${where}: a package imports itself by name`);
        }
      }
    }
    expect(offences).toEqual([]);
  });

  it('each package declares every package it imports (invae siblings and h5wasm); core imports no other invae package but the dependency-free @invae/common, nor h5wasm', () => {
    const offences: string[] = [];
    for (const p of packages) {
      for (const file of p.files) {
        for (const { spec } of importsOf(file)) {
          if (spec.startsWith('.') || spec.startsWith('node:')) continue;
          const name = bareName(spec);
          if ((invaeNames.has(name) || name.startsWith('h5wasm')) && name !== p.name && !p.deps.has(name)) {
            offences.push(`${path.relative(root, file)} imports '${name}', which ${p.name}'s package.json does not declare`);
          }
          if (p.name === '@invae/core' && ((invaeNames.has(name) && !FOUNDATIONS.has(name)) || name.startsWith('h5wasm')) && name !== p.name) {
            offences.push(`${path.relative(root, file)}: @invae/core must not import '${name}'`);
          }
        }
      }
    }
    expect(offences).toEqual([]);
    const core = packages.find((p) => p.name === '@invae/core')!;
    expect([...core.deps].filter((d) => (invaeNames.has(d) && !FOUNDATIONS.has(d)) || d.startsWith('h5wasm'))).toEqual([]);
    // The foundation itself depends on nothing.
    const common = packages.find((p) => p.name === '@invae/common');
    expect(common && [...common.deps]).toEqual([]);
  });

  it('each package imports only the siblings the architecture allows (README: Packages)', () => {
    const allowed: Record<string, string[]> = {
      '@invae/common': [],
      '@invae/core': ['@invae/common'],
      '@invae/priors': ['@invae/core'],
      '@invae/io-anndata': ['@invae/common'],
      '@invae/bench': ['@invae/common', '@invae/core', '@invae/io-anndata', '@invae/priors'],
      '@invae/cli': ['@invae/common', '@invae/core', '@invae/io-anndata', '@invae/priors', '@invae/bench'],
    };
    expect(Object.keys(allowed).sort()).toEqual([...invaeNames].sort());
    const offences: string[] = [];
    for (const p of packages) {
      for (const file of p.files) {
        for (const { spec } of importsOf(file)) {
          const name = bareName(spec);
          if (invaeNames.has(name) && name !== p.name && !allowed[p.name]!.includes(name)) offences.push(`${path.relative(root, file)}: ${p.name} must not import ${name}`);
        }
      }
    }
    expect(offences).toEqual([]);
  });

  it("one in-memory matrix type: only @invae/common declares DenseMatrix, CsrMatrix, CscMatrix and Matrix; CsrCounts/CsrCountMatrix are gone; no package exports another type as Matrix", () => {
    const offences: string[] = [];
    const common = packages.find((p) => p.name === '@invae/common');
    expect(common, '@invae/common exists').toBeDefined();
    const commonDeclared = new Set(common!.files.flatMap((f) => declaredTypes(fs.readFileSync(f, 'utf8'))));
    for (const name of COMMON_MATRIX_TYPES) expect(commonDeclared.has(name), `@invae/common declares ${name}`).toBe(true);
    for (const p of packages) {
      const testDir = path.join(p.dir, 'test');
      const files = [...p.files, ...(fs.existsSync(testDir) ? listTs(testDir) : [])];
      for (const file of files) {
        const text = fs.readFileSync(file, 'utf8');
        const where = path.relative(root, file);
        for (const name of declaredTypes(text)) {
          if (RETIRED_MATRIX_TYPES.includes(name)) offences.push(`${where} declares ${name}: use @invae/common's CsrMatrix`);
          else if (COMMON_MATRIX_TYPES.includes(name) && p !== common) offences.push(`${where} declares its own ${name}: re-export @invae/common's`);
        }
        for (const r of renamedExports(text)) {
          if ([...COMMON_MATRIX_TYPES, ...RETIRED_MATRIX_TYPES].includes(r.exported) && r.local !== r.exported) {
            offences.push(`${where} exports ${r.local} as ${r.exported}: that name means @invae/common's type`);
          }
        }
        for (const r of reExports(text)) {
          // A matrix type re-exported from outside the workspace (a third-party Matrix) would be a second meaning of the name.
          if (COMMON_MATRIX_TYPES.includes(r.name) && !r.from.startsWith('.') && !invaeNames.has(bareName(r.from))) offences.push(`${where} re-exports ${r.name} from '${r.from}'`);
        }
      }
    }
    expect(offences).toEqual([]);
  });

  it('each package ships ESM, CommonJS and types from its one entry', () => {
    for (const p of packages) {
      const pkg = JSON.parse(fs.readFileSync(path.join(p.dir, 'package.json'), 'utf8'));
      expect(pkg.exports['.'], p.name).toMatchObject({
        import: { types: './dist/index.d.ts', default: './dist/index.js' },
        require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
      });
    }
  });

  it('io-anndata pulls in no TensorFlow.js, directly or transitively (lockfile)', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string> }> };
    const io = packages.find((p) => p.name === '@invae/io-anndata')!;
    const seen = new Set<string>();
    const queue = [...io.deps];
    while (queue.length) {
      const name = queue.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const entry = lock.packages[`node_modules/${name}`] ?? lock.packages[`packages/io-anndata/node_modules/${name}`];
      expect(entry, `lockfile entry for ${name}`).toBeDefined();
      queue.push(...Object.keys(entry!.dependencies ?? {}));
    }
    expect([...seen].filter((n) => n.startsWith('@tensorflow/') || (n.startsWith('@invae/') && !FOUNDATIONS.has(n)))).toEqual([]);
    expect(seen).toContain('h5wasm');
    expect(seen).toContain('arquero');
  });

  it('the native TensorFlow engines are optional peers of core, never dependencies', () => {
    const core = JSON.parse(fs.readFileSync(path.join(packagesDir, 'core', 'package.json'), 'utf8'));
    for (const native of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
      expect(Object.keys(core.dependencies ?? {})).not.toContain(native);
      expect(core.peerDependenciesMeta?.[native]?.optional).toBe(true);
    }
  });

  it('the package dependency graph has no cycle', () => {
    const graph = new Map(packages.map((p) => [p.name, [...p.deps].filter((d) => invaeNames.has(d))]));
    expect(cycles(graph)).toEqual([]);
  });

  it("no package's modules import each other in a runtime cycle", () => {
    const found: string[] = [];
    for (const p of packages) {
      const graph = new Map<string, string[]>();
      for (const file of p.files) {
        const targets: string[] = [];
        for (const ref of importsOf(file)) {
          if (ref.typeOnly || !ref.spec.startsWith('.')) continue;
          const t = resolveRelative(file, ref.spec);
          if (t) targets.push(t);
        }
        graph.set(file, targets);
      }
      for (const c of cycles(graph)) found.push(c.map((f) => path.relative(root, f)).join(' → '));
    }
    expect(found).toEqual([]);
  });

  it('worker threads are started in one place: only @invae/common\'s worker-thread module imports node:worker_threads', () => {
    const importers: string[] = [];
    for (const p of packages) {
      for (const file of p.files) {
        if (importsOf(file).some((r) => r.spec === 'node:worker_threads' || r.spec === 'worker_threads')) importers.push(path.relative(root, file).split(path.sep).join('/'));
      }
    }
    expect(importers).toEqual(['packages/common/src/worker-thread.ts']);
  });

  it("core's public entry exports the user API only; its worker machinery is behind @invae/core/internal, imported only where needed", () => {
    const core = packages.find((p) => p.name === '@invae/core')!;
    const pub = exportedNames(path.join(core.dir, 'src/index.ts'));
    const internal = exportedNames(path.join(core.dir, 'src/internal.ts'));
    const machinery = ['runReplicaWorker', 'registerWorkerSetup', 'workerSetups', 'clearWorkerSetups', 'buildReplicaFromSpec', 'specReplicaRecipe', 'ReplicaInit'];
    expect(pub.has('trainModel') && pub.has('WorkerError') && pub.has('ReplicaRecipe')).toBe(true); // the reader sees the barrel
    expect(machinery.filter((n) => pub.has(n))).toEqual([]);
    expect(machinery.filter((n) => !internal.has(n))).toEqual([]);
    expect(core.subpaths).toEqual(new Set(['.', './internal', './package.json']));
    // who may import the internal entry: the prior plugins registering their worker setup, and the CLI registering plugin files
    const users: string[] = [];
    for (const p of packages) {
      for (const file of p.files) if (importsOf(file).some((r) => r.spec === '@invae/core/internal')) users.push(path.relative(root, file).split(path.sep).join('/'));
    }
    expect(users.sort()).toEqual(['packages/cli/src/commands/train.ts', 'packages/priors/src/plugins.ts']);
  });
});
