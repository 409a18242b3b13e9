// @invae/core ships two entries, the public one and `@invae/core/internal` (worker machinery priors and
// the CLI use). Their module state must be one copy: a prior registered through one entry is what the
// other builds with, and a worker setup run through the internal entry registers into the registry the
// main entry reads — in the ESM and the CommonJS builds (core's dist, as this package imports it).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const tmp = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'invae-core-internal-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const CONFIG = { model: 'FinVAE', dataDim: 5, invCovarDim: 0, spurCovarDim: 0, latentDimInv: 2, latentDimSpur: 1 };

/** The probe's body; `main` and `internal` are the two entries, `setupUrl` a module default-exporting a plugin. */
const BODY = `
const out = {};
out.mainHasInternals = ['runReplicaWorker', 'registerWorkerSetup', 'workerSetups', 'clearWorkerSetups', 'buildReplicaFromSpec', 'specReplicaRecipe'].filter((k) => k in main);
out.internalExports = ['runReplicaWorker', 'registerWorkerSetup', 'workerSetups', 'buildReplicaFromSpec', 'specReplicaRecipe'].filter((k) => typeof internal[k] === 'function');
// main -> internal: a prior registered through the main entry is found by the internal entry's replica factory
main.registerPrior({ name: 'probe-main', family: 'gaussian', create() { throw new Error('probe-main reached'); } });
out.mainToInternal = await internal.buildReplicaFromSpec({ spec: { config: ${JSON.stringify(CONFIG)}, invPrior: { name: 'probe-main' } } }).then(() => 'built', (e) => e.name + ': ' + e.message);
// internal -> main: a worker setup run through the internal entry registers a prior the main entry lists
out.before = main.listPriors().some((p) => p.name === 'probe-setup');
out.internalToMain = await internal.buildReplicaFromSpec({ spec: { config: ${JSON.stringify(CONFIG)}, invPrior: { name: 'probe-setup' } }, setup: [{ module: setupUrl }] }).then(() => 'built', (e) => e.name + ': ' + e.message);
out.after = main.listPriors().some((p) => p.name === 'probe-setup');
// the worker-setup registry: registered through the internal entry, it is in the recipe the main entry's model trains with
internal.registerWorkerSetup({ module: 'probe-module', call: 'setUp' });
out.recipeSetup = internal.specReplicaRecipe({ config: ${JSON.stringify(CONFIG)} }).args.setup;
out.recipeModule = internal.specReplicaRecipe({ config: ${JSON.stringify(CONFIG)} }).module;
console.log(JSON.stringify(out));
`;

function probe(format: 'esm' | 'cjs'): Record<string, unknown> {
  const ext = format === 'esm' ? 'mjs' : 'cjs';
  const setup = path.join(tmp, `setup.${ext}`);
  const plugin = `{ name: 'probe-setup', family: 'gaussian', create() { throw new Error('probe-setup reached'); } }`;
  fs.writeFileSync(setup, format === 'esm' ? `export default ${plugin};\n` : `module.exports = { default: ${plugin} };\n`);
  const setupUrl = JSON.stringify(pathToFileURL(setup).href);
  const script =
    format === 'esm'
      ? `import * as main from '@invae/core';\nimport * as internal from '@invae/core/internal';\nconst setupUrl = ${setupUrl};\n${BODY}`
      : `const main = require('@invae/core');\nconst internal = require('@invae/core/internal');\nconst setupUrl = ${setupUrl};\n(async () => {\n${BODY}\n})().catch((e) => { console.error(e); process.exit(1); });`;
  // Inside this package, so '@invae/core' resolves to the workspace's built core like the package's own imports.
  const file = path.join(here, `.probe-core-internal.${process.pid}.${ext}`);
  fs.writeFileSync(file, script);
  try {
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

describe.each(['esm', 'cjs'] as const)("@invae/core's main and internal entries share their module state (%s build)", (format) => {
  it('sees through one entry what was registered through the other', () => {
    const out = probe(format);
    expect(out.mainHasInternals).toEqual([]);
    expect(out.internalExports).toEqual(['runReplicaWorker', 'registerWorkerSetup', 'workerSetups', 'buildReplicaFromSpec', 'specReplicaRecipe']);
    // found, and its create() ran (a second registry would say PriorNotFoundError)
    expect(out.mainToInternal).toBe('Error: probe-main reached');
    expect(out.before).toBe(false);
    expect(out.internalToMain).toBe('Error: probe-setup reached');
    expect(out.after).toBe(true);
    expect(out.recipeSetup).toEqual([{ module: 'probe-module', call: 'setUp' }]);
    // workers import the internal entry of the same build
    expect(out.recipeModule).toMatch(format === 'esm' ? /\/core\/dist\/internal\.js$/ : /\/core\/dist\/internal\.cjs$/);
  });
});
