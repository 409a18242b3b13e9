import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { GateSummaryReporter } from './test-support/reporter.ts';

const workspaceRoot = path.dirname(fileURLToPath(import.meta.url));

/**
 * Shared vitest settings: every package writes its machine-readable report to
 * `reports/vitest/<project>.json`, which `.ci/run` sums into the `N passed, N failed` line, and prints one
 * line when tests gated on ../shared or a Python judge were skipped (test-support/).
 */
export function packageTests(project: string, overrides: { testTimeout?: number; include?: string[] } = {}) {
  return defineConfig({
    test: {
      name: project,
      include: overrides.include ?? ['test/**/*.test.ts'],
      environment: 'node',
      testTimeout: overrides.testTimeout ?? 60_000,
      hookTimeout: 120_000,
      reporters: ['default', 'json', new GateSummaryReporter(project)],
      outputFile: { json: path.join(workspaceRoot, 'reports', 'vitest', `${project}.json`) },
    },
  });
}
