/** Attribute access that never lets an h5wasm error escape untyped. */
import type { Dataset, Group } from '../h5';
import { AnnDataFormatError } from '../errors';
import { errText } from '../h5';

/**
 * Attribute names of each element object, listed once: every attribute lookup is a path-based h5wasm call that
 * resolves the element's whole path again, so deep files (e.g. a 300-level uns) pay for each call made per level.
 */
const namesOf = new WeakMap<object, Set<string>>();

function attrNames(elem: Dataset | Group, file: string): Set<string> {
  let names = namesOf.get(elem);
  if (!names) {
    try {
      names = new Set(Object.keys(elem.attrs));
    } catch (e) {
      throw new AnnDataFormatError(`cannot read attributes: ${errText(e)}`, { file, element: elem.path, cause: e });
    }
    namesOf.set(elem, names);
  }
  return names;
}

/** Reads an attribute value (null when absent); bigint scalars become numbers. */
export function readAttr(elem: Dataset | Group, name: string, file: string): unknown {
  if (!attrNames(elem, file).has(name)) return null;
  try {
    // get_attribute reads metadata and data directly (elem.attrs[name].value would also build an Attribute)
    const v = elem.get_attribute(name, false);
    if (typeof v === 'bigint') return Number(v);
    return v;
  } catch (e) {
    throw new AnnDataFormatError(`cannot read attribute "${name}": ${errText(e)}`, { file, element: elem.path, cause: e });
  }
}

/** Whether an attribute exists. */
export function hasAttr(elem: Dataset | Group, name: string): boolean {
  try {
    return attrNames(elem, '').has(name);
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
