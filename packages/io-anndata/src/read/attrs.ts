/** Attribute access that never lets an h5wasm error escape untyped. */
import type { Dataset, Group } from '../h5';
import { AnnDataFormatError } from '../errors';
import { errText } from '../h5';

/** Reads an attribute value (null when absent); bigint scalars become numbers. */
export function readAttr(elem: Dataset | Group, name: string, file: string): unknown {
  let attrs: Record<string, { value: unknown }>;
  try {
    attrs = elem.attrs as unknown as Record<string, { value: unknown }>;
  } catch (e) {
    throw new AnnDataFormatError(`cannot read attributes: ${errText(e)}`, { file, element: elem.path, cause: e });
  }
  if (!(name in attrs)) return null;
  try {
    const v = attrs[name].value;
    if (typeof v === 'bigint') return Number(v);
    return v;
  } catch (e) {
    throw new AnnDataFormatError(`cannot read attribute "${name}": ${errText(e)}`, { file, element: elem.path, cause: e });
  }
}

/** Whether an attribute exists. */
export function hasAttr(elem: Dataset | Group, name: string): boolean {
  try {
    return name in elem.attrs;
  } catch {
    return false;
  }
}

/** Reads a string-array attribute (e.g. column-order); an empty numeric array gives []. */
export function readStringListAttr(elem: Dataset | Group, name: string, file: string): string[] | null {
  const v = readAttr(elem, name, file);
  if (v === null) return null;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.map((x) => String(x));
  if (ArrayBuffer.isView(v) && (v as unknown as ArrayLike<unknown>).length === 0) return [];
  throw new AnnDataFormatError(`attribute "${name}" must be a list of strings`, { file, element: elem.path });
}

/** Reads an int/float array attribute as numbers (e.g. shape). */
export function readNumberListAttr(elem: Dataset | Group, name: string, file: string): number[] | null {
  const v = readAttr(elem, name, file);
  if (v === null) return null;
  if (typeof v === 'number') return [v];
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return Array.from(v as ArrayLike<number | bigint>, (x) => Number(x));
  throw new AnnDataFormatError(`attribute "${name}" must be a list of numbers`, { file, element: elem.path });
}
