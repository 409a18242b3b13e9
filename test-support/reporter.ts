/**
 * Prints ONE line per package run when gated tests were skipped: how many and why, e.g.
 * `io-anndata: 9 tests skipped (needs missing): ../shared not found (…; set INVAE_SHARED) ×7; … — INVAE_REQUIRE_SHARED=1 makes them fail`.
 */
import type { Reporter, TestCase, TestModule, TestSuite } from 'vitest/node';
import { REQUIRE_VAR } from './env.mjs';

function missingOf(t: TestCase): string | undefined {
  let node: TestCase | TestSuite | TestModule = t;
  for (;;) {
    const m = node.meta().invaeMissing;
    if (m) return m;
    if (node.type === 'module') return undefined;
    node = node.parent;
  }
}

/** Counts the skipped tests that carry a gate's reason and prints the summary line. */
export class GateSummaryReporter implements Reporter {
  constructor(private readonly project: string) {}

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const byReason = new Map<string, number>();
    let n = 0;
    for (const mod of testModules)
      for (const t of mod.children.allTests('skipped')) {
        const why = missingOf(t);
        if (!why) continue;
        n++;
        byReason.set(why, (byReason.get(why) ?? 0) + 1);
      }
    if (n === 0) return;
    const reasons = [...byReason].map(([r, k]) => (byReason.size > 1 ? `${r} ×${k}` : r)).join('; ');
    process.stdout.write(`${this.project}: ${n} test${n === 1 ? '' : 's'} skipped (needs missing): ${reasons} — ${REQUIRE_VAR}=1 makes them fail\n`);
  }
}
