/** Atomic output: write to a temporary file in the destination folder, then rename it into place. */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '@invae/common';
import { AnnDataWriteError } from '../errors';
import { errText } from '../h5';

/**
 * Runs `write(tmp)` on a temporary path beside `dest` (@invae/common's atomic output), then renames it onto
 * `dest`. On any failure the temporary file is removed, `dest` is left as it was, and the error names `dest`.
 */
export async function writeAtomically(dest: string, write: (tmp: string) => Promise<void> | void): Promise<void> {
  let tmp = '';
  const track = (t: string) => {
    tmp = t;
    return () => undefined;
  };
  await writeFileAtomic(dest, write, { track }).catch((e: unknown) => {
    throw namingDest(e, tmp, dest);
  });
}

/** Whether the destination's file system has (almost) no space left (when the error itself does not say). */
function diskFull(dest: string): boolean {
  try {
    const st = fs.statfsSync(path.dirname(path.resolve(dest)));
    return st.bavail * st.bsize < 1024 * 1024;
  } catch {
    return false;
  }
}

/**
 * The error of a failed write as the user should see it: about their output file (the temporary file's name is
 * an internal detail), with a hint for a full disk. Anything not yet an AnnDataWriteError becomes one.
 */
function namingDest(e: unknown, tmp: string, dest: string): unknown {
  const raw = errText(e);
  const msg = raw.split(tmp).join(dest).split(path.basename(tmp)).join(path.basename(dest));
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const full = code === 'ENOSPC' || /No space left on device|ENOSPC/.test(raw) || diskFull(dest);
  const prev = e instanceof AnnDataWriteError ? e : null;
  if (prev && msg === raw && !full) return e;
  const element = prev?.element;
  const own = prev ? msg.replace(/ \([^()]*\)$/, '') : msg;
  return new AnnDataWriteError(prev ? own : `cannot write ${dest}: ${own}`, {
    file: dest,
    element,
    hint: full ? `the disk is full: free space in ${path.dirname(path.resolve(dest))} or write elsewhere` : prev?.hint,
    cause: e,
  });
}
