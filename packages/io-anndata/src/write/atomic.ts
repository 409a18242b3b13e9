/** Atomic output: write to a temporary file in the destination folder, then rename it into place. */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** A temporary path beside `dest` (same folder, so the final rename is atomic). */
export function tempPathFor(dest: string): string {
  const dir = path.dirname(path.resolve(dest));
  return path.join(dir, `.${path.basename(dest)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Runs `write(tmp)` then renames tmp onto `dest`. On any failure the temporary file is removed and `dest`
 * is left as it was.
 */
export async function writeAtomically(dest: string, write: (tmp: string) => Promise<void> | void): Promise<void> {
  const tmp = tempPathFor(dest);
  try {
    await write(tmp);
    fs.renameSync(tmp, path.resolve(dest));
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* best effort */
    }
    throw e;
  }
}
