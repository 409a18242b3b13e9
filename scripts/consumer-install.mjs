#!/usr/bin/env node
// What a user of the published packages gets: every package is packed (`npm pack`, after `npm run build`),
// and installed from its tarball, with the tarballs of the @invae packages it depends on, into its own empty
// project (no `overrides`, no workspace, plain `npm install` from the registry). There it must
//   - install, with a consistent tree (`npm ls --all`),
//   - ship its README,
//   - load as ESM (`import`) and as CommonJS (`require`),
//   - type-check a small .mts and .cts file against its declarations (tsc, strict, nodenext).
// The project with every package (the cli's) also type-checks each package README's first ```ts example.
// Writes a vitest-style summary to reports/vitest/consumer-install.json (summed by scripts/count-tests.mjs)
// and exits 1 when a check failed.
//
//   node scripts/consumer-install.mjs [--only core,io-anndata] [--keep] [--report FILE]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const keep = args.includes('--keep');
const reportFile = path.resolve(root, opt('report') ?? 'reports/vitest/consumer-install.json');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');

/** Per package: exports that must be functions at run time, and a typed use that must compile. */
const CHECKS = {
  common: {
    fns: ['writeFileAtomic', 'writeFolderAtomic'],
    ts: (p) => `import { writeFileContentAtomic, VERSION } from '${p}';
export const save = (file: string): Promise<void> => writeFileContentAtomic(file, VERSION);`,
  },
  core: {
    fns: ['initEngine', 'simulate'],
    // The `/internal` entry (worker machinery for the invae packages) loads in both formats.
    subpaths: { internal: ['registerWorkerSetup', 'workerSetups', 'runReplicaWorker'] },
    ts: (p) => `import { initEngine, simulate, VERSION, type InvaeDataset } from '${p}';
const sim = simulate({ nCells: 10, nGenes: 5 });
const data: InvaeDataset = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
export const use = [initEngine, data, VERSION.length];`,
  },
  priors: {
    fns: ['registerBuiltinPriors'],
    ts: (p) => `import { registerBuiltinPriors, VERSION } from '${p}';
export const use: [() => void, number] = [registerBuiltinPriors, VERSION.length];`,
  },
  'io-anndata': {
    fns: ['readH5ad', 'writeH5ad', 'openH5ad'],
    ts: (p) => `import { readH5ad, VERSION, type AnnData } from '${p}';
export const nObs = async (file: string): Promise<number> => ((await readH5ad(file)) satisfies AnnData).nObs + VERSION.length;`,
  },
  bench: {
    fns: ['pca', 'matrixFromRows'],
    ts: (p) => `import { matrixFromRows, VERSION, type Embedding } from '${p}';
export const m: Embedding = matrixFromRows([[1, 2], [3, 4]]);
export const v: string = VERSION;`,
  },
  cli: {
    fns: ['main', 'createProgram'],
    ts: (p) => `import { main, VERSION } from '${p}';
export const run: (argv: readonly string[]) => Promise<number> = main;
export const v: string = VERSION;`,
  },
};

function run(cmd, argv, cwd, extra = {}) {
  // No npm_* variables from an enclosing `npm run`: they would point npm at this workspace.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', env: { ...env, ...extra }, maxBuffer: 1 << 26, timeout: 300_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

const pkgs = Object.fromEntries(
  fs.readdirSync(path.join(root, 'packages')).flatMap((d) => {
    const f = path.join(root, 'packages', d, 'package.json');
    if (!fs.existsSync(f)) return [];
    const j = JSON.parse(fs.readFileSync(f, 'utf8'));
    return [[d, { dir: path.join(root, 'packages', d), name: j.name, version: j.version, deps: Object.keys(j.dependencies ?? {}) }]];
  }),
);
const byName = Object.fromEntries(Object.entries(pkgs).map(([d, p]) => [p.name, d]));
const only = opt('only')?.split(',') ?? Object.keys(CHECKS);
for (const d of only) if (!pkgs[d] || !CHECKS[d]) throw new Error(`unknown package '${d}' (one of ${Object.keys(CHECKS).join(', ')})`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-consumer-'));
const results = [];
function check(name, fn) {
  const t0 = performance.now();
  let error = null;
  try {
    fn();
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const seconds = (performance.now() - t0) / 1000;
  results.push({ name, ok: !error, error, seconds });
  process.stdout.write(`${error ? '✗' : '✓'} ${name} (${seconds.toFixed(1)} s)${error ? `\n${error.trim().split('\n').slice(-25).map((l) => `    ${l}`).join('\n')}` : ''}\n`);
  return !error;
}
const must = (r, what) => {
  if (!r.ok) throw new Error(`${what} failed:\n${r.out}`);
  return r.out;
};

// Pack every package once (dist must be built: npm run build).
const tarballs = {};
const packed = check('npm pack of every package', () => {
  for (const [d, p] of Object.entries(pkgs)) {
    if (!fs.existsSync(path.join(p.dir, 'dist'))) throw new Error(`${p.name} is not built (run npm run build first)`);
    const out = must(run('npm', ['pack', '--json', '--pack-destination', work], p.dir), `npm pack ${p.name}`);
    tarballs[d] = path.join(work, JSON.parse(out.slice(out.indexOf('[')))[0].filename);
  }
});

/** The package and the @invae packages it needs, transitively. */
function closure(d, seen = new Set()) {
  if (seen.has(d)) return seen;
  seen.add(d);
  for (const dep of pkgs[d].deps) if (byName[dep]) closure(byName[dep], seen);
  return seen;
}

const typesNode = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/@types/node/package.json'), 'utf8')).version;
for (const d of packed ? only : []) {
  const p = pkgs[d];
  const dir = path.join(work, `consumer-${d}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name: `consumer-of-${d}`, version: '1.0.0', private: true }, null, 2)}\n`);
  const installed = check(`${p.name}: npm install of the tarball (no overrides)`, () => {
    must(run('npm', ['install', '--no-audit', '--no-fund', ...[...closure(d)].map((x) => tarballs[x]), `@types/node@${typesNode}`], dir), 'npm install');
    must(run('npm', ['ls', '--all'], dir), 'npm ls --all');
    const got = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', p.name, 'package.json'), 'utf8'));
    if (got.version !== p.version) throw new Error(`installed ${p.name}@${got.version}, packed ${p.version}`);
    if (!fs.existsSync(path.join(dir, 'node_modules', p.name, 'README.md'))) throw new Error(`${p.name} ships no README.md`);
  });
  if (!installed) continue;
  const { fns } = CHECKS[d];
  const probe = `for (const f of ${JSON.stringify(fns)}) if (typeof m[f] !== 'function') throw new Error('${p.name}: ' + f + ' is ' + typeof m[f]); if (typeof m.VERSION !== 'string') throw new Error('no VERSION');`;
  check(`${p.name}: ESM import`, () => {
    must(run(process.execPath, ['--input-type=module', '-e', `const m = await import('${p.name}'); ${probe}`], dir), 'import');
  });
  check(`${p.name}: CommonJS require`, () => {
    must(run(process.execPath, ['--input-type=commonjs', '-e', `const m = require('${p.name}'); ${probe}`], dir), 'require');
  });
  for (const [sub, subFns] of Object.entries(CHECKS[d].subpaths ?? {})) {
    const spec = `${p.name}/${sub}`;
    const subProbe = `for (const f of ${JSON.stringify(subFns)}) if (typeof s[f] !== 'function') throw new Error('${spec}: ' + f + ' is ' + typeof s[f]);`;
    check(`${spec}: ESM import`, () => {
      must(run(process.execPath, ['--input-type=module', '-e', `const m = await import('${p.name}'); const s = await import('${spec}'); ${subProbe}`], dir), 'import');
    });
    check(`${spec}: CommonJS require`, () => {
      must(run(process.execPath, ['--input-type=commonjs', '-e', `const m = require('${p.name}'); const s = require('${spec}'); ${subProbe}`], dir), 'require');
    });
  }
  check(`${p.name}: types (tsc, strict, nodenext; .mts and .cts)`, () => {
    const ts = CHECKS[d].ts(p.name);
    // If the declarations were missing or `any`, the expected error below would not happen.
    const wrong = `// @ts-expect-error VERSION is a string in the declarations\nexport const notANumber: number = (await import('${p.name}')).VERSION;\n`;
    fs.writeFileSync(path.join(dir, 'check.mts'), `${ts}\n${wrong}`);
    fs.writeFileSync(path.join(dir, 'check.cts'), `${ts}\n`); // resolved through the "require" condition (index.d.cts)
    const files = ['check.mts', 'check.cts'];
    if (d === 'cli') {
      // Every package README's first ```ts example compiles against the installed packages.
      for (const x of Object.keys(pkgs)) {
        const readme = fs.readFileSync(path.join(dir, 'node_modules', pkgs[x].name, 'README.md'), 'utf8');
        const m = readme.match(/```ts\n([\s\S]*?)```/);
        if (!m) throw new Error(`${pkgs[x].name}/README.md has no \`\`\`ts example`);
        fs.writeFileSync(path.join(dir, `readme-${x}.mts`), `${m[1]}\nexport {};\n`);
        files.push(`readme-${x}.mts`);
      }
    }
    const tsconfig = { compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files };
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    must(run(process.execPath, [tsc, '-p', 'tsconfig.json'], dir), 'tsc');
  });
  if (d === 'cli') {
    check(`${p.name}: the invae binary runs (npx invae --version)`, () => {
      const out = must(run('npx', ['--no-install', 'invae', '--version'], dir), 'invae --version');
      if (!out.includes(p.version)) throw new Error(`invae --version printed ${out.trim()}, expected ${p.version}`);
    });
  }
}

const failed = results.filter((r) => !r.ok);
fs.mkdirSync(path.dirname(reportFile), { recursive: true });
fs.writeFileSync(
  reportFile,
  `${JSON.stringify(
    {
      numTotalTests: results.length,
      numPassedTests: results.length - failed.length,
      numFailedTests: failed.length,
      numPendingTests: 0,
      success: failed.length === 0,
      testResults: [{ name: 'scripts/consumer-install.mjs', assertionResults: results.map((r) => ({ title: r.name, status: r.ok ? 'passed' : 'failed', failureMessages: r.error ? [r.error] : [], duration: Math.round(r.seconds * 1000) })) }],
    },
    null,
    2,
  )}\n`,
);
process.stdout.write(`consumer install: ${results.length - failed.length} passed, ${failed.length} failed (${work}${keep ? '' : ', removed'})\n`);
if (!keep) fs.rmSync(work, { recursive: true, force: true });
process.exitCode = failed.length ? 1 : 0;
