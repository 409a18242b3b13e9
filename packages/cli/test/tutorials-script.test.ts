import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// scripts/tutorials.mjs --report-only: the docs' tutorial pages written from an output folder of
// `invae` runs, without running (or training) anything. The folder here is fabricated.
const script = fileURLToPath(new URL('../../../scripts/tutorials.mjs', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-tutorials-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"><circle cx="60" cy="40" r="20" fill="#1f77b4"/></svg>';
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

function record(argv: string[], stdout: string, stderr: string, wallSeconds: number) {
  return { argv, startedAt: '2026-12-03T06:00:00.000Z', wallSeconds, exitCode: 0, stdout, stderr, load1: 1, commit: 'abc1234', machine: 'Test CPU, 2 CPUs' };
}

/** A fabricated output folder of a tutorial under `out` (default: cellbench-lung, whose commands keep the automatic epochs). */
function fabricate(out: string, t = { key: 'cellbench-lung', dataset: 'cellbench-lung-3cl', label: 'cell_line', epochs: [] as string[] }): void {
  const d = path.join(out, t.key);
  const FILE = `/data/${t.dataset}.h5ad`;
  const label = t.label;
  for (const sub of ['steps', 'model', 'bench']) fs.mkdirSync(path.join(d, sub), { recursive: true });
  const epochs = Array.from({ length: 30 }, (_, i) => `epoch ${i + 1}/400  loss ${1000 - i}`).join('\n');
  const steps: Record<string, ReturnType<typeof record>> = {
    path: record(['datasets', 'path', t.dataset], `${FILE}\n`, '', 0.4),
    train: record(['train', FILE, '--inv', label, '--spur', 'batch', '--validation', '0.1', '--predict', label, ...t.epochs, '--seed', '0', '--out', 'model'], 'model saved to model (loss curve: loss.svg, loss.png)\n', `${epochs}\n`, 321.5),
    embed: record(['embed', 'model', FILE, '--out', 'embedded.h5ad'], "wrote obsm['X_inVAE'] (450 × 10, inv latent) to embedded.h5ad\n", '', 3.2),
    predict: record(['predict', 'model', FILE, '--label', label, '--out', 'predictions.csv'], 'accuracy 0.990\n', '', 2.9),
    bench: record(['bench', FILE, '--batch', 'batch', '--label', label, '--methods', 'pca,scvi,finvae', ...t.epochs, '--seed', '0', '--out', 'bench'], '| Method | Total |\n| --- | --- |\n| finvae | 0.700 |\n', 'PCA: 9.6 s\n', 1234),
  };
  for (const [name, r] of Object.entries(steps)) fs.writeFileSync(path.join(d, 'steps', `${name}.json`), JSON.stringify({ step: name, ...r }));
  fs.writeFileSync(path.join(d, 'model', 'history.json'), JSON.stringify({ epochs: [{ epoch: 1, loss: 1000, validationLoss: 1100, seconds: 3 }, { epoch: 2, loss: 900.5, validationLoss: 950.25, seconds: 2 }] }));
  fs.writeFileSync(path.join(d, 'model', 'loss.png'), PNG);
  const methods = ['pca', 'scvi', 'finvae'];
  for (const m of methods) for (const c of ['batch', 'label']) fs.writeFileSync(path.join(d, 'bench', `umap_${m}_${c}.png`), PNG);
  fs.writeFileSync(path.join(d, 'bench', 'loss_finvae.png'), PNG);
  // finvae's UMAPs come with the SVGs they were drawn from: the page gets them rendered again from the SVG.
  for (const c of ['batch', 'label']) fs.writeFileSync(path.join(d, 'bench', `umap_finvae_${c}.svg`), SVG);
  fs.writeFileSync(
    path.join(d, 'bench', 'results.md'),
    "| Method | iLISI | Batch correction | Bio conservation | Total |\n| --- | --- | --- | --- | --- |\n| finvae † | 0.410 | 0.600 | 0.800 | 0.720 |\n| pca | 0.010 | 0.300 | 0.700 | 0.540 |\n\n450 cells, 3 labels, 2 batches.\n\nInvariant prediction of 'cell_line', leave one batch out (mean over held-out batches):\n\n| Method | Predictor | Accuracy | Macro-F1 |\n",
  );
  const perBatch = (a: number, b: number) => [
    { batch: 'CEL-seq2', nTrain: 240, nTest: 210, accuracy: a, macroF1: a, unseenLabels: [] },
    { batch: 'Drop-seq', nTrain: 210, nTest: 240, accuracy: b, macroF1: b, unseenLabels: [] },
  ];
  fs.writeFileSync(
    path.join(d, 'bench', 'results.json'),
    JSON.stringify({
      umap: { nNeighbors: 15, minDist: 0.5, seed: 0, methods: Object.fromEntries(methods.map((m) => [m, { batch: { png: `umap_${m}_batch.png` }, label: { png: `umap_${m}_label.png` } }])) },
      invariantPrediction: {
        label: 'cell_line',
        protocol: 'Embedding protocol (default, cheap).',
        methods: { pca: { classifier: 'linear', perBatch: perBatch(0.5, 0.25), mean: { accuracy: 0.375, macroF1: 0.3 } }, finvae: { classifier: 'linear', perBatch: perBatch(1, 0.9875), mean: { accuracy: 0.99375, macroF1: 0.99 } } },
      },
    }),
  );
}

function run(args: string[]) {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tutorials script --report-only', () => {
  it('writes the page from a fabricated output folder: commands, outputs, wall times, results table, UMAP and loss pictures, held-out-batch accuracy', () => {
    const out = path.join(dir, 'runs');
    fabricate(out);
    const docs = path.join(dir, 'docs', 'tutorials');
    const r = run(['--report-only', '--tutorials', 'cellbench-lung', '--out', out, '--docs', docs, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const page = fs.readFileSync(path.join(docs, 'cellbench-lung.md'), 'utf8');
    // every command as a user types it, the dataset path through $FILE
    expect(page).toContain('FILE=$(invae datasets path cellbench-lung-3cl)');
    expect(page).toContain('invae train "$FILE" --inv cell_line --spur batch --validation 0.1 --predict cell_line --seed 0 --out model');
    expect(page).toContain('invae embed model "$FILE" --out embedded.h5ad');
    expect(page).toContain('invae predict model "$FILE" --label cell_line --out predictions.csv');
    expect(page).toContain('invae bench "$FILE" --batch batch --label cell_line --methods pca,scvi,finvae --seed 0 --out bench');
    // real outputs, the long progress log trimmed, wall times, date, commit and machine
    expect(page).toContain("wrote obsm['X_inVAE'] (450 × 10, inv latent) to embedded.h5ad");
    expect(page).toContain('epoch 1/400  loss 1000');
    expect(page).toContain('epoch 30/400  loss 971');
    expect(page).not.toContain('epoch 10/400  loss 991');
    expect(page).toMatch(/… \(\d+ lines left out\)/);
    expect(page).toContain('Output (5.4 min wall time; progress on stderr, then stdout)');
    expect(page).toMatch(/\| `invae bench` \| 2026-12-03 06:00:00 UTC \| 20\.6 min \|/);
    expect(page).toContain('Run on 2026-12-03 at commit `abc1234` on Test CPU, 2 CPUs');
    // the results table of bench/results.md, without its invariant-prediction tail
    expect(page).toContain('| finvae † | 0.410 | 0.600 | 0.800 | 0.720 |');
    expect(page.match(/\| Method \| Predictor/g)).toBeNull();
    // pictures: copied into the public folder and linked by site path
    const pub = path.join(dir, 'docs', 'public', 'tutorials', 'cellbench-lung');
    expect(page).toContain('![Training and validation loss per epoch of invae train on cellbench-lung-3cl](/tutorials/cellbench-lung/loss.png)');
    for (const m of ['pca', 'scvi', 'finvae']) {
      for (const c of ['batch', 'label']) {
        expect(page).toContain(`src="/tutorials/cellbench-lung/umap_${m}_${c}.png"`);
        const png = fs.readFileSync(path.join(pub, `umap_${m}_${c}.png`));
        if (m !== 'finvae') expect(png).toEqual(PNG);
        else {
          // rendered from the SVG (120 × 80) at 0.6 × its size: a PNG of 72 × 48 pixels
          expect(png.subarray(0, 8)).toEqual(PNG.subarray(0, 8));
          expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([72, 48]);
        }
      }
    }
    expect(page).toContain('src="/tutorials/cellbench-lung/loss_finvae.png"');
    expect(fs.readdirSync(pub).sort()).toEqual(['loss.png', 'loss_finvae.png', ...['finvae', 'pca', 'scvi'].flatMap((m) => [`umap_${m}_batch.png`, `umap_${m}_label.png`])]);
    // leave-one-batch-out accuracy per held-out batch and its mean
    expect(page).toContain('| held-out batch | cells | pca accuracy | finvae accuracy |');
    expect(page).toContain('| Drop-seq | 240 | 25.0 % | 98.8 % |');
    expect(page).toContain('| **mean** | | **37.5 %** | **99.4 %** |');
    expect(page).toContain('last epoch: training loss 900.500, validation loss 950.250');
    expect(page).not.toContain('::: info Epochs');
    // bench's stdout is results.md: shown as the tables, not twice
    expect(page).not.toContain('| finvae | 0.700 |');
    expect(page).toContain('Output (20.6 min wall time; progress on stderr; stdout, `bench/results.md`, is shown as tables below)');
    expect(page).toContain('PCA: 9.6 s');
    expect(page).toContain('Some commands overlapped in time');
    // a function of the folder: a second run writes the same page
    const again = run(['--report-only', '--tutorials', 'cellbench-lung', '--out', out, '--docs', docs, '--quiet']);
    expect(again.code, again.stderr).toBe(0);
    expect(fs.readFileSync(path.join(docs, 'cellbench-lung.md'), 'utf8')).toBe(page);
  });

  it('a record made with other arguments than the script runs: refused, the published pictures kept', () => {
    const out = path.join(dir, 'runs-other');
    fabricate(out);
    const docs = path.join(dir, 'docs-other', 'tutorials');
    expect(run(['--report-only', '--tutorials', 'cellbench-lung', '--out', out, '--docs', docs, '--quiet']).code).toBe(0);
    const rec = path.join(out, 'cellbench-lung', 'steps', 'bench.json');
    const r0 = JSON.parse(fs.readFileSync(rec, 'utf8'));
    fs.writeFileSync(rec, JSON.stringify({ ...r0, argv: r0.argv.map((a: string) => (a === '--seed' ? '--epochs' : a === '0' ? '3' : a)) }));
    fs.rmSync(path.join(docs, 'cellbench-lung.md'));
    const r = run(['--report-only', '--tutorials', 'cellbench-lung', '--out', out, '--docs', docs, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('step bench ran `invae bench /data/cellbench-lung-3cl.h5ad --batch batch --label cell_line --methods pca,scvi,finvae --epochs 3');
    expect(r.stderr).toContain('rerun without --report-only');
    expect(fs.existsSync(path.join(docs, 'cellbench-lung.md'))).toBe(false);
    expect(fs.readdirSync(path.join(dir, 'docs-other', 'public', 'tutorials', 'cellbench-lung'))).toHaveLength(8);
  });

  it('explicit epochs (hematopoiesis): stated on the page with the measured seconds per epoch', () => {
    const out = path.join(dir, 'runs-hema');
    fabricate(out, { key: 'hematopoiesis', dataset: 'paul15-hematopoiesis', label: 'cell_type', epochs: ['--epochs', '100'] });
    const docs = path.join(dir, 'docs-hema', 'tutorials');
    const r = run(['--report-only', '--tutorials', 'hematopoiesis', '--out', out, '--docs', docs, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const page = fs.readFileSync(path.join(docs, 'hematopoiesis.md'), 'utf8');
    expect(page).toContain('invae train "$FILE" --inv cell_type --spur batch --validation 0.1 --predict cell_type --epochs 100 --seed 0 --out model');
    expect(page).toContain('::: info Epochs');
    expect(page).toContain('both commands were run with `--epochs 100`');
    expect(page).toContain('In this run an epoch of `invae train` took 2.0–3.0 s (median 3.0 s).');
    expect(page).toContain("`obs['lineage']`");
  });

  it('an output folder without the runs: a clear error naming the missing record, no page, no stack trace', () => {
    const docs = path.join(dir, 'docs-missing');
    const r = run(['--report-only', '--tutorials', 'hematopoiesis', '--out', path.join(dir, 'nothing'), '--docs', docs, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/steps\/path\.json is missing \(record of step path\); run without --report-only/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(docs, 'hematopoiesis.md'))).toBe(false);
    const unknown = run(['--report-only', '--tutorials', 'lung', '--out', dir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown tutorial 'lung' \(known: cellbench-lung, hematopoiesis, after-integration\)/);
  });
});

// The after-integration tutorial: its computations (pure functions of the script) and its page.
const after = fileURLToPath(new URL('../../../scripts/tutorials-after-integration.mjs', import.meta.url));
interface AfterIntegration {
  r2ByGroup(values: Float64Array, nCells: number, nGenes: number, groups: string[]): Float64Array;
  finiteMean(v: ArrayLike<number>): { mean: number; n: number };
  logNormalised(counts: Float64Array, nCells: number, nGenes: number, librarySize?: number): Float64Array;
  denseOf(m: { kind: string; shape: number[]; data: ArrayLike<number>; indices?: ArrayLike<number>; indptr?: ArrayLike<number> }): Float64Array;
  transferScores(predicted: string[], truth: string[]): { cells: number; accuracy: number; unknown: number; accuracyOfLabelled: number };
  parseCsv(text: string): string[][];
  overlap(a: string[], b: string[]): number;
}

describe('after-integration tutorial: computations', () => {
  it('r2ByGroup: per-gene between-group over total sum of squares; a constant gene is NaN; finiteMean skips it', async () => {
    const { r2ByGroup, finiteMean } = (await import(after)) as AfterIntegration;
    // 4 cells × 3 genes: gene 0 is the group exactly (R² 1), gene 1 varies within groups only (R² 0), gene 2 constant
    const v = Float64Array.from([1, 5, 7, 1, 3, 7, 3, 5, 7, 3, 3, 7]);
    const r2 = r2ByGroup(v, 4, 3, ['a', 'a', 'b', 'b']);
    expect(r2[0]).toBeCloseTo(1, 12);
    expect(r2[1]).toBeCloseTo(0, 12);
    expect(Number.isNaN(r2[2])).toBe(true);
    // a mixed gene, by hand: values 0, 2, 4, 10 in groups (a a b b): mean 4, SS_total 16+4+0+36 = 56, SS_between 2·(1−4)² + 2·(7−4)² = 36
    expect(r2ByGroup(Float64Array.from([0, 2, 4, 10]), 4, 1, ['a', 'a', 'b', 'b'])[0]).toBeCloseTo(36 / 56, 12);
    expect(finiteMean(r2)).toEqual({ mean: 0.5, n: 2 });
    expect(() => r2ByGroup(v, 4, 3, ['a', 'b'])).toThrow(/2 group labels for 4 cells/);
  });

  it('logNormalised (counts per 1e4, log1p), denseOf (CSR), transferScores (unknown counts as wrong), parseCsv (quotes), overlap', async () => {
    const m = (await import(after)) as AfterIntegration;
    const ln = m.logNormalised(Float64Array.from([1, 3, 0, 0]), 2, 2);
    expect(Array.from(ln)).toEqual([Math.log1p(2500), Math.log1p(7500), 0, 0]);
    const csr = { kind: 'csr', shape: [2, 3], data: Float32Array.from([5, 2]), indices: Int32Array.from([2, 0]), indptr: Int32Array.from([0, 1, 2]) };
    expect(Array.from(m.denseOf(csr))).toEqual([0, 0, 5, 2, 0, 0]);
    expect(m.transferScores(['a', 'unknown', 'b', 'a'], ['a', 'b', 'b', 'b'])).toEqual({ cells: 4, accuracy: 0.5, unknown: 1, accuracyOfLabelled: 2 / 3 });
    expect(m.parseCsv('cell,pred\n"c,1",a\r\nc2,"b ""x"""\n')).toEqual([['cell', 'pred'], ['c,1', 'a'], ['c2', 'b "x"']]);
    expect(m.overlap(['a', 'b', 'c', 'c'], ['c', 'd', 'a'])).toBe(2);
  });
});

describe('after-integration tutorial: --report-only', () => {
  it('writes the page from a fabricated output folder: commands and script steps, R² table, DE tables and volcanoes, Wilcoxon comparison, label transfer', async () => {
    const { TUTORIALS, stepsOf } = (await import(script)) as { TUTORIALS: Record<string, unknown>; stepsOf(t: unknown): { name: string; argv: string[]; script?: boolean }[] };
    const out = path.join(dir, 'runs-after');
    const d = path.join(out, 'after-integration');
    const FILE = '/data/cellbench-lung-3cl.h5ad';
    for (const sub of ['steps', 'model', 'reference', 'mapped', 'de-lines', 'de-protocol']) fs.mkdirSync(path.join(d, sub), { recursive: true });
    const stdout: Record<string, string> = { path: `${FILE}\n`, subsets: 'subsets/celseq2.h5ad: 240 cells (batch == celseq2) × 14888 genes\n', map: 'mapped 210 query cells onto reference\n' };
    for (const s of stepsOf(TUTORIALS['after-integration'])) {
      const argv = s.argv.map((a) => (a === '$FILE' ? FILE : a));
      fs.writeFileSync(path.join(d, 'steps', `${s.name}.json`), JSON.stringify({ step: s.name, ...record(argv, stdout[s.name] ?? `${s.name} output\n`, '', s.name === 'map' ? 30 : 60) }));
    }
    const history = (n: number) => JSON.stringify({ epochs: Array.from({ length: n }, (_, i) => ({ epoch: i + 1, loss: 100 - i, seconds: 0.5 })) });
    fs.writeFileSync(path.join(d, 'model', 'history.json'), history(400));
    fs.writeFileSync(path.join(d, 'reference', 'history.json'), history(400));
    fs.writeFileSync(path.join(d, 'mapped', 'history.json'), history(400));
    fs.writeFileSync(path.join(d, 'model', 'loss.png'), PNG);
    const gene = (g: string, isDe: boolean) => ({ gene: g, lfcMean: 2, probaDe: 0.99, bayesFactor: 4.6, isDe, detectionGroup: 0.9, detectionReference: 0.1 });
    const de = (groupby: string, group: string, reference: string, nDe: number) =>
      JSON.stringify({ groupby, group, reference, delta: 0.25, fdrTarget: 0.05, batchCorrected: true, nCellsGroup: 182, nCellsReference: 136, nDe, genes: [gene('GENE1', true), gene('GENE2', nDe > 1), gene('GENE3', false)] });
    fs.writeFileSync(path.join(d, 'de-lines', 'de.json'), de('cell_line', 'H1975', 'HCC827', 2));
    fs.writeFileSync(path.join(d, 'de-protocol', 'de.json'), de('batch', 'celseq2', 'dropseq', 1));
    for (const f of ['de-lines', 'de-protocol']) fs.writeFileSync(path.join(d, f, 'volcano.svg'), SVG);
    for (const f of ['de-lines', 'de-protocol']) fs.writeFileSync(path.join(d, f, 'volcano.png'), PNG);
    const m = (matrix: string, batch: number, line: number) => ({ matrix, file: 'corrected.h5ad', cells: 450, genes: 2000, batch, cell_line: line, genesScored: 2000 });
    fs.writeFileSync(path.join(d, 'variance.json'), JSON.stringify({ batch: 'batch', label: 'cell_line', genes: 2000, matrices: [m('log-normalised counts', 0.04, 0.2), m('invae all', 0.01, 0.7), m('invae celseq2', 0.012, 0.69)] }));
    const c = (contrast: string, invae: number, wil: number) => ({ contrast, cells: [182, 136], genes: 2000, fdr: 0.05, delta: 0.25, invae, wilcoxon: wil, wilcoxonDelta: wil - 10, overlap: Math.min(invae, wil) - 5, overlapDelta: Math.min(invae, wil) - 6 });
    fs.writeFileSync(path.join(d, 'wilcoxon.json'), JSON.stringify({ 'de-lines': c('cell_line: H1975 vs HCC827', 1500, 1100), 'de-protocol': c('batch: celseq2 vs dropseq', 100, 400) }));
    const s = (accuracy: number, unknown: number) => ({ cells: 210, accuracy, unknown, accuracyOfLabelled: accuracy, meanConfidence: 0.9 });
    fs.writeFileSync(path.join(d, 'transfer.json'), JSON.stringify({ label: 'cell_line', unknownThreshold: 0.5, unmapped: s(0.8, 12), mapped: s(0.95, 3), full: s(1, 0) }));

    const docs = path.join(dir, 'docs-after', 'tutorials');
    const r = run(['--report-only', '--tutorials', 'after-integration', '--out', out, '--docs', docs, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const page = fs.readFileSync(path.join(docs, 'after-integration.md'), 'utf8');
    expect(page).toContain('invae expression model "$FILE" --transform-batch all --out corrected.h5ad');
    expect(page).toContain('invae de model subsets/H1975.h5ad --groupby batch --group celseq2 --reference dropseq --seed 0 --out de-protocol');
    expect(page).toContain('invae map reference subsets/dropseq.h5ad --label cell_line --seed 0 --out mapped');
    expect(page).toContain('invae predict reference subsets/dropseq.h5ad --label cell_line --unknown-threshold 0.5 --out unmapped.csv');
    expect(page).toContain('### 2. `script: subsets`');
    // numbers from the output files, not from the page's text
    expect(page).toContain('| log-normalised counts | 0.040 | 0.200 |');
    expect(page).toContain('the protocol explains 0.040 of a gene\'s variance in the log-normalised counts and 0.010 in the expression corrected with `--transform-batch all` (less, 0.250 ×)');
    expect(page).toContain('| batch: celseq2 vs dropseq | 182 vs 136 | 100 | 400 | 390 | 95 (94) |');
    expect(page).toContain('invae calls 100 genes on batch-corrected expression and the Wilcoxon test on the counts 400 (390 with |LFC| ≥ 0.25)');
    expect(page).toContain('| GENE1 | 2.000 | 0.990 | 4.600 | yes | 90.0 % / 10.0 % |');
    expect(page).toContain('| the reference mapped to dropseq (`invae map`) | 95.0 % | 3 | 95.0 % | 0.900 |');
    expect(page).toContain('Mapping took 30.0 s against 60.0 s for training the reference (400 and 400 epochs; 210 query cells, 240 reference cells)');
    expect(page).toContain('from 80.0 % unmapped to 95.0 % mapped, against 100.0 % for the model');
    expect(page).toContain('](/tutorials/after-integration/volcano-lines.png)');
    expect(fs.readdirSync(path.join(dir, 'docs-after', 'public', 'tutorials', 'after-integration')).sort()).toEqual(['loss.png', 'volcano-lines.png', 'volcano-protocol.png']);
    // a function of the folder
    expect(run(['--report-only', '--tutorials', 'after-integration', '--out', out, '--docs', docs, '--quiet']).code).toBe(0);
    expect(fs.readFileSync(path.join(docs, 'after-integration.md'), 'utf8')).toBe(page);
  });
});
