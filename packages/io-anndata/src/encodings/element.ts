/** Shape checks shared by the encoding readers: an element must be a dataset, or a group. */
import type { Dataset, Group } from '../h5';
import { AnnDataFormatError, MissingElementError } from '../errors';
import { getEntity, isDataset, isGroup } from '../h5';
import type { ReadContext } from './registry';

/** The element as a dataset, or a typed error naming `what` it should be. */
export function asDataset(elem: Dataset | Group, ctx: ReadContext, what: string): Dataset {
  if (!isDataset(elem)) throw new AnnDataFormatError(`${what} must be a dataset`, { file: ctx.file, element: elem.path });
  return elem;
}

/** The element as a group, or a typed error naming `what` it should be. */
export function asGroup(elem: Dataset | Group, ctx: ReadContext, what: string): Group {
  if (!isGroup(elem)) throw new AnnDataFormatError(`${what} must be a group`, { file: ctx.file, element: elem.path });
  return elem;
}

/** Opens a required child dataset of a group. */
export function childDataset(g: Group, name: string, file: string): Dataset {
  const c = getEntity(g, name, file);
  if (!c) throw new MissingElementError(`missing "${name}"`, { file, element: `${g.path}/${name}` });
  if (!isDataset(c)) throw new AnnDataFormatError(`"${name}" must be a dataset`, { file, element: `${g.path}/${name}` });
  return c;
}
