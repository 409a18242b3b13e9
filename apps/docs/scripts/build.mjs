#!/usr/bin/env node
// Builds the documentation site: generates the CLI reference (from createProgram()), the API reference
// (TypeDoc) and the benchmark page (from bench results), checks the sources, runs `vitepress build`
// (which fails on dead links) and checks that the built site loads nothing from outside itself.
//   node scripts/build.mjs                  everything (what `nx run docs:docs:build` runs)
//   node scripts/build.mjs --generate-only  the generated pages and the source checks, no VitePress
import path from 'node:path';
import { generateApiReference } from './api-reference.mjs';
import { generateBenchPage } from './bench-page.mjs';
import { checkDist, checkSources } from './check-docs.mjs';
import { generateCliReference } from './cli-reference.mjs';
import { distDir, fail, repoRoot, srcDir } from './lib.mjs';

const t0 = performance.now();
const seconds = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
const log = (m) => process.stdout.write(`docs: ${m} [${seconds()}]\n`);

const cliPages = await generateCliReference();
log(`CLI reference: ${cliPages.length} pages`);

const problems = await generateApiReference();
if (problems) fail(`TypeDoc reported ${problems} problem(s) (listed above)`, 'document every public export with a TSDoc comment, fix the {@link} targets, and export every type a public signature uses');
log('API reference generated (TypeDoc, every public export documented)');

const origin = generateBenchPage();
log(`benchmark page: from ${origin.replace(/`/g, '')}`);

const checked = await checkSources();
if (checked.problems.length) {
  for (const p of checked.problems) process.stderr.write(`docs check: ${p}\n`);
  fail(`${checked.problems.length} problem(s) in the docs sources`);
}
log(`sources checked (${checked.commandLines} invae command lines parse)`);

if (!process.argv.includes('--generate-only')) {
  const { build } = await import('vitepress');
  try {
    await build(srcDir);
  } catch (e) {
    fail(`vitepress build failed: ${e.message}`, 'a dead link is reported above the error; fix the link or the missing page');
  }
  const distProblems = checkDist();
  if (distProblems.length) {
    for (const p of distProblems) process.stderr.write(`docs check: ${p}\n`);
    fail(`${distProblems.length} problem(s) in the built site`);
  }
  log(`site built in ${path.relative(repoRoot, distDir)} (offline: no external resources)`);
}
