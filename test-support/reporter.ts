/**
 * Prints ONE line per package run when gated tests were skipped: how many and why, e.g.
 * `io-anndata: 5 tests skipped: ../shared not found (/x/shared; set INVAE_SHARED) — INVAE_REQUIRE_SHARED=1 makes them fail`
 * (with several reasons, each is followed by the number of tests it concerns).
 */
import type { Reporter, TestCase, TestModule, TestSuite } from 'vitest/node';
import { REQUIRE_VAR } from './env.mjs';

function missingOf(t: TestCase): { missing: string[]; optional: boolean } | undefined {
  let node: TestCase | TestSuite | TestModule = t;
  for (;;) {
    // the gates (gates.ts) record their reasons in the test's meta
    const meta = node.meta() as { invaeMissing?: string[]; invaeOptional?: boolean };
    if (meta.invaeMissing?.length) return { missing: meta.invaeMissing, optional: meta.invaeOptional === true };
    if (node.type === 'module') return undefined;
    node = node.parent;
  }
}

/** Counts the skipped tests that carry a gate's reasons and prints the summary line. */
export class GateSummaryReporter implements Reporter {
  constructor(private readonly project: string) {}

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const byReason = new Map<string, number>();
    let n = 0;
    let required = 0; // skipped tests that INVAE_REQUIRE_SHARED=1 would fail (not opt-in)
    for (const mod of testModules)
      for (const t of mod.children.allTests('skipped')) {
        const why = missingOf(t);
        if (!why) continue;
        n++;
        if (!why.optional) required++;
        for (const r of why.missing) byReason.set(r, (byReason.get(r) ?? 0) + 1);
      }
    if (n === 0) return;
    const tests = (k: number) => `${k} test${k === 1 ? '' : 's'}`;
    const reasons = [...byReason].map(([r, k]) => (byReason.size > 1 ? `${r} [${tests(k)}]` : r)).join('; ');
    const suffix = required === n ? ` — ${REQUIRE_VAR}=1 makes them fail` : required > 0 ? ` — ${REQUIRE_VAR}=1 makes ${required} of them fail` : ' (opt-in)';
    process.stdout.write(`${this.project}: ${tests(n)} skipped: ${reasons}${suffix}\n`);
  }
}
