import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, invae } from './helpers';

// `invae train --backed` (counts streamed from disk by row blocks) and `--workers` (data-parallel
// training in worker threads), through the built binary.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-backed-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sim = path.join(dir, 'sim.h5ad');
const small = ['--epochs', '3', '--hidden', '16', '--latent-inv', '3', '--latent-spur', '1', '--batch-size', '64', '--seed', '2', '--json'];

interface Summary {
  cells: number;
  genes: number;
  backed: boolean;
  workers: number;
  peakRssMiB: number;
  epochs: { loss: number }[];
  predictor: { trainAccuracy: number } | null;
}

beforeAll(() => {
  const r = invae(['simulate', '--out', sim, '--cells', '600', '--genes', '40', '--batches', '2', '--cell-types', '3', '--seed', '3']);
  expect(r.code, r.stderr).toBe(0);
});

describe('invae train --backed / --workers', () => {
  it('trains from row blocks on disk, with two workers, as well as from memory', () => {
    const mem = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--out', path.join(dir, 'mem'), '--workers', '1', ...small]);
    expect(mem.code, mem.stderr).toBe(0);
    const m = JSON.parse(mem.stdout) as Summary;
    const before = fs.readFileSync(sim);
    const r = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--out', path.join(dir, 'backed'), '--backed', '--backed-block', '50', '--workers', '2', '--predict', 'cell_type', ...small]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(sim).equals(before)).toBe(true);
    const s = JSON.parse(r.stdout) as Summary;
    expect([s.cells, s.genes, s.backed, s.workers]).toEqual([600, 40, true, 2]);
    expect(m.backed).toBe(false);
    expect(s.peakRssMiB).toBeGreaterThan(0);
    expect(s.epochs).toHaveLength(3);
    // different shuffling and per-worker BatchNorm, same problem: the curves end close together
    const last = s.epochs[2]!.loss;
    expect(last).toBeLessThan(s.epochs[0]!.loss);
    expect(Math.abs(last - m.epochs[2]!.loss) / m.epochs[2]!.loss).toBeLessThan(0.1);
    expect(s.predictor!.trainAccuracy).toBeGreaterThan(0.5);
    expect(fs.readdirSync(path.join(dir, 'backed')).sort()).toEqual(['history.json', 'loss.png', 'loss.svg', 'model.json', 'weights.safetensors']);
  });

  it('lets workers load a prior plugin file named on the command line', () => {
    const r = spawnSync(
      process.execPath,
      [bin, 'train', sim, '--inv', 'cell_type', '--spur', 'batch', '--inv-prior', './examples/prior-plugin/index.js', '--out', path.join(dir, 'plugin'), '--workers', '2', ...small],
      { encoding: 'utf8', cwd: repoRoot, env: { ...process.env, INVAE_BACKEND: '' }, timeout: 180_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.workers).toBe(2);
    expect(s.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
  });

  it('rejects --backed-block without --backed, --backed with --gene-sets, and a bad --workers', () => {
    const a = invae(['train', sim, '--inv', 'cell_type', '--out', path.join(dir, 'x1'), '--backed-block', '10']);
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(/--backed-block needs --backed/);
    const sets = path.join(dir, 'sets.json');
    fs.writeFileSync(sets, JSON.stringify({ p1: ['gene0', 'gene1', 'gene2'] }));
    const b = invae(['train', sim, '--inv', 'cell_type', '--out', path.join(dir, 'x2'), '--backed', '--gene-sets', sets]);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/--backed/);
    const c = invae(['train', sim, '--inv', 'cell_type', '--out', path.join(dir, 'x3'), '--workers', '0']);
    expect(c.code).not.toBe(0);
    expect(c.stderr).toMatch(/--workers must be a positive integer or auto/);
  });
});
