/** `rec-array` 0.2.0 (numpy record arrays, also the compound datasets of anndata < 0.7): read only. */
import type { Dataset } from '../h5';
import { readRaw } from '../read/dataset';
import { asDataset } from './element';
import { defineEncoding, type ReadContext } from './registry';

/** Reads a compound dataset column-wise: field name → array of values (bigint scalars become numbers). */
export function readCompound(ds: Dataset, ctx: ReadContext): Record<string, unknown[]> {
  const members = (ds.metadata.compound_type?.members ?? []) as { name: string }[];
  const rows = readRaw(ds, ctx.file);
  const out: Record<string, unknown[]> = {};
  for (const m of members) out[m.name] = [];
  const list = Array.isArray(rows) ? rows : [];
  for (const row of list) {
    const r = row as unknown[];
    members.forEach((m, i) => out[m.name].push(typeof r[i] === 'bigint' ? Number(r[i]) : r[i]));
  }
  return out;
}

/** The `rec-array` encoding. */
export const recArray = defineEncoding({
  type: 'rec-array',
  version: '0.2.0',
  read: (elem, ctx) => readCompound(asDataset(elem, ctx, 'rec-array'), ctx),
  readOnly: 'a record array is read as a dict of field → values, which is written back as a `dict` of arrays',
});
