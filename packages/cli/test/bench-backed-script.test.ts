import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// scripts/bench-backed.mjs: the atlas-scale measurement of the docs (guide/atlas-scale), run here at a
// tiny size: it must train one full epoch through the CLI's own `train --backed` and report what the
// page quotes (RSS, setup, cells/s, read time, bytes read, the RSS fit and its projection).
const script = fileURLToPath(new URL('../../../scripts/bench-backed.mjs', import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'invae-bench-backed-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench-backed script', () => {
  it('trains one epoch with invae train --backed at two sizes and fits peak RSS over them', () => {
    const run = spawnSync(process.execPath, [script, '--cells', '3000', '--fit-cells', '1500', '--genes', '40', '--density', '0.25', '--dir', dir, '--warmup', '2'], { encoding: 'utf8', timeout: 240_000 });
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(r.command).toMatch(/^invae train .*invae-backed-3000x40-d0\.25\.h5ad --backed --inv cell_type --spur batch --epochs 1 --json /);
    expect(r).toMatchObject({ cells: 3000, genes: 40, workers: 1, fullEpoch: true, steps: Math.ceil(3000 / 256) });
    expect(r.generateSeconds).toBeGreaterThanOrEqual(0);
    expect(r.peakRssMiB).toBeGreaterThan(50);
    expect(r.cliPeakRssMiB).toBeLessThanOrEqual(r.peakRssMiB);
    expect(r.cellsPerSecondEpoch).toBeGreaterThan(0);
    expect(r.cellsPerSecondSteady).toBeGreaterThan(0);
    expect(r.epochSeconds).toBeGreaterThan(0);
    expect(r.secondsBeforeFirstStep.total).toBeGreaterThanOrEqual(r.secondsBeforeFirstStep.setupWithValidationPass);
    // 3 blocks of 1,024 rows: validation reads each once; the epoch finds them all in the block cache
    expect(r.io.validationPass.blocksRead).toBe(3);
    expect(r.io.validationPass.bytesMiB).toBeGreaterThanOrEqual(0);
    expect(r.io.epoch.blocksRead).toBe(0);
    expect(r.perStepMs.readRows).toBeGreaterThan(0);
    expect(r.loadAverageBefore).toHaveLength(3);
    const p = r.projection;
    expect(p.cells).toBe(10_000_000);
    expect(p.fittedOn.map((f: { cells: number }) => f.cells)).toEqual([1500, 3000]);
    expect(Number.isFinite(p.peakRss.bytesPerCell)).toBe(true);
    // the projection follows the fit; each figure is rounded (MiB to 0.5, bytes per cell to 0.5, which
    // at 10M cells is up to 0.5 × 10^7 / 2^20 ≈ 4.8 MiB)
    const roundingMiB = 0.5 + 0.5 + (0.5 * 10_000_000) / 1048576;
    expect(Math.abs(p.peakRss.projectedMiB - (p.peakRss.fixedMiB + (p.peakRss.bytesPerCell * 10_000_000) / 1048576))).toBeLessThanOrEqual(roundingMiB);
    expect(p.epochSeconds).toBe(Math.round(10_000_000 / r.cellsPerSecondEpoch));
  }, 300_000);
});
