import { Rng, countShape, deriveSeed, sampleWithoutReplacement, type CountMatrix, type WarnFn } from '@invae/core';
import { GeneProgramError } from './errors';
import { checkGeneSets, type GeneSets } from './gene-sets';

/** What scoring reads: counts (cells × genes) and the gene (var) names. */
export interface ExpressionData {
  /** Counts or values, cells × genes (dense or CSR). */
  counts: CountMatrix;
  /** Var names, one per column. */
  geneNames: readonly string[];
}

/** How expression is transformed before scoring. */
export type ScoreNormalization = 'log1p-cp10k' | 'none';

/** Options of {@link GeneProgramScorer.fit}. */
export interface GeneProgramScorerOptions {
  /** Expression bins for matching control genes (scanpy `n_bins`, default 25). */
  nBins?: number;
  /** Control genes drawn per bin (scanpy `ctrl_size`, default 50). */
  ctrlSize?: number;
  /**
   * Whether a program's own genes may be drawn as controls before being removed (scanpy's
   * `ctrl_as_ref=True`); default false (they are excluded before drawing, scanpy 2.0's default).
   */
  ctrlAsRef?: boolean;
  /** Seed of the control-gene draws (default 0). */
  seed?: number;
  /**
   * `log1p-cp10k` (default; for raw counts): log1p(x / cell total × targetSum), as
   * `sc.pp.normalize_total` + `sc.pp.log1p`; `none`: the values are already log-normalised.
   */
  normalize?: ScoreNormalization;
  /** Counts per cell after normalisation (default 1e4). */
  targetSum?: number;
  /** Prefix of the score columns (default `program:`): program `P` is scored into `program:P`. */
  prefix?: string;
  /** Receives the report of unmatched genes (default console.warn). */
  warn?: WarnFn;
}

/** One fitted program. */
export interface FittedProgram {
  /** Program name. */
  name: string;
  /** Its genes found among the var names (scored). */
  genes: string[];
  /** Its genes NOT found among the var names (ignored). */
  unmatched: string[];
  /** The control genes drawn from matched expression bins. */
  controls: string[];
}

/** Saved state of a {@link GeneProgramScorer} (JSON). */
export interface GeneProgramScorerState {
  format: 'invae-gene-programs';
  version: 1;
  normalize: ScoreNormalization;
  targetSum: number;
  prefix: string;
  nBins: number;
  ctrlSize: number;
  ctrlAsRef: boolean;
  seed: number;
  programs: FittedProgram[];
}

/** numpy's round (half to even). */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Calls `fn(row, col, value)` for every stored value (all values of a dense matrix). */
function forEachValue(m: CountMatrix, fn: (row: number, col: number, v: number) => void): void {
  const [nRows, nCols] = countShape(m);
  if (m.kind === 'csr') {
    for (let r = 0; r < nRows; r++) for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) fn(r, m.indices[p]!, m.data[p]!);
  } else {
    for (let r = 0; r < nRows; r++) for (let c = 0; c < nCols; c++) fn(r, c, m.data[r * nCols + c]!);
  }
}

/** Per-cell transform of one value (log1p-cp10k needs the cell totals). */
function transformer(m: CountMatrix, normalize: ScoreNormalization, targetSum: number): (row: number, v: number) => number {
  if (normalize === 'none') return (_r, v) => v;
  const totals = new Float64Array(countShape(m)[0]);
  forEachValue(m, (r, _c, v) => {
    totals[r]! += v;
  });
  return (r, v) => (totals[r]! > 0 ? Math.log1p((v / totals[r]!) * targetSum) : 0);
}

/**
 * Per-cell gene-program activity, computed as scanpy's `sc.tl.score_genes` (Tirosh et al. 2016,
 * Seurat's AddModuleScore): the mean (log-normalised) expression of the program's genes minus the
 * mean expression of control genes drawn at random from the same expression bins.
 *
 * Fitting (on the training data): genes are matched by var name (unmatched ones are reported and
 * ignored; a program with no match is an error); every gene's mean expression over cells is
 * ranked (ties share the lowest rank) and cut into bins of round(n_genes / (nBins − 1)) ranks; for
 * every bin holding a program gene, up to `ctrlSize` genes of that bin (not of the program) are
 * drawn as controls. The fitted program and control genes are saved, so that any later dataset is
 * scored against the SAME genes (scanpy would redraw the controls on every call).
 */
export class GeneProgramScorer {
  private constructor(private readonly state: GeneProgramScorerState) {}

  /**
   * Matches the programs to the data's genes and draws their control genes.
   * @throws GeneSetFormatError for a malformed map; GeneProgramError when a program has no gene in
   * the data or no control genes can be found.
   */
  static fit(data: ExpressionData, geneSets: GeneSets, options: GeneProgramScorerOptions = {}): GeneProgramScorer {
    const sets = checkGeneSets(geneSets);
    const nBins = options.nBins ?? 25;
    const ctrlSize = options.ctrlSize ?? 50;
    const seed = options.seed ?? 0;
    const normalize = options.normalize ?? 'log1p-cp10k';
    const targetSum = options.targetSum ?? 1e4;
    const prefix = options.prefix ?? 'program:';
    const warn = options.warn ?? ((msg: string) => console.warn(`invae: warning: ${msg}`));
    if (!Number.isInteger(nBins) || nBins < 2) throw new GeneProgramError(`nBins must be an integer ≥ 2, got ${nBins}.`, { code: 'GENE_PROGRAM_OPTION' });
    if (!Number.isInteger(ctrlSize) || ctrlSize < 1) throw new GeneProgramError(`ctrlSize must be an integer ≥ 1, got ${ctrlSize}.`, { code: 'GENE_PROGRAM_OPTION' });
    if (normalize !== 'log1p-cp10k' && normalize !== 'none') throw new GeneProgramError(`normalize must be 'log1p-cp10k' or 'none', got ${JSON.stringify(normalize)}.`, { code: 'GENE_PROGRAM_OPTION' });
    if (!(targetSum > 0) || !Number.isFinite(targetSum)) throw new GeneProgramError(`targetSum must be a positive number, got ${targetSum}.`, { code: 'GENE_PROGRAM_OPTION' });
    const m = data.counts;
    const [nRows, nCols] = countShape(m);
    if (data.geneNames.length !== nCols) throw new GeneProgramError(`${data.geneNames.length} gene names for ${nCols} columns.`);
    if (nRows === 0) throw new GeneProgramError('cannot fit gene programs on a dataset without cells.');
    const index = new Map<string, number>();
    data.geneNames.forEach((g, i) => {
      if (!index.has(g)) index.set(g, i);
    });

    // mean (transformed) expression of every gene over the cells
    const f = transformer(m, normalize, targetSum);
    const means = new Float64Array(nCols);
    forEachValue(m, (r, c, v) => {
      means[c]! += f(r, v);
    });
    for (let c = 0; c < nCols; c++) means[c]! /= nRows;
    // rank with ties at the lowest rank (pandas rank(method='min'), 1-based), then cut
    const order = Array.from({ length: nCols }, (_, i) => i).sort((a, b) => means[a]! - means[b]! || a - b);
    const cut = new Int32Array(nCols);
    const nItems = Math.max(1, roundHalfEven(nCols / (nBins - 1)));
    let rank = 0;
    order.forEach((g, pos) => {
      if (pos === 0 || means[g] !== means[order[pos - 1]!]) rank = pos + 1;
      cut[g] = Math.floor(rank / nItems);
    });

    const programs: FittedProgram[] = [];
    Object.entries(sets).forEach(([name, genes], pi) => {
      const matched = genes.filter((g) => index.has(g));
      const unmatched = genes.filter((g) => !index.has(g));
      if (matched.length === 0) {
        throw new GeneProgramError(`gene program '${name}': none of its ${genes.length} genes is among the var names (e.g. ${genes.slice(0, 3).join(', ')}).`, {
          program: name,
          hint: 'check that the gene identifiers (symbols vs Ensembl IDs) match the var names',
        });
      }
      if (unmatched.length) warn(`gene program '${name}': ${unmatched.length} of ${genes.length} genes are not among the var names and are ignored (${unmatched.slice(0, 5).join(', ')}${unmatched.length > 5 ? ', …' : ''}).`);
      const inProgram = new Set(matched.map((g) => index.get(g)!));
      const cuts = [...new Set([...inProgram].map((g) => cut[g]!))].sort((a, b) => a - b);
      const controls = new Set<number>();
      cuts.forEach((k, ki) => {
        let candidates: number[] = [];
        for (let g = 0; g < nCols; g++) if (cut[g] === k && (options.ctrlAsRef || !inProgram.has(g))) candidates.push(g);
        if (ctrlSize < candidates.length) {
          const rng = new Rng(deriveSeed(seed, pi, ki));
          candidates = Array.from(sampleWithoutReplacement(rng, candidates.length, ctrlSize), (i) => candidates[i]!);
        }
        for (const g of candidates) if (!inProgram.has(g)) controls.add(g);
      });
      if (controls.size === 0) {
        throw new GeneProgramError(`gene program '${name}': no control genes found in its expression bins.`, { program: name, hint: 'use more genes, fewer bins (nBins), or ctrlAsRef: false' });
      }
      programs.push({
        name,
        genes: matched,
        unmatched,
        controls: [...controls].sort((a, b) => a - b).map((g) => data.geneNames[g]!),
      });
    });
    return new GeneProgramScorer({ format: 'invae-gene-programs', version: 1, normalize, targetSum, prefix, nBins, ctrlSize, ctrlAsRef: options.ctrlAsRef ?? false, seed, programs });
  }

  /** Rebuilds a scorer from {@link GeneProgramScorer.toJSON} output (e.g. the `gene-program` prior's options). */
  static fromJSON(state: GeneProgramScorerState): GeneProgramScorer {
    const strs = (x: unknown) => Array.isArray(x) && x.every((g) => typeof g === 'string');
    const ok =
      state?.format === 'invae-gene-programs' &&
      state.version === 1 &&
      (state.normalize === 'log1p-cp10k' || state.normalize === 'none') &&
      state.targetSum > 0 &&
      typeof state.prefix === 'string' &&
      Array.isArray(state.programs) &&
      state.programs.length > 0 &&
      state.programs.every((p) => typeof p?.name === 'string' && strs(p.genes) && p.genes.length > 0 && strs(p.controls) && p.controls.length > 0 && strs(p.unmatched)) &&
      new Set(state.programs.map((p) => p.name)).size === state.programs.length;
    if (!ok) throw new GeneProgramError('not a saved gene-program scorer (format invae-gene-programs, version 1).', { code: 'GENE_PROGRAM_STATE_INVALID' });
    return new GeneProgramScorer(JSON.parse(JSON.stringify(state)) as GeneProgramScorerState);
  }

  /** The fitted programs (matched, unmatched and control genes). */
  get programs(): readonly FittedProgram[] {
    return this.state.programs;
  }

  /** Names of the score columns, in program order (`<prefix><program>`). */
  get columnNames(): string[] {
    return this.state.programs.map((p) => `${this.state.prefix}${p.name}`);
  }

  /**
   * Per-cell scores of every program on `data` (matched by var name), as columns named
   * {@link columnNames}.
   * @throws GeneProgramError naming the program and genes missing from `data`.
   */
  scores(data: ExpressionData): Record<string, Float32Array> {
    const m = data.counts;
    const [nRows, nCols] = countShape(m);
    if (data.geneNames.length !== nCols) throw new GeneProgramError(`${data.geneNames.length} gene names for ${nCols} columns.`);
    const index = new Map<string, number>();
    data.geneNames.forEach((g, i) => {
      if (!index.has(g)) index.set(g, i);
    });
    // weights[gene] = list of (program, weight): +1/|genes| for program genes, −1/|controls| for controls
    const weights = new Map<number, { p: number; w: number }[]>();
    const add = (g: number, p: number, w: number) => {
      const list = weights.get(g);
      if (list) list.push({ p, w });
      else weights.set(g, [{ p, w }]);
    };
    this.state.programs.forEach((prog, p) => {
      const missing = [...prog.genes, ...prog.controls].filter((g) => !index.has(g));
      if (missing.length) {
        throw new GeneProgramError(`gene program '${prog.name}': ${missing.length} of its scored or control genes are missing from the data (${missing.slice(0, 5).join(', ')}).`, {
          program: prog.name,
          code: 'GENE_PROGRAM_GENES_MISSING',
          hint: 'score data with the genes the programs were fitted on',
        });
      }
      for (const g of prog.genes) add(index.get(g)!, p, 1 / prog.genes.length);
      for (const g of prog.controls) add(index.get(g)!, p, -1 / prog.controls.length);
    });
    const nP = this.state.programs.length;
    const acc = new Float64Array(nRows * nP);
    const f = transformer(m, this.state.normalize, this.state.targetSum);
    forEachValue(m, (r, c, v) => {
      const list = weights.get(c);
      if (!list || v === 0) return;
      const x = f(r, v);
      for (const { p, w } of list) acc[r * nP + p]! += w * x;
    });
    const out: Record<string, Float32Array> = {};
    this.columnNames.forEach((name, p) => {
      const col = new Float32Array(nRows);
      for (let r = 0; r < nRows; r++) col[r] = acc[r * nP + p]!;
      out[name] = col;
    });
    return out;
  }

  /** A shallow copy of `data` whose `obs` also holds the score columns (`data` is not modified). */
  withScores<D extends ExpressionData & { obs: Readonly<Record<string, unknown>> }>(data: D): D {
    return { ...data, obs: { ...data.obs, ...this.scores(data) } };
  }

  /** JSON-serialisable state (programs, control genes, normalisation). */
  toJSON(): GeneProgramScorerState {
    return JSON.parse(JSON.stringify(this.state)) as GeneProgramScorerState;
  }
}
