import { execFileSync } from 'node:child_process';
import { initEngine, Rng, fillNormal } from '@invae/core';
import type { Embedding } from '../src/index';
import { judgePython, needsPython } from '../../../test-support/index';

/** Debian's python with numpy, scipy and scikit-learn: the independent judge ($INVAE_JUDGE_PYTHON overrides). */
export const PYTHON = judgePython;

/** Gate for tests that call `judge` (numpy, scipy, scikit-learn): skipped, or failing under INVAE_REQUIRE_SHARED=1, without them. */
export const judged = needsPython('numpy', 'scipy', 'sklearn');

export { needsPython, needsShared, sharedFile } from '../../../test-support/index';

/**
 * Runs `script` in the judge python; the JSON `input` is available as the variable `inp`
 * (numpy imported as np); the script must assign `out`, which is returned parsed.
 */
export function judge<T = unknown>(script: string, input: unknown): T {
  const prog = `import json, sys\nimport numpy as np\ninp = json.load(sys.stdin)\n${script}\nprint(json.dumps(out))\n`;
  const stdout = execFileSync(PYTHON, ['-c', prog], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 28 });
  return JSON.parse(stdout) as T;
}

/** Starts the wasm engine once per test file. */
export async function engine(): Promise<void> {
  await initEngine({ backend: 'wasm', report: null });
}

/** Row arrays of a matrix (for JSON). */
export function rowsOf(m: Embedding): number[][] {
  return Array.from({ length: m.nRows }, (_, i) => Array.from(m.data.subarray(i * m.nCols, (i + 1) * m.nCols)));
}

/** Gaussian blobs: `nLabels` label centres, a per-batch shift of size `batchShift`, unit noise × `noise`. */
export function blobs(seed: number, n: number, d: number, nLabels: number, nBatches: number, opts: { sep?: number; batchShift?: number; noise?: number } = {}) {
  const rng = new Rng(seed);
  const sep = opts.sep ?? 4;
  const centres = fillNormal(rng, nLabels * d, 0, sep);
  const shifts = fillNormal(rng, nBatches * d, 0, opts.batchShift ?? 0);
  const noise = fillNormal(rng, n * d, 0, opts.noise ?? 1);
  const labels: string[] = [];
  const batches: string[] = [];
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const l = i % nLabels;
    const b = rng.int(nBatches);
    labels.push(`type${l}`);
    batches.push(`batch${b}`);
    for (let j = 0; j < d; j++) data[i * d + j] = centres[l * d + j]! + shifts[b * d + j]! + noise[i * d + j]!;
  }
  return { x: { data, nRows: n, nCols: d } as Embedding, labels, batches };
}
