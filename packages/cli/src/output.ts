import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { InvalidOptionError } from '@invae/core';

/** Refuses an output path that is the input (inputs are never modified) or exists without --overwrite. */
export async function checkOutput(out: string, input: string, overwrite: boolean | undefined): Promise<void> {
  if (path.resolve(out) === path.resolve(input)) {
    throw new InvalidOptionError('out', `--out ${out} is the input file; invae never modifies its inputs.`, { hint: 'write to a new file' });
  }
  const exists = await fsp.stat(out).then(
    () => true,
    () => false,
  );
  if (exists && !overwrite) throw new InvalidOptionError('out', `${out} already exists.`, { hint: 'choose another --out, or pass --overwrite' });
}

/** Writes text to `file` atomically (temporary file in the same folder, then rename). */
export async function writeTextAtomically(file: string, text: string): Promise<void> {
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await fsp.writeFile(tmp, text);
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/** Copies `input` to `out` through a temporary file in the output folder, runs `edit` on the copy, then renames it into place. */
export async function editCopy(input: string, out: string, edit: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = path.join(path.dirname(path.resolve(out)), `.${path.basename(out)}.${randomBytes(6).toString('hex')}.tmp.h5ad`);
  try {
    await fsp.copyFile(input, tmp);
    await edit(tmp);
    await fsp.rename(tmp, out);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}
