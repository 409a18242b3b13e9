/** File-system failures as clear errors that name the user's path (never a temporary file) with a hint. */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { InvaeError, InvalidOptionError } from '@invae/core';
import { outputOfTempPath } from './temp-files';

/** Why an errno code failed, in words, and what to do about it on an output. */
const OUTPUT_REASONS: Record<string, [reason: string, hint: string]> = {
  ENOSPC: ['no space left on the device', 'free some disk space, or choose --out on another disk'],
  EDQUOT: ['the disk quota is exceeded', 'free some space, or choose --out on another disk'],
  EACCES: ['permission denied', 'choose --out in a folder you can write to'],
  EPERM: ['operation not permitted', 'choose --out in a folder you can write to'],
  EROFS: ['the file system is read-only', 'choose --out on a writable disk'],
  ENOENT: ['its folder does not exist', 'create the folder first, or choose another --out'],
  ENOTDIR: ['a part of its path is a file, not a folder', 'check the path given to --out'],
  EISDIR: ['it is a folder', 'give a file name to --out, not a folder'],
  EEXIST: ['it appeared while invae was writing it', 'run again with another --out, or pass --overwrite'],
  EMFILE: ['too many open files', 'close other programs, or raise the open-file limit (ulimit -n)'],
  EIO: ['an input/output error of the device', 'check the disk, or choose --out on another disk'],
};

/** Writing an output failed; nothing was left at the output path. */
export class OutputWriteError extends InvaeError {
  /** The output the user asked for. */
  readonly file: string;
  constructor(file: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const known = code ? OUTPUT_REASONS[code] : undefined;
    const reason = known?.[0] ?? (cause instanceof Error ? (cause.message.split('\n')[0] ?? String(cause)) : String(cause));
    super('OUTPUT_WRITE', `cannot write ${file}: ${reason}${code && known ? ` (${code})` : ''}; nothing was written.`, {
      hint: known?.[1] ?? 'run with --debug for the details',
      cause,
    });
    this.file = file;
  }
}

/** Errors invae raises on purpose (they carry a code and name the user's paths already) pass through. */
function isReported(e: unknown): boolean {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && !('syscall' in e) && !('errno' in e);
}

/** Rethrows a failure of writing `file` as an {@link OutputWriteError}, unless invae raised it on purpose. */
export function asOutputError(file: string, e: unknown): unknown {
  return isReported(e) ? e : new OutputWriteError(file, e);
}

/**
 * Checks that `file` is an existing regular file (not a folder) before anything reads it.
 * @param flag the option or argument that named it, for the message (e.g. `gene-sets`, `file`).
 * @throws InvalidOptionError saying what is wrong and how to fix it.
 */
export async function checkInputFile(file: string, flag: string, what = 'file'): Promise<void> {
  const label = flag === 'file' ? '' : `--${flag} `;
  const st = await fsp.stat(file).catch((e: NodeJS.ErrnoException) => e);
  if (st instanceof Error) {
    if (st.code === 'ENOENT' || st.code === 'ENOTDIR') throw new InvalidOptionError(flag, `${label}${file}: no such file.`, { hint: `check the path of the ${what}` });
    if (st.code === 'EACCES' || st.code === 'EPERM') throw new InvalidOptionError(flag, `${label}${file}: permission denied.`, { hint: `make the ${what} readable` });
    throw new InvalidOptionError(flag, `${label}${file}: cannot be read (${st.code ?? st.message}).`);
  }
  if (st.isDirectory()) throw new InvalidOptionError(flag, `${label}${file} is a folder, not ${/^[aeiou.]/i.test(what) ? 'an' : 'a'} ${what}.`, { hint: `give the path of the ${what} inside it` });
}

/**
 * For an unexpected Node.js system error (EISDIR, ENOSPC, …): one message naming the user's path
 * (a temporary file is named by the output it stands for) and a hint; null for any other error.
 */
export function describeSystemError(e: unknown): { message: string; hint: string } | null {
  if (!(e instanceof Error) || !('syscall' in e) || typeof (e as NodeJS.ErrnoException).code !== 'string') return null;
  const err = e as NodeJS.ErrnoException;
  const raw = err.path ?? (err as { dest?: string }).dest;
  const p = raw ? (outputOfTempPath(path.resolve(raw))?.output ?? raw) : null;
  const known = OUTPUT_REASONS[err.code!];
  const where = p ? `${p}: ` : '';
  if (known) return { message: `${where}${known[0]} (${err.code}, ${err.syscall}).`, hint: known[1].replace('--out', 'the path') };
  return { message: `${where}${err.code} (${err.syscall}).`, hint: 'run with --debug for the details' };
}
