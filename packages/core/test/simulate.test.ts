import { describe, expect, it } from 'vitest';
import { InvalidOptionError, csrMatrix, csrToDense, resolveSimulateOptions, simulate, type CsrMatrix, type SimulatedData } from '../src/index';

function groupMeans(z: Float32Array, dim: number, labels: string[], col: number): Map<string, { mean: number; variance: number; n: number }> {
  const acc = new Map<string, { s: number; s2: number; n: number }>();
  labels.forEach((l, i) => {
    const a = acc.get(l) ?? { s: 0, s2: 0, n: 0 };
    const v = z[i * dim + col]!;
    a.s += v;
    a.s2 += v * v;
    a.n++;
    acc.set(l, a);
  });
  return new Map([...acc].map(([k, a]) => [k, { mean: a.s / a.n, variance: a.s2 / a.n - (a.s / a.n) ** 2, n: a.n }]));
}

/** Byte-wise equality of two typed arrays (fast; vitest's deep equality is slow on big arrays). */
function same(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.constructor === b.constructor && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function rowSums(c: CsrMatrix): Float64Array {
  const out = new Float64Array(c.shape[0]);
  for (let r = 0; r < c.shape[0]; r++) for (let k = c.indptr[r]!; k < c.indptr[r + 1]!; k++) out[r] += c.data[k]!;
  return out;
}

describe('simulate', () => {
  const opts = { nCells: 1200, nGenes: 300, nBatches: 3, nCellTypes: 3, nDiseases: 2, latentDimInv: 4, latentDimSpur: 2, seed: 7 };
  const sim: SimulatedData = simulate(opts);

  it('returns consistently shaped plain data', () => {
    expect(sim.nCells).toBe(1200);
    expect(sim.nGenes).toBe(300);
    expect(sim.counts.kind).toBe('csr');
    const c = sim.counts as CsrMatrix;
    expect(() => csrMatrix(...c.shape, c.indptr, c.indices, c.data)).not.toThrow();
    expect(sim.zInv.length).toBe(1200 * 4);
    expect(sim.zSpur.length).toBe(1200 * 2);
    expect(sim.priorMeanInv.length).toBe(3 * 2 * 4);
    expect(sim.obs.batch).toHaveLength(1200);
    expect(sim.geneNames).toHaveLength(300);
    expect(new Set(sim.geneNames).size).toBe(300);
    expect(sim.cellNames[0]).toBe('cell_0000');
    expect(sim.categories).toEqual({ batch: ['batch_0', 'batch_1', 'batch_2'], cell_type: ['cell_type_0', 'cell_type_1', 'cell_type_2'], disease: ['disease_0', 'disease_1'] });
    expect(new Set(sim.obs.cell_type)).toEqual(new Set(sim.categories.cell_type));
    expect(sim.options).toEqual(resolveSimulateOptions(opts));
    expect(sim.theta).toHaveLength(300);
    // balanced design: 1200 cells over 18 groups → 66 or 67 per group
    const groups = new Map<string, number>();
    for (let i = 0; i < 1200; i++) {
      const k = `${sim.obs.batch[i]}|${sim.obs.cell_type[i]}|${sim.obs.disease[i]}`;
      groups.set(k, (groups.get(k) ?? 0) + 1);
    }
    expect(groups.size).toBe(18);
    for (const n of groups.values()) expect([66, 67]).toContain(n);
    // cells are shuffled, not grouped by batch
    expect(sim.obs.batch.slice(0, 30).every((b) => b === sim.obs.batch[0])).toBe(false);
  });

  it('counts are non-negative integers; all genes and cells are finite', () => {
    const c = sim.counts as CsrMatrix;
    expect(c.data.length).toBeGreaterThan(0);
    const bad = c.data.filter((v) => !(v > 0) || !Number.isInteger(v));
    expect(bad.length).toBe(0);
    expect(sim.zInv.every(Number.isFinite) && sim.zSpur.every(Number.isFinite)).toBe(true);
  });

  it('is deterministic for a seed, and the seed matters', () => {
    const again = simulate(opts);
    const a = again.counts as CsrMatrix;
    const c = sim.counts as CsrMatrix;
    expect(same(a.indptr, c.indptr) && same(a.indices, c.indices) && same(a.data, c.data)).toBe(true);
    expect(same(again.zInv, sim.zInv) && same(again.zSpur, sim.zSpur)).toBe(true);
    expect(again.obs).toEqual(sim.obs);
    const other = simulate({ ...opts, seed: 8 });
    expect(same(other.zInv, sim.zInv)).toBe(false);
    expect(same((other.counts as CsrMatrix).indptr, c.indptr)).toBe(false);
  });

  it('dense and CSR output hold the same counts', () => {
    const dense = simulate({ ...opts, nCells: 200, format: 'dense' });
    const csr = simulate({ ...opts, nCells: 200 });
    expect(dense.counts.kind).toBe('dense');
    expect(same(csrToDense(csr.counts as CsrMatrix).data, dense.counts.data)).toBe(true);
    expect(dense.counts.data.some((v) => v > 0)).toBe(true);
  });

  it('spurious latents are shifted and scaled by batch, not by cell type', () => {
    for (let j = 0; j < 2; j++) {
      const byBatch = groupMeans(sim.zSpur, 2, sim.obs.batch, j);
      const b0 = byBatch.get('batch_0')!;
      const b1 = byBatch.get('batch_1')!;
      const b2 = byBatch.get('batch_2')!;
      // means 0, 1, 2 and variances 2, 3, 4 (reference defaults); 400 cells per batch
      expect(Math.abs(b0.mean - 0)).toBeLessThan(0.35);
      expect(Math.abs(b1.mean - 1)).toBeLessThan(0.35);
      expect(Math.abs(b2.mean - 2)).toBeLessThan(0.35);
      expect(b2.variance).toBeGreaterThan(b0.variance);
      expect(b0.variance).toBeGreaterThan(1.4);
      expect(b0.variance).toBeLessThan(2.8);
      const byType = [...groupMeans(sim.zSpur, 2, sim.obs.cell_type, j).values()].map((g) => g.mean);
      expect(Math.max(...byType) - Math.min(...byType)).toBeLessThan(0.5);
    }
  });

  it('invariant latents separate cell types and do not depend on batch', () => {
    const centroid = (labels: string[], value: string) => {
      const out = new Float64Array(4);
      let n = 0;
      labels.forEach((l, i) => {
        if (l !== value) return;
        n++;
        for (let j = 0; j < 4; j++) out[j] += sim.zInv[i * 4 + j]!;
      });
      return out.map((v) => v / n);
    };
    const dist = (a: Float64Array, b: Float64Array) => Math.hypot(...a.map((v, j) => v - b[j]!));
    const ct = sim.categories.cell_type.map((c) => centroid(sim.obs.cell_type, c));
    for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) expect(dist(ct[a]!, ct[b]!)).toBeGreaterThan(1.5);
    const bt = sim.categories.batch.map((b) => centroid(sim.obs.batch, b));
    for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) expect(dist(bt[a]!, bt[b]!)).toBeLessThan(0.5);
    // disease shifts at least one invariant dimension by about diseaseShift for every cell type
    const d0 = centroid(sim.obs.disease, 'disease_0');
    const d1 = centroid(sim.obs.disease, 'disease_1');
    expect(dist(d0, d1)).toBeGreaterThan(0.5);
  });

  it('expression depends on the latents: cell types differ more than random halves', () => {
    const c = csrToDense(sim.counts as CsrMatrix).data;
    const profile = (rows: number[]) => {
      const p = new Float64Array(300);
      for (const r of rows) {
        let tot = 0;
        for (let g = 0; g < 300; g++) tot += c[r * 300 + g]!;
        for (let g = 0; g < 300; g++) p[g] += c[r * 300 + g]! / tot / rows.length;
      }
      return p;
    };
    const l1 = (a: Float64Array, b: Float64Array) => a.reduce((s, v, g) => s + Math.abs(v - b[g]!), 0);
    const t0 = sim.obs.cell_type.flatMap((t, i) => (t === 'cell_type_0' ? [i] : []));
    const t1 = sim.obs.cell_type.flatMap((t, i) => (t === 'cell_type_1' ? [i] : []));
    const halves = l1(profile(t0.filter((_, k) => k % 2 === 0)), profile(t0.filter((_, k) => k % 2 === 1)));
    expect(l1(profile(t0), profile(t1))).toBeGreaterThan(3 * halves);
  });

  it('library sizes and sparsity are realistic and follow the options', () => {
    const s = simulate({ nCells: 400, nGenes: 2000, seed: 3, librarySize: [500, 2000] });
    const c = s.counts as CsrMatrix;
    const sums = rowSums(c);
    const meanLib = sums.reduce((a, b) => a + b, 0) / sums.length;
    const expected = (2000 - 500) / Math.log(2000 / 500); // mean of a log-uniform on [500, 2000]
    expect(Math.abs(meanLib / expected - 1)).toBeLessThan(0.08);
    for (let i = 0; i < 400; i++) expect(Math.abs(sums[i]! / s.librarySize[i]! - 1)).toBeLessThan(0.35);
    const zeroFraction = 1 - c.data.length / (400 * 2000);
    expect(zeroFraction).toBeGreaterThan(0.5);
    expect(zeroFraction).toBeLessThan(0.98);
    const dropped = simulate({ nCells: 400, nGenes: 2000, seed: 3, librarySize: [500, 2000], dropout: 0.5 });
    const zf2 = 1 - (dropped.counts as CsrMatrix).data.length / (400 * 2000);
    expect(zf2).toBeGreaterThan(zeroFraction + 0.1);
  });

  it('NB counts are over-dispersed relative to Poisson', () => {
    const common = { nCells: 600, nGenes: 200, seed: 5, nBatches: 1, nCellTypes: 1, nDiseases: 1, librarySize: [2000, 2000] as [number, number] };
    const dispersion = (s: SimulatedData) => {
      const d = csrToDense(s.counts as CsrMatrix).data;
      let ratio = 0;
      for (let g = 0; g < 200; g++) {
        let m = 0;
        let m2 = 0;
        for (let r = 0; r < 600; r++) {
          const v = d[r * 200 + g]!;
          m += v;
          m2 += v * v;
        }
        m /= 600;
        ratio += (m2 / 600 - m * m) / Math.max(m, 1e-9) / 200;
      }
      return ratio;
    };
    const nb = simulate({ ...common, likelihood: 'nb', theta: 2 });
    const po = simulate({ ...common, likelihood: 'poisson' });
    expect(po.theta).toHaveLength(0);
    expect(dispersion(nb)).toBeGreaterThan(2 * dispersion(po));
  });

  it('rejects invalid options with InvalidOptionError naming the option', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ nCells: 0 }, 'nCells'],
      [{ nGenes: 1.5 }, 'nGenes'],
      [{ likelihood: 'zinb' }, 'likelihood'],
      [{ theta: 0 }, 'theta'],
      [{ librarySize: [100, 10] }, 'librarySize'],
      [{ dropout: 1 }, 'dropout'],
      [{ seed: -1 }, 'seed'],
      [{ latentDimInv: 0 }, 'latentDimInv'],
      [{ format: 'coo' }, 'format'],
    ];
    for (const [o, name] of bad) {
      let err: unknown;
      try {
        simulate(o as never);
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(InvalidOptionError);
      expect((err as InvalidOptionError).option).toBe(name);
    }
  });

  it('allows no spurious dimensions and a single group', () => {
    const s = simulate({ nCells: 10, nGenes: 5, latentDimSpur: 0, nBatches: 1, nCellTypes: 1, nDiseases: 1, seed: 1 });
    expect(s.zSpur.length).toBe(0);
    expect(s.obs.batch.every((b) => b === 'batch_0')).toBe(true);
  });
});
