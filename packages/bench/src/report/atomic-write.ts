/**
 * Atomic output of this package: a temporary file or folder beside the destination (same folder, so
 * the rename is atomic), renamed into place; on failure the temporary path is removed and the
 * destination is left as it was. The temporary name follows the pattern of `@invae/io-anndata`'s
 * and the `invae` CLI's atomic writes (`.<name>.<pid>.<hex>.tmp`), so their clean-up of files left by
 * a crashed run recognises these too.
 */
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** A temporary path beside `dest`, named for it and for this process. */
export function tempPathBeside(dest: string): string {
  const abs = path.resolve(dest);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Writes text or bytes to `file` atomically (temporary file beside it, then rename). */
export async function writeFileAtomically(file: string, content: string | Uint8Array): Promise<void> {
  const tmp = tempPathBeside(file);
  try {
    await fsp.writeFile(tmp, content);
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/**
 * Writes the files of a folder: all of them into a temporary folder beside `dest` first (a failure
 * leaves nothing), then the folder is renamed into place; an existing folder gets each file renamed
 * into it, so other files in it stay.
 */
export async function writeFolderAtomically(dest: string, files: ReadonlyMap<string, string | Uint8Array>): Promise<void> {
  const tmp = tempPathBeside(dest);
  try {
    await fsp.mkdir(tmp);
    for (const [name, content] of files) await fsp.writeFile(path.join(tmp, name), content);
    if (existsSync(dest)) {
      for (const name of files.keys()) await fsp.rename(path.join(tmp, name), path.join(dest, name));
      await fsp.rm(tmp, { recursive: true, force: true });
    } else await fsp.rename(tmp, dest);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
}
