import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { anndataJudge, invae, needsPython, python } from './helpers';

const judge = anndataJudge.and(needsPython('PIL'));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-bench-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sim = path.join(dir, 'sim.h5ad');
const bad = path.join(dir, 'bad.h5ad');

judge.beforeAll(() => {
  const r = invae(['simulate', '--out', sim, '--cells', '200', '--genes', '40', '--batches', '2', '--cell-types', '3', '--seed', '4']);
  expect(r.code, r.stderr).toBe(0);
  // The judge writes a copy with a one-cell label, a label with a missing value and an embedding with a NaN.
  python(
    `src, dst = sys.argv[1], sys.argv[2]
a = anndata.read_h5ad(src)
rare = a.obs['cell_type'].astype(str).copy(); rare.iloc[0] = 'rare'
a.obs['cell_type_rare'] = rare.astype('category')
gap = a.obs['cell_type'].astype(str).astype(object).copy(); gap.iloc[7] = np.nan
a.obs['cell_type_gap'] = gap.astype('category')
x = np.array(a.obsm['X_true_inv'], dtype=np.float32).copy(); x[5, 1] = np.nan
a.obsm['X_nan'] = x
a.write_h5ad(dst)
print(json.dumps(True))`,
    [sim, bad],
  );
}, 120_000);

const METRICS = ['Isolated labels', 'KMeans NMI', 'KMeans ARI', 'Silhouette label', 'cLISI', 'BRAS', 'iLISI', 'KBET', 'Graph connectivity', 'PCR comparison'];
const METHODS = ['FinVAE', 'PCA', 'X_true_inv', 'scVI-equivalent'];

/** The judge's look at the output folder: PNGs (PIL), SVGs (xml.etree) and report.html (html.parser). */
const JUDGE_OUTPUTS = `
import os, re, xml.etree.ElementTree as E
from html.parser import HTMLParser
from PIL import Image
out = sys.argv[1]
ns = "{http://www.w3.org/2000/svg}"
pictures = {}
for f in sorted(os.listdir(out)):
    if not (f.startswith("umap_") and f.endswith(".svg")): continue
    root = E.parse(os.path.join(out, f)).getroot()
    pts = [g for g in root.iter(ns + "g") if g.get("class") == "points"][0]
    im = Image.open(os.path.join(out, f[:-4] + ".png")); im.load()
    pictures[f[:-4]] = {"points": len(list(pts.iter(ns + "circle"))),
        "legend": len([g for g in root.iter(ns + "g") if g.get("class") == "legend-entry"]),
        "svgSize": [int(root.get("width")), int(root.get("height"))], "png": [im.format, list(im.size)],
        "colours": len(set(im.convert("RGB").getdata()))}
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.ids=[]; s.rows={}; s.table=None; s.imgs=[]; s.figs=[]; s.tags=set()
    def handle_starttag(s, tag, a):
        a = dict(a); s.tags.add(tag)
        if 'id' in a: s.ids.append(a['id'])
        if tag == 'table': s.table = a.get('id')
        if tag == 'tr' and 'method-row' in (a.get('class') or ''): s.rows.setdefault(s.table, []).append(a['data-method'])
        if tag == 'img': s.imgs.append(a['src'])
        if tag == 'figure' and 'umap' in (a.get('class') or ''): s.figs.append(a['data-method'] + ':' + a['data-color'])
    def handle_endtag(s, tag):
        if tag == 'table': s.table = None
p = P(); p.feed(open(os.path.join(out, "report.html"), encoding="utf8").read())
print(json.dumps({"pictures": pictures, "ids": p.ids, "rows": p.rows, "imgs": p.imgs, "figs": sorted(p.figs),
    "missing": [s for s in p.imgs if not os.path.exists(os.path.join(out, s))], "tags": sorted(p.tags)}))
`;

interface Judged {
  pictures: Record<string, { points: number; legend: number; svgSize: [number, number]; png: [string, [number, number]]; colours: number }>;
  ids: string[];
  rows: Record<string, string[]>;
  imgs: string[];
  figs: string[];
  missing: string[];
  tags: string[];
}

judge.describe('invae bench', () => {
  it('scores PCA, the scVI-equivalent, FinVAE and an obsm embedding side by side, with UMAPs, invariant prediction, identifiability and report.html', () => {
    const out = path.join(dir, 'out');
    const r = invae(['bench', sim, '--batch', 'batch', '--label', 'cell_type', '--methods', 'pca,scvi,finvae', '--embeddings', 'X_true_inv', '--epochs', '2', '--latent-inv', '3', '--umap-epochs', '100', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    type Saved = {
      nCells: number;
      methods: { embedding: string; metrics: Record<string, number | null>; aggregates: Record<string, number>; nanReasons: Record<string, unknown[]> }[];
      trainingSeconds: Record<string, number>;
      dataset: { nCells: number; nGenes: number; batches: { name: string; cells: number }[]; labels: { name: string; cells: number }[] };
      identifiability: { truthKey: string; methods: Record<string, { mccPearson: number; mccSpearman: number; linearR2: number }> };
      invariantPrediction: { protocol: string; methods: Record<string, { classifier: string; perBatch: { batch: string; accuracy: number; macroF1: number; nTrain: number; nTest: number }[]; mean: { accuracy: number; macroF1: number } }> };
      umap: { methods: Record<string, { nPoints: number; downsampled: boolean; batch: { svg: string; png: string } }> };
      timings: Record<string, number>;
      environment: Record<string, string>;
    };
    const res = JSON.parse(r.stdout) as Saved;
    expect(res.nCells).toBe(200);
    expect(res.methods.map((m) => m.embedding).sort()).toEqual(METHODS);
    for (const m of res.methods) {
      expect(Object.keys(m.metrics).sort()).toEqual([...METRICS].sort());
      const { Total, 'Batch correction': batch, 'Bio conservation': bio } = m.aggregates as Record<string, number>;
      expect(Total).toBeCloseTo(0.4 * batch! + 0.6 * bio!, 10);
      expect(m.nanReasons).toEqual({});
    }
    // PCR comparison of the unintegrated PCA against itself is 0 by definition.
    expect(res.methods.find((m) => m.embedding === 'PCA')!.metrics['PCR comparison']).toBe(0);
    const umapFiles = METHODS.flatMap((m) => ['batch', 'label'].flatMap((c) => [`umap_${m}_${c}.png`, `umap_${m}_${c}.svg`]));
    const lossFiles = ['FinVAE', 'scVI-equivalent'].flatMap((m) => [`loss_${m}.png`, `loss_${m}.svg`]);
    expect(fs.readdirSync(out).sort()).toEqual(['report.html', 'results.csv', 'results.json', 'results.md', 'results.svg', ...umapFiles, ...lossFiles].sort());
    expect(fs.readFileSync(path.join(out, 'results.svg'), 'utf8')).toMatch(/^<svg [^>]*>/);
    const csv = fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(5);
    expect(csv[0]).toBe(`method,${METRICS.join(',')},Batch correction,Bio conservation,Total`);
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toMatch(/^\| Method \| Isolated labels/);
    expect(md).toMatch(/Invariant prediction of 'cell_type'/);
    expect(md).toMatch(/Identifiability against obsm\['X_true_inv'\]/);
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as Saved;
    expect(saved).toEqual(res);
    expect(Object.keys(saved.trainingSeconds).sort()).toEqual(['FinVAE', 'scVI-equivalent']);
    expect(saved.dataset).toMatchObject({ nCells: 200, nGenes: 40, batches: [{ name: 'batch_0' }, { name: 'batch_1' }] });
    expect(saved.dataset.labels.reduce((s, l) => s + l.cells, 0)).toBe(200);

    // Identifiability: every embedding but the truth itself, scores in [0, 1].
    expect(saved.identifiability.truthKey).toBe('X_true_inv');
    expect(Object.keys(saved.identifiability.methods).sort()).toEqual(['FinVAE', 'PCA', 'scVI-equivalent']);
    for (const s of Object.values(saved.identifiability.methods).flatMap((v) => Object.values(v))) {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
    }

    // Leave-one-batch-out: one fold per batch for every embedding; the true latents predict their labels well.
    expect(saved.invariantPrediction.protocol).toMatch(/^Embedding protocol/);
    expect(Object.keys(saved.invariantPrediction.methods).sort()).toEqual(METHODS);
    for (const m of Object.values(saved.invariantPrediction.methods)) {
      expect(m.perBatch.map((p) => p.batch)).toEqual(['batch_0', 'batch_1']);
      for (const p of m.perBatch) expect(p.nTrain + p.nTest).toBe(200);
      expect(m.mean.accuracy).toBeCloseTo((m.perBatch[0]!.accuracy + m.perBatch[1]!.accuracy) / 2, 12);
    }
    expect(saved.invariantPrediction.methods.X_true_inv!.mean.accuracy).toBeGreaterThan(0.9);
    expect((saved.invariantPrediction.methods.FinVAE as unknown as { note: string }).note).toMatch(/without 'cell_type'/);
    expect(saved.umap.methods.FinVAE).toMatchObject({ nPoints: 200, downsampled: false, batch: { svg: 'umap_FinVAE_batch.svg', png: 'umap_FinVAE_batch.png' } });
    for (const step of ['read data', 'PCA (unintegrated)', 'train FinVAE (2 epochs)', 'metrics FinVAE', 'UMAP FinVAE', 'invariant prediction FinVAE', 'total']) expect(saved.timings[step], step).toBeGreaterThan(0);
    expect(saved.environment.engine).toMatch(/wasm|tensorflow|cpu/);

    // The judge: every UMAP has a circle per cell and a legend entry per category; the PNG is the SVG at 2×.
    const j = python<Judged>(JUDGE_OUTPUTS, [out]);
    expect(Object.keys(j.pictures).sort()).toEqual(METHODS.flatMap((m) => [`umap_${m}_batch`, `umap_${m}_label`]).sort());
    for (const [name, p] of Object.entries(j.pictures)) {
      expect(p.points, name).toBe(200);
      expect(p.legend, name).toBe(name.endsWith('_batch') ? 2 : 3);
      expect(p.png).toEqual(['PNG', [2 * p.svgSize[0], 2 * p.svgSize[1]]]);
      expect(p.colours, name).toBeGreaterThan(10);
    }
    for (const id of ['summary', 'results-table', 'results-plot', 'umaps', 'training', 'identifiability-table', 'lobo-table', 'nan-reasons', 'timings-table', 'environment']) expect(j.ids, id).toContain(id);
    expect(j.rows['results-table']).toEqual([...res.methods].sort((a, b) => b.aggregates.Total! - a.aggregates.Total!).map((m) => m.embedding));
    expect(j.rows['lobo-table']!.sort()).toEqual(METHODS);
    expect(j.figs).toEqual(METHODS.flatMap((m) => [`${m}:batch`, `${m}:label`]).sort());
    expect(j.imgs).toHaveLength(10); // 8 UMAPs, 2 loss curves
    expect(j.missing).toEqual([]);
    expect(j.tags).not.toContain('script');
  }, 240_000);

  it('plots the loss curve of every trained model (loss_<method>.svg/png) and shows it in report.html', () => {
    const out = path.join(dir, 'loss');
    const r = invae(['bench', sim, '--batch', 'batch', '--label', 'cell_type', '--methods', 'finvae', '--epochs', '3', '--latent-inv', '3', '--no-umap', '--no-lobo', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(out).filter((f) => f.startsWith('loss_')).sort()).toEqual(['loss_FinVAE.png', 'loss_FinVAE.svg']);
    const j = python<{ points: number; png: boolean; figs: string[][] }>(
      `import os, re, xml.etree.ElementTree as E
from html.parser import HTMLParser
out = sys.argv[1]; ns = "{http://www.w3.org/2000/svg}"
root = E.parse(os.path.join(out, "loss_FinVAE.svg")).getroot()
path = [p for p in root.iter(ns + "path") if p.get("class") == "train-loss"][0]
class P(HTMLParser):
    def __init__(s): super().__init__(); s.figs = []; s.fig = None
    def handle_starttag(s, tag, a):
        a = dict(a)
        if tag == 'figure' and 'loss-curve' in (a.get('class') or ''): s.fig = [a['data-method']]; s.figs.append(s.fig)
        if tag == 'img' and s.fig is not None: s.fig.append(a['src'])
p = P(); p.feed(open(os.path.join(out, "report.html"), encoding="utf8").read())
print(json.dumps({"points": len(re.findall(r"[ML]", path.get("d"))), "png": open(os.path.join(out, "loss_FinVAE.png"), "rb").read(8) == b"\\x89PNG\\r\\n\\x1a\\n", "figs": p.figs}))`,
      [out],
    );
    expect(j).toEqual({ points: 3, png: true, figs: [['FinVAE', 'loss_FinVAE.png']] });
  }, 120_000);

  it('a label with one cell: NaN parts recorded with the reason, no crash; --no-umap and --no-lobo skip those outputs', () => {
    const out = path.join(dir, 'rare');
    const r = invae(['bench', bad, '--batch', 'batch', '--label', 'cell_type_rare', '--methods', 'pca', '--no-umap', '--no-lobo', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['report.html', 'results.csv', 'results.json', 'results.md', 'results.svg']);
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as {
      methods: { metrics: Record<string, number | null>; nanReasons: Record<string, { label: string | null; reason: string }[]> }[];
      invariantPrediction: unknown;
      umap: unknown;
      identifiability: unknown;
    };
    const m = saved.methods[0]!;
    expect(m.nanReasons.KBET).toEqual([{ label: 'rare', reason: 'label has 1 cell (kBET needs at least 10): skipped' }]);
    expect(m.nanReasons.BRAS).toEqual([{ label: 'rare', reason: 'label is present in one batch only: skipped' }]);
    expect(Number.isFinite(m.metrics.KBET)).toBe(true);
    expect(saved.invariantPrediction).toBeNull();
    expect(saved.umap).toBeNull();
    expect(saved.identifiability).toMatchObject({ truthKey: 'X_true_inv' });
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('label <code>rare</code>: label has 1 cell');
    expect(html).not.toContain('id="umaps"');
  }, 120_000);

  it('--lobo-retrain trains the model again without each held-out batch', () => {
    const out = path.join(dir, 'retrain');
    const r = invae(['bench', sim, '--batch', 'batch', '--label', 'cell_type', '--methods', 'finvae', '--epochs', '1', '--latent-inv', '2', '--no-umap', '--lobo-retrain', '--lobo-classifier', 'knn', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as {
      invariantPrediction: { protocol: string; retrain: boolean; methods: Record<string, { classifier: string; note: string; perBatch: { nTrain: number; nTest: number; accuracy: number }[] }> };
      timings: Record<string, number>;
    };
    expect(saved.invariantPrediction.retrain).toBe(true);
    expect(saved.invariantPrediction.protocol).toMatch(/^Retrain protocol/);
    const f = saved.invariantPrediction.methods.FinVAE!;
    expect(f.classifier).toBe('knn');
    expect(f.note).toMatch(/retrained without the held-out batch/);
    expect(f.perBatch.map((p) => p.nTrain + p.nTest)).toEqual([200, 200]);
    for (const p of f.perBatch) expect(p.accuracy).toBeGreaterThanOrEqual(0);
    expect(saved.timings['invariant prediction FinVAE (retrained per batch)']).toBeGreaterThan(0);
  }, 120_000);

  it('rejects unknown methods, keys, missing labels and bad embeddings clearly', () => {
    const out = path.join(dir, 'bad');
    const m = invae(['bench', sim, '--batch', 'batch', '--label', 'cell_type', '--methods', 'harmony', '--out', out]);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/Unknown method\(s\) harmony/);
    const k = invae(['bench', sim, '--batch', 'site', '--label', 'cell_type', '--methods', 'pca', '--out', out]);
    expect(k.code).toBe(1);
    expect(k.stderr).toMatch(/obs has no column 'site'/);
    const e = invae(['bench', sim, '--batch', 'batch', '--label', 'cell_type', '--methods', 'pca', '--embeddings', 'X_scVI', '--out', out]);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/no dense 2-D embedding 'X_scVI'/);
    const nan = invae(['bench', bad, '--batch', 'batch', '--label', 'cell_type', '--methods', 'pca', '--embeddings', 'X_nan', '--out', out]);
    expect(nan.code).toBe(1);
    expect(nan.stderr).toMatch(/obsm\['X_nan'\] has a non-finite value \(NaN\) at cell 5, dimension 1/);
    const gap = invae(['bench', bad, '--batch', 'batch', '--label', 'cell_type_gap', '--methods', 'pca', '--out', out]);
    expect(gap.code).toBe(1);
    expect(gap.stderr).toMatch(/obs\['cell_type_gap'\] has 1 missing value \(first at cell 7\)/);
    const truth = invae(['bench', sim, '--batch', 'batch', '--label', 'cell_type', '--methods', 'pca', '--truth', 'X_latent', '--out', out]);
    expect(truth.code).toBe(1);
    expect(truth.stderr).toMatch(/no dense 2-D embedding 'X_latent'/);
    expect(fs.existsSync(path.join(out, 'results.json'))).toBe(false);
  }, 120_000);
});
