import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anndataJudge, invae, python } from './helpers';

// End to end through the built binary: simulate → train → embed → predict, judged by Python anndata.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-workflow-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sim = path.join(dir, 'sim.h5ad');
const model = path.join(dir, 'model');

const small = ['--epochs', '3', '--hidden', '16', '--latent-inv', '3', '--latent-spur', '1', '--batch-size', '64'];

beforeAll(() => {
  const r = invae(['simulate', '--out', sim, '--cells', '240', '--genes', '40', '--batches', '2', '--cell-types', '3', '--seed', '3']);
  expect(r.code, r.stderr).toBe(0);
});

describe('invae train / embed / predict', () => {
  it('train writes a model directory and reports per-epoch seconds and cells/s', () => {
    const r = invae(['train', sim, '--inv', 'cell_type,disease', '--spur', 'batch', '--out', model, '--predict', 'cell_type', '--json', ...small]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { model: string; cells: number; epochs: { epoch: number; loss: number; seconds: number; cellsPerSecond: number }[]; predictor: { trainAccuracy: number } };
    expect(s.model).toBe('FinVAE');
    expect(s.cells).toBe(240);
    expect(s.epochs).toHaveLength(3);
    for (const e of s.epochs) {
      expect(Number.isFinite(e.loss)).toBe(true);
      expect(e.seconds).toBeGreaterThan(0);
      expect(e.cellsPerSecond).toBeGreaterThan(0);
    }
    expect(s.predictor.trainAccuracy).toBeGreaterThan(0);
    expect(fs.readdirSync(model).sort()).toEqual(['history.json', 'loss.png', 'loss.svg', 'model.json', 'weights.safetensors']);
    const manifest = JSON.parse(fs.readFileSync(path.join(model, 'model.json'), 'utf8'));
    expect(manifest.geneNames).toHaveLength(40);
    expect(manifest.engine.engine).toBe('wasm');
  });

  anndataJudge.it('train --validation holds cells out, saves their loss per epoch in history.json, and plots loss.svg/png with both curves', () => {
    const out = path.join(dir, 'model-val');
    const r = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--out', out, '--validation', '0.1', '--json', ...small]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { validationCells: number; stoppedBy: string; epochs: { loss: number; validationLoss: number; validationTerms: Record<string, number> }[] };
    expect(s.validationCells).toBe(24);
    for (const e of s.epochs) {
      expect(Number.isFinite(e.validationLoss)).toBe(true);
      expect(Object.keys(e.validationTerms)).toContain('logPxZ');
    }
    const history = JSON.parse(fs.readFileSync(path.join(out, 'history.json'), 'utf8')) as { format: string; validationCells: number; epochs: { epoch: number; loss: number; validationLoss: number; learningRate: number; beta: number; seconds: number }[] };
    expect(history.format).toBe('invae-history');
    expect(history.validationCells).toBe(24);
    expect(history.epochs.map((e) => [e.epoch, e.loss, e.validationLoss])).toEqual(s.epochs.map((e, i) => [i + 1, e.loss, e.validationLoss]));
    for (const e of history.epochs) {
      expect(e.learningRate).toBe(1e-3);
      expect(e.beta).toBe(5); // the integration preset's β
      expect(e.seconds).toBeGreaterThan(0);
    }
    const svg = python<{ train: number; validation: number; png: boolean }>(
      `import os, re, xml.etree.ElementTree as E
ns = "{http://www.w3.org/2000/svg}"
root = E.parse(os.path.join(sys.argv[1], "loss.svg")).getroot()
d = {p.get("class"): len(re.findall(r"[ML]", p.get("d"))) for p in root.iter(ns + "path")}
print(json.dumps({"train": d["train-loss"], "validation": d["validation-loss"], "png": open(os.path.join(sys.argv[1], "loss.png"), "rb").read(8) == b"\\x89PNG\\r\\n\\x1a\\n"}))`,
      [out],
    );
    expect(svg).toEqual({ train: 3, validation: 3, png: true });
    const text = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--out', path.join(dir, 'model-val-text'), '--validation', '0.1', '--quiet', ...small]);
    expect(text.stdout).toMatch(/validation \(24 cells held out\): final loss [0-9.]+, best [0-9.]+ at epoch \d/);
  });

  it('train --validation with --early-stopping stops on the validation loss and restores its best epoch; --epochs auto plans 400 epochs for 240 cells', () => {
    const out = path.join(dir, 'model-es');
    const r = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--out', out, '--validation', '0.2', '--early-stopping', '2', '--lr', '0.03', '--json', ...small, '--epochs', 'auto']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { plannedEpochs: number; stoppedBy: string; restoredEpoch: number; epochs: { validationLoss: number }[] };
    expect(s.plannedEpochs).toBe(400);
    expect(s.stoppedBy).toBe('early-stopping');
    const val = s.epochs.map((e) => e.validationLoss);
    expect(s.restoredEpoch).toBe(val.indexOf(Math.min(...val)) + 1);
    const history = JSON.parse(fs.readFileSync(path.join(out, 'history.json'), 'utf8')) as { restoredEpoch: number; stoppedBy: string };
    expect(history).toMatchObject({ restoredEpoch: s.restoredEpoch, stoppedBy: 'early-stopping' });
    expect(fs.readFileSync(path.join(out, 'loss.svg'), 'utf8')).toContain('class="mark-epoch"');
    const bad = invae(['train', sim, '--out', path.join(dir, 'never'), '--validation', '1', ...small]);
    expect(bad.code).toBe(2); // a usage error
    expect(bad.stderr).toMatch(/fraction in \[0, 1\)/);
    const badEpochs = invae(['train', sim, '--out', path.join(dir, 'never'), '--epochs', 'soon']);
    expect(badEpochs.code).toBe(2);
    expect(badEpochs.stderr).toMatch(/--epochs/);
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });

  anndataJudge.it('embed writes obsm[X_inVAE] into a copy that Python anndata reads, leaving X and the input untouched', () => {
    const out = path.join(dir, 'embedded.h5ad');
    const before = fs.readFileSync(sim);
    const r = invae(['embed', model, sim, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(sim).equals(before)).toBe(true);
    const got = python<{ obsm: Record<string, number[]>; xsum: [number, number]; finite: boolean }>(
      `
a = anndata.read_h5ad(sys.argv[1]); b = anndata.read_h5ad(sys.argv[2])
print(json.dumps({"obsm": {k: list(np.asarray(v).shape) for k, v in a.obsm.items()},
  "xsum": [float(a.X.sum()), float(b.X.sum())], "finite": bool(np.isfinite(np.asarray(a.obsm["X_inVAE"])).all())}))
`,
      [out, sim],
    );
    expect(got.obsm.X_inVAE).toEqual([240, 3]);
    expect(got.obsm.X_true_inv![0]).toBe(240); // the input's own obsm is kept
    expect(got.xsum[0]).toBe(got.xsum[1]);
    expect(got.finite).toBe(true);
    const full = invae(['embed', model, sim, '--out', path.join(dir, 'full.h5ad'), '--latent', 'full', '--json']);
    expect(JSON.parse(full.stdout)).toMatchObject({ key: 'X_inVAE_full', dims: 4 });
  });

  anndataJudge.it('predict writes a CSV and an .h5ad with predictions, and scores them against a label', () => {
    const csv = path.join(dir, 'pred.csv');
    const r = invae(['predict', model, sim, '--out', csv, '--label', 'cell_type', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { accuracy: number; macroF1: number; classes: string[] };
    expect(s.accuracy).toBeGreaterThanOrEqual(0);
    expect(s.classes).toHaveLength(3);
    const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(241);
    expect(lines[0]).toBe(`cell,cell_type_pred,cell_type_pred_confidence,${s.classes.map((c) => `p_${c}`).join(',')}`);
    const h5 = path.join(dir, 'pred.h5ad');
    expect(invae(['predict', model, sim, '--out', h5]).code).toBe(0);
    const got = python<{ pred: string[]; n: number }>(`a = anndata.read_h5ad(sys.argv[1]); print(json.dumps({"pred": [str(v) for v in a.obs["cell_type_pred"][:3]], "n": int(a.n_obs)}))`, [h5]);
    expect(got.n).toBe(240);
    expect(s.classes).toEqual(expect.arrayContaining(got.pred));
  });

  it('NFinVAE trains through the same command', () => {
    const out = path.join(dir, 'nf');
    const r = invae(['train', sim, '--model', 'nfinvae', '--inv', 'cell_type', '--spur', 'batch', '--out', out, '--json', ...small]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).model).toBe('NFinVAE');
    expect(JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')).model.invPrior.name).toBe('score-matching');
  });

  it('bad input fails clearly with exit 1 and writes nothing', () => {
    const out = path.join(dir, 'never');
    const r = invae(['train', sim, '--inv', 'cell_typo', '--spur', 'batch', '--out', out, ...small]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invae: error: .*cell_typo/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(out)).toBe(false);
    const same = invae(['embed', model, sim, '--out', sim]);
    expect(same.code).toBe(1);
    expect(same.stderr).toMatch(/never modifies its inputs/);
    const again = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--out', model, ...small]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
    const layer = invae(['train', sim, '--inv', 'cell_type', '--spur', 'batch', '--layer', 'counts', '--out', out, ...small]);
    expect(layer.code).toBe(1);
    expect(layer.stderr).toMatch(/no layer 'counts'/);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('invae demo', () => {
  it('simulates, trains the default preset and the scVI-equivalent, scores them and PCA, and writes report.html', () => {
    const out = path.join(dir, 'demo');
    const r = invae(['demo', '--cells', '300', '--genes', '40', '--epochs', '4', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as {
      preset: string;
      training: { firstLoss: number; finalLoss: number };
      invariantLatent: { cellTypeKnnAccuracy: number };
      benchmark: { method: string; Total: number }[];
    };
    expect(s.preset).toBe('integration');
    expect(s.training.finalLoss).toBeLessThan(s.training.firstLoss);
    expect(s.invariantLatent.cellTypeKnnAccuracy).toBeGreaterThan(0);
    expect(s.benchmark.map((m) => m.method).sort()).toEqual(['FinVAE', 'PCA', 'scVI-equivalent']);
    for (const m of s.benchmark) expect(m.Total).toBeGreaterThan(0);
    for (const f of ['simulated.h5ad', 'report.html', 'results.json', 'results.svg', 'loss_FinVAE.svg']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    // a second run needs --overwrite
    const again = invae(['demo', '--cells', '300', '--genes', '40', '--epochs', '1', '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  });
});
