/** `dict` 0.1.0: groups of named elements (uns, obsm, layers…); writing a value picks its encoding here. */
import type { Dataset, Group } from '../h5';
import { getEntity, isDataset, isGroup } from '../h5';
import type { Frame, Matrix, NumericArray, UnsValue } from '../anndata';
import { isFrame, isMatrix } from '../anndata';
import { asGroup } from './element';
import { cscMatrix } from './csc-matrix';
import { csrMatrix } from './csr-matrix';
import { dataframe } from './dataframe';
import { denseArray } from './dense-array';
import { numericScalar } from './numeric-scalar';
import { stringScalar } from './string';
import { stringArray } from './string-array';
import { childPath, defineEncoding, SKIPPED, writeElement, writeFail, type ReadContext, type WriteContext } from './registry';

/** Reads the children of a group into a plain object, dropping skipped ones. */
export function readDict(elem: Dataset | Group, ctx: ReadContext): Record<string, unknown> {
  const g = asGroup(elem, ctx, 'dict');
  const out: Record<string, unknown> = {};
  for (const key of g.keys()) {
    const child = getEntity(g, key, ctx.file);
    if (!isDataset(child) && !isGroup(child)) {
      ctx.warn(`${g.path}/${key}`, 'skipped element that is neither a group nor a dataset (link or datatype)');
      continue;
    }
    const v = ctx.read(child);
    if (v !== SKIPPED) out[key] = v;
  }
  return out;
}

function isTyped(v: unknown): v is NumericArray | BigInt64Array {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

/** A dense or sparse matrix, by its kind. */
export function writeMatrix(g: Group, name: string, m: Matrix, ctx: WriteContext): void {
  if (m.kind === 'dense') writeElement(g, name, denseArray, m, ctx);
  else if (m.kind === 'csr') writeElement(g, name, csrMatrix, m, ctx);
  else writeElement(g, name, cscMatrix, m, ctx);
}

/**
 * Writes any uns/obsm value in the encoding its type calls for: string → `string`, number/bigint/boolean →
 * `numeric-scalar`, typed array → `array`, string[] → `string-array`, boolean[] → `array` (uint8), (number|null)[]
 * → `array` (float64, NaN for null), matrices → `array`/`csr_matrix`/`csc_matrix`, Frame → `dataframe`, object → `dict`.
 */
export function writeValue(g: Group, name: string, v: UnsValue | Matrix | Frame | undefined, ctx: WriteContext): void {
  const el = childPath(g, name);
  if (v === null || v === undefined) writeFail(ctx, el, 'cannot write null/undefined (anndata has no encoding for None)');
  if (typeof v === 'string') writeElement(g, name, stringScalar, v, ctx);
  else if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') writeElement(g, name, numericScalar, v, ctx);
  else if (isTyped(v)) writeElement(g, name, denseArray, v, ctx);
  else if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) writeElement(g, name, stringArray, v, ctx);
    else if (v.every((x) => typeof x === 'boolean')) writeElement(g, name, denseArray, Uint8Array.from(v as boolean[], (x) => (x ? 1 : 0)), ctx);
    else if (v.every((x) => typeof x === 'number' || x === null)) {
      writeElement(g, name, denseArray, Float64Array.from(v as (number | null)[], (x) => (x === null ? NaN : x)), ctx);
    } else writeFail(ctx, el, 'mixed-type arrays cannot be written; use strings or numbers');
  } else if (isMatrix(v)) writeMatrix(g, name, v, ctx);
  else if (isFrame(v)) writeElement(g, name, dataframe, v, ctx);
  else if (typeof v === 'object') writeElement(g, name, dict, v as Record<string, UnsValue>, ctx);
  else writeFail(ctx, el, `unsupported value of type ${typeof v}`);
}

/** The `dict` encoding: each entry is written by {@link writeValue}. */
export const dict = defineEncoding<Record<string, UnsValue | Matrix | Frame>>({
  type: 'dict',
  version: '0.1.0',
  read: readDict,
  write: {
    create: (g, name) => g.create_group(name),
    fill(elem, d, ctx) {
      for (const [k, v] of Object.entries(d)) writeValue(elem as Group, k, v, ctx);
    },
  },
});
