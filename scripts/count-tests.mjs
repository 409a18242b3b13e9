#!/usr/bin/env node
// Sums vitest's JSON reports (reports/vitest/*.json) into the one line CI reads: `N passed, N failed`.
// A report missing for a project that has tests, or an unreadable report, counts as a failure.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2] ?? 'reports/vitest';
let passed = 0;
let failed = 0;
let skipped = 0;
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
for (const f of files) {
  try {
    const r = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    passed += r.numPassedTests ?? 0;
    failed += (r.numFailedTests ?? 0) + (r.success === false && !r.numFailedTests ? 1 : 0);
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    process.stderr.write(`${f}: ${r.numPassedTests} passed, ${r.numFailedTests} failed\n`);
  } catch (e) {
    process.stderr.write(`${f}: unreadable report (${e.message})\n`);
    failed += 1;
  }
}
if (files.length === 0) {
  process.stderr.write(`no vitest reports in ${dir}\n`);
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 ? 1 : 0;
