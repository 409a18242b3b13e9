/** A compact description of an .h5ad file (used by `invae info FILE.h5ad`), read without loading X. */
import { openH5ad, type MatrixInfo } from './backed';
import type { ColumnInfo, Frame } from './anndata';
import { openHdf5, getEntity, isDataset, isGroup } from './h5';
import { safeClose } from './h5';
import { readAttr } from './read/attrs';

/** One obs/var column in a summary. */
export interface ColumnSummary {
  name: string;
  kind: ColumnInfo['kind'];
  dtype?: string;
  categories?: (string | number)[];
  ordered?: boolean;
}

/** Summary of an .h5ad file. */
export interface H5adSummary {
  file: string;
  nObs: number;
  nVars: number;
  /** X storage (null when absent). */
  X: MatrixInfo | null;
  layers: Record<string, MatrixInfo>;
  obs: ColumnSummary[];
  var: ColumnSummary[];
  obsm: Record<string, number[]>;
  unsKeys: string[];
  /** The on-disk format generation and, where it can be told, the anndata versions that write it. */
  writtenBy: string;
}

function columns(f: Frame): ColumnSummary[] {
  return Object.entries(f.columns).map(([name, c]) => ({ name, ...c }));
}

/** Detects the anndata generation from the layout of the root group. */
async function detectWriter(file: string): Promise<string> {
  const h5 = await openHdf5(file);
  try {
    const t = readAttr(h5, 'encoding-type', file);
    const v = readAttr(h5, 'encoding-version', file);
    if (t === 'anndata') return `anndata >= 0.8 (root encoding ${t} ${v})`;
    const obs = getEntity(h5, 'obs', file);
    if (obs && isDataset(obs)) return 'anndata < 0.7 (compound obs/var)';
    if (obs && isGroup(obs)) return 'anndata 0.7 (no root encoding attributes)';
    return 'unknown';
  } finally {
    safeClose(h5);
  }
}

/** Summarises an .h5ad file: shape, X/layers storage, obs/var columns, obsm shapes, uns keys, writer. */
export async function summarizeH5ad(file: string): Promise<H5adSummary> {
  const writtenBy = await detectWriter(file);
  const b = await openH5ad(file, { onWarning: () => {} });
  try {
    const layers: Record<string, MatrixInfo> = {};
    for (const l of b.layerNames()) layers[l] = b.matrixInfo(l);
    return {
      file,
      nObs: b.nObs,
      nVars: b.nVars,
      X: b.hasX() ? b.matrixInfo('X') : null,
      layers,
      obs: columns(b.obs),
      var: columns(b.var),
      obsm: b.obsmShapes(),
      unsKeys: b.unsKeys().sort(),
      writtenBy,
    };
  } finally {
    b.close();
  }
}

function describeMatrix(m: MatrixInfo): string {
  const nnz = m.nnz !== undefined ? `, nnz ${m.nnz}` : '';
  const f = m.filters.length ? `, ${m.filters.join('+')}` : '';
  return `${m.kind} ${m.dtype} ${m.shape.join(' × ')}${nnz}${f}`;
}

function describeColumn(c: ColumnSummary): string {
  if (c.kind === 'categorical') {
    const cats = c.categories ?? [];
    const shown = cats.slice(0, 8).map(String).join(', ') + (cats.length > 8 ? `, … (${cats.length})` : '');
    return `    ${c.name}: categorical${c.ordered ? ' (ordered)' : ''} [${shown}]`;
  }
  return `    ${c.name}: ${c.kind}${c.dtype ? ` ${c.dtype}` : ''}`;
}

/** Human-readable multi-line rendering of a summary. */
export function formatSummary(s: H5adSummary): string {
  const lines = [`${s.file}`, `  AnnData ${s.nObs} obs × ${s.nVars} vars (written by ${s.writtenBy})`];
  lines.push(`  X: ${s.X ? describeMatrix(s.X) : 'none'}`);
  const layerNames = Object.keys(s.layers);
  lines.push(`  layers: ${layerNames.length ? '' : 'none'}`);
  for (const l of layerNames) lines.push(`    ${l}: ${describeMatrix(s.layers[l])}`);
  lines.push(`  obs columns: ${s.obs.length ? '' : 'none'}`);
  for (const c of s.obs) lines.push(describeColumn(c));
  lines.push(`  var columns: ${s.var.length ? '' : 'none'}`);
  for (const c of s.var) lines.push(describeColumn(c));
  const obsm = Object.entries(s.obsm);
  lines.push(`  obsm: ${obsm.length ? obsm.map(([k, v]) => `${k} (${v.join(' × ')})`).join(', ') : 'none'}`);
  lines.push(`  uns: ${s.unsKeys.length ? s.unsKeys.join(', ') : 'none'}`);
  return lines.map((l) => l.replace(/: $/, ':')).join('\n');
}
