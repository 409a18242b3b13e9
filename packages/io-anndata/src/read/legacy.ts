/**
 * Pre-0.7 anndata layouts: obs/var and obsm as compound datasets, category labels in `uns/<col>_categories`.
 * (Sparse `h5sparse_format` groups are handled by the sparse reader; 0.7 reference categoricals by dataframe.ts.)
 */
import type { Dataset } from '../h5';
import { AnnDataFormatError, InconsistentDataError } from '../errors';
import type { DenseMatrix, Frame } from '../anndata';
import { isMatrix } from '../anndata';
import { readCompound } from '../encodings/rec-array';
import { dtypeName, isNumericDtype, typedFromNumbers } from './dataset';
import { buildFrame } from '../encodings/dataframe';
import { decodeCategorical } from '../encodings/categorical';
import { column, type ColumnData } from '../encodings/column';
import type { ReadContext } from '../encodings/registry';

function isNumberArray(v: unknown[]): v is number[] {
  return v.every((x) => typeof x === 'number');
}

/**
 * Reads a compound obs/var dataset. Columns named in `uns` as `<col>_categories` are decoded as categoricals;
 * the consumed uns keys are added to `consumed`.
 */
export function readLegacyFrame(ds: Dataset, uns: Record<string, unknown>, consumed: Set<string>, ctx: ReadContext): Frame {
  const fields = readCompound(ds, ctx);
  const names = Object.keys(fields);
  // numpy dtype of each field: anndata < 0.7 stored bool columns as the HDF5 enum h5py writes for numpy bools
  const members = (ds.metadata.compound_type?.members ?? []) as unknown as (Parameters<typeof dtypeName>[0] & { name: string })[];
  const dtypes = new Map(members.map((m) => [m.name, dtypeName(m)]));
  const indexName = names.includes('index') ? 'index' : names.includes('_index') ? '_index' : names[0];
  if (indexName === undefined) throw new AnnDataFormatError('compound dataframe has no fields', { file: ctx.file, element: ds.path });
  const index = fields[indexName].map((x) => String(x));
  const cols: [string, ColumnData][] = [];
  for (const name of names) {
    if (name === indexName) continue;
    const vals = fields[name];
    const catKey = `${name}_categories`;
    const cats = uns[catKey];
    if (cats !== undefined && isNumberArray(vals)) {
      let list: (string | number)[];
      if (Array.isArray(cats)) list = cats.map((c) => (typeof c === 'number' ? c : String(c)));
      else if (isMatrix(cats) && cats.kind === 'dense') list = Array.from(cats.data as ArrayLike<number>);
      else throw new AnnDataFormatError(`uns/${catKey} is not a list of categories`, { file: ctx.file, element: `/uns/${catKey}` });
      const codes = Float64Array.from(vals);
      cols.push([name, decodeCategorical(codes, list, false, 'int64', ctx.file, `${ds.path}.${name}`)]);
      consumed.add(catKey);
      continue;
    }
    const dtype = dtypes.get(name) ?? 'float64';
    if (dtype === 'bool' && isNumberArray(vals)) cols.push([name, column({ kind: 'bool', dtype: 'bool' }, vals.map((x) => x !== 0))]);
    else if (isNumberArray(vals)) {
      const dt = isNumericDtype(dtype) ? dtype : 'float64';
      cols.push([name, column({ kind: 'numeric', dtype: dt }, typedFromNumbers(dt, vals))]);
    } else if (vals.every((x) => typeof x === 'boolean')) cols.push([name, column({ kind: 'bool', dtype: 'bool' }, vals)]);
    else cols.push([name, column({ kind: 'string', dtype: 'str' }, vals.map((x) => String(x)))]);
  }
  return buildFrame(index, indexName, cols, ctx.file, ds.path);
}

/** Reads a compound obsm/varm dataset: each field (a fixed-size sub-array) becomes a dense n × k matrix. */
export function readLegacyCompoundMapping(ds: Dataset, nRows: number, ctx: ReadContext): Record<string, DenseMatrix> {
  const fields = readCompound(ds, ctx);
  const out: Record<string, DenseMatrix> = {};
  for (const [name, rows] of Object.entries(fields)) {
    if (rows.length !== nRows) {
      throw new InconsistentDataError(`field "${name}" has ${rows.length} rows, expected ${nRows}`, { file: ctx.file, element: ds.path });
    }
    const first = rows[0];
    const k = first === undefined ? 0 : typeof first === 'number' ? 1 : (first as ArrayLike<number>).length;
    const data = new Float64Array(nRows * k);
    rows.forEach((r, i) => {
      if (typeof r === 'number') data[i] = r;
      else {
        const a = r as ArrayLike<number | bigint>;
        for (let j = 0; j < k; j++) data[i * k + j] = Number(a[j]);
      }
    });
    out[name] = { kind: 'dense', shape: [nRows, k], dtype: 'float64', data };
  }
  return out;
}
