import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heldOutLabelWarn } from '../src/commands/map';
import { anndataJudge, invae, python } from './helpers';

// invae map end to end through the built binary: a reference trained on two batches, a query of a
// third, mapped; embed and predict on the mapped model; judged by Python anndata.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-map-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sim = path.join(dir, 'sim.h5ad');
const ref = path.join(dir, 'ref.h5ad');
const query = path.join(dir, 'query.h5ad');
const model = path.join(dir, 'model');
const mapped = path.join(dir, 'mapped');
const small = ['--epochs', '3', '--hidden', '16', '--latent-inv', '3', '--batch-size', '64'];

beforeAll(() => {
  const r = invae(['simulate', '--out', sim, '--cells', '300', '--genes', '40', '--batches', '3', '--cell-types', '3', '--seed', '3']);
  expect(r.code, r.stderr).toBe(0);
});

describe('invae map', () => {
  it("--label's column held out of the mapping: the covariate encoder's 'missing from the data' warning becomes one note; other warnings pass", () => {
    const lines: string[] = [];
    const warn = heldOutLabelWarn('cell_line', (l) => lines.push(l));
    warn("covariate 'cell_line' is missing from the data; its 3 column(s) are set to zero.");
    warn("covariate 'cell_line' is missing from the data; its 3 column(s) are set to zero.");
    warn("covariate 'batch': 210 cell(s) have categories not seen in training (\"dropseq\"); they are encoded as all-zero rows.");
    warn("covariate 'donor' is missing from the data; its 2 column(s) are set to zero.");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^invae: note: obs\['cell_line'\] \(--label\) is held out of the mapping/);
    expect(lines[1]).toBe("invae: warning: covariate 'batch': 210 cell(s) have categories not seen in training (\"dropseq\"); they are encoded as all-zero rows.");
    expect(lines[2]).toBe("invae: warning: covariate 'donor' is missing from the data; its 2 column(s) are set to zero.");
    const plain: string[] = [];
    heldOutLabelWarn(undefined, (l) => plain.push(l))("covariate 'cell_line' is missing from the data; its 3 column(s) are set to zero.");
    expect(plain).toEqual(["invae: warning: covariate 'cell_line' is missing from the data; its 3 column(s) are set to zero."]);
  });

  anndataJudge.it('maps a query batch onto a trained model: reference latents unchanged, query embedded and predicted with confidence', () => {
    const { n } = python<{ n: number }>(`a = anndata.read_h5ad(sys.argv[1]); q = a.obs["batch"].astype(str) == "batch_2"
a[~q.values].copy().write_h5ad(sys.argv[2]); a[q.values].copy().write_h5ad(sys.argv[3]); print(json.dumps({"n": int(q.sum())}))`, [sim, ref, query]);
    expect(n).toBeGreaterThan(50);
    let r = invae(['train', ref, '--inv', 'cell_type', '--spur', 'batch', '--predict', 'cell_type', '--out', model, '--json', ...small]);
    expect(r.code, r.stderr).toBe(0);
    const before = path.join(dir, 'ref-before.h5ad');
    expect(invae(['embed', model, ref, '--out', before, '--latent', 'full']).code).toBe(0);

    r = invae(['map', model, query, '--out', mapped, '--epochs', '4', '--batch-size', '50', '--label', 'cell_type', '--json']);
    expect(r.code, r.stderr).toBe(0);
    // the label column is held out of the mapping: one note saying so, not "missing from the data"
    expect(r.stderr).not.toContain("covariate 'cell_type' is missing from the data");
    expect(r.stderr.match(/obs\['cell_type'\] \(--label\) is held out of the mapping/g)).toHaveLength(1);
    const s = JSON.parse(r.stdout) as { cells: number; newCategories: Record<string, string[]>; trainedWeights: string[]; epochs: number; accuracy: number };
    expect(s.cells).toBe(n);
    expect(s.newCategories).toEqual({ batch: ['batch_2'] });
    expect(s.trainedWeights).toContain('shared_encoder.fc.0.query_weight');
    expect(s.epochs).toBe(4);
    expect(s.accuracy).toBeGreaterThanOrEqual(0);
    expect(fs.readdirSync(mapped).sort()).toEqual(['history.json', 'model.json', 'weights.safetensors']);
    expect(JSON.parse(fs.readFileSync(path.join(mapped, 'model.json'), 'utf8')).model.config.spurQueryDim).toBe(1);

    const after = path.join(dir, 'ref-after.h5ad');
    expect(invae(['embed', mapped, ref, '--out', after, '--latent', 'full']).code).toBe(0);
    const q = path.join(dir, 'query-embedded.h5ad');
    expect(invae(['embed', mapped, query, '--out', q]).code).toBe(0);
    const pred = path.join(dir, 'query-pred.h5ad');
    r = invae(['predict', mapped, query, '--out', pred, '--unknown-threshold', '0.99', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const ps = JSON.parse(r.stdout) as { unknown: number; unknownThreshold: number };
    expect(ps.unknownThreshold).toBe(0.99);
    const got = python<{ same: boolean; shape: number[]; finite: boolean; unknown: number; minConf: number; maxConf: number; belowAreUnknown: boolean }>(
      `import numpy as np
b = anndata.read_h5ad(sys.argv[1]).obsm["X_inVAE_full"]; c = anndata.read_h5ad(sys.argv[2]).obsm["X_inVAE_full"]
e = np.asarray(anndata.read_h5ad(sys.argv[3]).obsm["X_inVAE"]); p = anndata.read_h5ad(sys.argv[4]).obs
conf = p["cell_type_pred_confidence"].to_numpy(); lab = p["cell_type_pred"].astype(str).to_numpy()
print(json.dumps({"same": np.asarray(b).tobytes() == np.asarray(c).tobytes(), "shape": list(e.shape), "finite": bool(np.isfinite(e).all()),
  "unknown": int((lab == "unknown").sum()), "minConf": float(conf.min()), "maxConf": float(conf.max()), "belowAreUnknown": bool(((conf < 0.99) == (lab == "unknown")).all())}))`,
      [before, after, q, pred],
    );
    expect(got.same).toBe(true);
    expect(got.shape).toEqual([n, 3]);
    expect(got.finite).toBe(true);
    expect(got.unknown).toBe(ps.unknown);
    expect(got.belowAreUnknown).toBe(true);
    expect(got.minConf).toBeGreaterThan(0);
    expect(got.maxConf).toBeLessThanOrEqual(1);
  }, 300_000);

  anndataJudge.it('bad input fails clearly with exit 1, no stack trace, and writes nothing', () => {
    expect(fs.existsSync(model)).toBe(true);
    const none = path.join(dir, 'none');
    let r = invae(['map', model, ref, '--out', none, '--epochs', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nothing to map/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(none)).toBe(false);
    r = invae(['map', model, query, '--out', model, '--epochs', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is an input file/);
    r = invae(['map', model, query, '--out', mapped, '--epochs', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already exists/);
    r = invae(['map', mapped, query, '--out', none, '--epochs', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already a query mapping/);
    expect(fs.existsSync(none)).toBe(false);
    r = invae(['predict', model, query, '--out', path.join(dir, 'p.csv'), '--unknown-threshold', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknownThreshold must be a probability in \[0, 1\]/);
    expect(fs.existsSync(path.join(dir, 'p.csv'))).toBe(false);
  }, 300_000);
});
