import { describe, expect, it } from 'vitest';
import { InvalidOptionError, csrToDense, simulate, type CsrMatrix } from '../src/index';

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n;
    mb += b[i]! / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

const base = { nCells: 900, nGenes: 120, nBatches: 2, nCellTypes: 3, nDiseases: 2, latentDimInv: 4, latentDimSpur: 1, seed: 11 };

describe('simulate: planted gene programs', () => {
  const P = 3;
  const sim = simulate({ ...base, nPrograms: P, programSize: 12 });
  const plain = simulate(base);

  it('returns disjoint gene sets, their names and a ground-truth activity per cell and program', () => {
    const pr = sim.programs!;
    expect(pr.names).toEqual(['program_0', 'program_1', 'program_2']);
    expect(pr.geneIndices.map((g) => g.length)).toEqual([12, 12, 12]);
    expect(new Set(pr.geneIndices.flat()).size).toBe(36);
    expect(pr.genes[1]).toEqual(pr.geneIndices[1]!.map((g) => sim.geneNames[g]));
    expect(pr.activity).toHaveLength(900 * P);
    expect(plain.programs).toBeUndefined();
    // the latents and labels are those of the simulation without programs
    expect(Array.from(sim.zInv)).toEqual(Array.from(plain.zInv));
    expect(sim.obs).toEqual(plain.obs);
  });

  it("a program's activity drives exactly its genes' share of the counts", () => {
    const pr = sim.programs!;
    const x = csrToDense(sim.counts as CsrMatrix);
    const G = sim.nGenes;
    const share = (genes: number[]) =>
      Array.from({ length: sim.nCells }, (_, i) => {
        let s = 0;
        let tot = 0;
        for (let g = 0; g < G; g++) tot += x.data[i * G + g]!;
        for (const g of genes) s += x.data[i * G + g]!;
        return Math.log((s + 1) / tot);
      });
    const act = (p: number) => Array.from({ length: sim.nCells }, (_, i) => pr.activity[i * P + p]!);
    // the per-cell part of an activity (minus its cell-type mean), which nothing else in the simulation follows
    const residual = (p: number) => {
      const a = act(p);
      const sums = new Map<string, { s: number; n: number }>();
      sim.obs.cell_type.forEach((c, i) => {
        const e = sums.get(c) ?? { s: 0, n: 0 };
        e.s += a[i]!;
        e.n++;
        sums.set(c, e);
      });
      return a.map((v, i) => v - sums.get(sim.obs.cell_type[i]!)!.s / sums.get(sim.obs.cell_type[i]!)!.n);
    };
    for (let p = 0; p < P; p++) {
      const genes = share(pr.geneIndices[p]!);
      expect(pearson(genes, act(p))).toBeGreaterThan(0.7);
      const own = pearson(genes, residual(p));
      expect(own).toBeGreaterThan(0.4);
      // other programs act on these genes only through the softmax over genes (a smaller, negative effect)
      for (let q = 0; q < P; q++) if (q !== p) expect(pearson(genes, residual(q))).toBeLessThan(Math.min(0.1, own - 0.4));
    }
    // without the program (same seed), the same genes do not follow the activity
    const xPlain = csrToDense(plain.counts as CsrMatrix);
    const sharePlain = Array.from({ length: sim.nCells }, (_, i) => {
      let s = 0;
      let tot = 0;
      for (let g = 0; g < G; g++) tot += xPlain.data[i * G + g]!;
      for (const g of pr.geneIndices[0]!) s += xPlain.data[i * G + g]!;
      return Math.log((s + 1) / tot);
    });
    expect(pearson(sharePlain, act(0))).toBeLessThan(0.5);
  });

  it('rejects programs that do not fit in the genes', () => {
    expect(() => simulate({ ...base, nPrograms: 20, programSize: 7 })).toThrow(InvalidOptionError);
    expect(() => simulate({ ...base, nPrograms: 20, programSize: 7 })).toThrow(/need 140 genes; there are 120/);
  });
});

describe('simulate: treatments and doses', () => {
  const doses = [0.1, 1, 10, 100];
  const sim = simulate({ ...base, nTreatments: 2, doses, controlFraction: 0.25 });
  const plain = simulate(base);

  it('labels cells as control (dose 0) or a treatment at one of the doses', () => {
    const t = sim.treatment!;
    expect(t.categories).toEqual(['control', 'treatment_0', 'treatment_1']);
    expect(t.labels).toHaveLength(900);
    const control = t.labels.filter((l) => l === 'control').length / 900;
    expect(control).toBeGreaterThan(0.18);
    expect(control).toBeLessThan(0.32);
    t.labels.forEach((l, i) => expect(l === 'control' ? t.dose[i] === 0 : doses.includes(t.dose[i]!)).toBe(true));
    expect(plain.treatment).toBeUndefined();
  });

  it('moves the invariant latents along the treatment direction by shift × Hill response', () => {
    const t = sim.treatment!;
    const Li = sim.latentDimInv;
    for (let i = 0; i < 900; i++) {
      const k = t.categories.indexOf(t.labels[i]!) - 1;
      const r = k < 0 ? 0 : t.dose[i]! / (t.dose[i]! + 3);
      expect(t.response[i]).toBeCloseTo(r, 6);
      for (let j = 0; j < Li; j++) {
        const expected = plain.zInv[i * Li + j]! + (k < 0 ? 0 : 3 * r * t.directions[k * Li + j]!);
        expect(sim.zInv[i * Li + j]).toBeCloseTo(expected, 4);
      }
    }
  });

  it('the same seed with other doses shares the mechanism (to hold a dose out)', () => {
    const other = simulate({ ...base, nTreatments: 2, doses: [3], controlFraction: 0.25 });
    expect(Array.from(other.treatment!.directions)).toEqual(Array.from(sim.treatment!.directions));
    expect(other.treatment!.labels).toEqual(sim.treatment!.labels);
    expect(new Set(other.treatment!.dose.filter((d) => d > 0))).toEqual(new Set([3]));
    expect(() => simulate({ ...base, nTreatments: 1, doses: [0, 1] })).toThrow(/doses must be positive/);
    expect(() => simulate({ ...base, nTreatments: 1, doses: [1, 1] })).toThrow(/distinct/);
  });
});

describe('simulate: planted DE genes, batch-only genes and batch-free rates', () => {
  const planted = { ...base, diseaseShift: 0, pairJitter: 0, nDeGenes: 10, deEffect: 1.5, nBatchGenes: 15, batchGeneEffect: 1, returnRates: true };
  const sim = simulate(planted);
  const G = sim.nGenes;
  /** Mean over the cells in `pick` of the log of each gene's value in `m` (cells × genes). */
  const meanLog = (m: ArrayLike<number>, pick: (i: number) => boolean, eps = 0) => {
    const out = new Float64Array(G);
    let n = 0;
    for (let i = 0; i < sim.nCells; i++) {
      if (!pick(i)) continue;
      n++;
      for (let g = 0; g < G; g++) out[g] += Math.log(m[i * G + g]! + eps);
    }
    return out.map((v) => v / n);
  };

  it('leaves the simulation without them unchanged, and returns what was planted', () => {
    const plain = simulate(base);
    const same = simulate({ ...base, pairJitter: 0.5, nDeGenes: 0, nBatchGenes: 0, returnRates: false });
    expect(Array.from(same.counts.data)).toEqual(Array.from(plain.counts.data));
    expect(plain.de).toBeUndefined();
    expect(plain.batchGenes).toBeUndefined();
    expect(plain.batchFreeRates).toBeUndefined();
    const de = sim.de!;
    const bg = sim.batchGenes!;
    expect(de.geneIndices).toHaveLength(10);
    expect(bg.geneIndices).toHaveLength(15);
    expect(de.geneIndices.filter((g) => bg.geneIndices.includes(g))).toEqual([]);
    expect(de.genes).toEqual(de.geneIndices.map((g) => sim.geneNames[g]));
    // disease 0 is unshifted; disease 1 moves every DE gene by ±1.5
    expect(Array.from(de.effect.subarray(0, 10))).toEqual(new Array(10).fill(0));
    expect(Array.from(de.effect.subarray(10), Math.abs)).toEqual(new Array(10).fill(1.5));
    const rates = sim.batchFreeRates!;
    expect(rates).toHaveLength(sim.nCells * G);
    for (const i of [0, 17, 899]) expect(rates.subarray(i * G, (i + 1) * G).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('batch-free rates differ between disease states only at the planted DE genes, and not between batches', () => {
    const rates = sim.batchFreeRates!;
    const de = sim.de!;
    const d1 = meanLog(rates, (i) => sim.obs.disease[i] === 'disease_1');
    const d0 = meanLog(rates, (i) => sim.obs.disease[i] === 'disease_0');
    const lfc = d1.map((v, g) => v - d0[g]!);
    de.geneIndices.forEach((g, k) => expect(Math.abs(lfc[g]! - de.effect[10 + k]!)).toBeLessThan(0.35));
    const others = Array.from(lfc).filter((_, g) => !de.geneIndices.includes(g));
    expect(Math.max(...others.map(Math.abs))).toBeLessThan(0.35);
    // the batch-only genes: no batch difference in the batch-free rates, the planted one in the counts
    const b0 = meanLog(rates, (i) => sim.obs.batch[i] === 'batch_0');
    const b1 = meanLog(rates, (i) => sim.obs.batch[i] === 'batch_1');
    const bg = sim.batchGenes!;
    for (const g of bg.geneIndices) expect(Math.abs(b1[g]! - b0[g]!)).toBeLessThan(0.35);
    const dense = csrToDense(sim.counts as CsrMatrix).data;
    const norm = new Float32Array(dense.length);
    for (let i = 0; i < sim.nCells; i++) {
      let t = 0;
      for (let g = 0; g < G; g++) t += dense[i * G + g]!;
      for (let g = 0; g < G; g++) norm[i * G + g] = dense[i * G + g]! / t;
    }
    const c0 = meanLog(norm, (i) => sim.obs.batch[i] === 'batch_0', 1e-3);
    const c1 = meanLog(norm, (i) => sim.obs.batch[i] === 'batch_1', 1e-3);
    const observed = bg.geneIndices.map((g) => c1[g]! - c0[g]!);
    const planted = bg.geneIndices.map((_, k) => bg.effect[15 + k]! - bg.effect[k]!);
    expect(pearson(observed, planted)).toBeGreaterThan(0.8);
  });

  it('rejects planted sets that do not fit and a non-boolean returnRates', () => {
    expect(() => simulate({ ...base, nDeGenes: 100, nBatchGenes: 30 })).toThrow(/need 130 genes; there are 120/);
    expect(() => simulate({ ...base, returnRates: 'yes' as unknown as boolean })).toThrow(InvalidOptionError);
  });
});
