// Atomic output: everything is written under a temporary name beside its destination (same folder, so the
// final rename stays on one file system and is atomic), then renamed into place. A failure leaves the
// destination as it was and removes the temporary file or folder. Callers wrap the error in their own
// typed error; this module only guarantees that nothing half-written is ever visible.
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';

/** Options of {@link writeFileAtomic} and {@link writeFolderAtomic}. */
export interface AtomicOutputOptions {
  /**
   * Called with the temporary path before anything is written; the function it returns is called once the
   * temporary path is gone (renamed or removed). Lets a CLI remove temporary paths on SIGINT/SIGTERM.
   */
  track?: (tmp: string) => () => void;
  /** Suffix of the temporary path (some writers infer the format from the extension, e.g. `.png`). */
  ext?: string;
}

/**
 * `.<name>.<pid>.<hex>.tmp[.<ext>]`: the one name pattern of every invae temporary file and folder, so a
 * later run can recognise (and clean up) what an interrupted one left, whichever package wrote it.
 */
const TEMP_NAME = /^\.(.+)\.(\d+)\.([0-9a-f]{6,})\.tmp(\.[A-Za-z0-9]+)?$/;

/** A fresh temporary path beside `dest` (same folder, so the final rename is atomic), named for `dest` and this process. */
export function tempPathBeside(dest: string, ext = ''): string {
  const abs = path.resolve(dest);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp${ext}`);
}

/**
 * Where {@link writeFolderAtomic} moves an existing folder aside while the new one takes its place:
 * `<dest>.<hex>.old`, visible and not in the temporary-name pattern, because after a crash between the two
 * renames it holds the last complete output (a clean-up of temporary files must never remove it).
 */
export function asidePathOf(dest: string): string {
  return `${path.resolve(dest)}.${randomBytes(6).toString('hex')}.old`;
}

/** The output a moved-aside folder (see {@link asidePathOf}) belongs to, or null when `p` is not one. */
export function outputOfAsidePath(p: string): string | null {
  const m = /^(.+)\.[0-9a-f]{12}\.old$/.exec(path.basename(p));
  return m ? path.join(path.dirname(p), m[1]!) : null;
}

/** The output a temporary path stands for (`dir/.name.pid.hex.tmp` → `dir/name`) and its writer's pid, or null when it is not one. */
export function outputOfTempPath(p: string): { output: string; pid: number } | null {
  const m = TEMP_NAME.exec(path.basename(p));
  return m ? { output: path.join(path.dirname(p), m[1]!), pid: Number(m[2]) } : null;
}

async function removeQuietly(p: string): Promise<void> {
  await fsp.rm(p, { recursive: true, force: true }).catch(() => undefined);
}

/**
 * Runs `write(tmp)` on a temporary path beside `dest`, then renames it onto `dest` (replacing a file that
 * is there). On any failure the temporary path is removed, `dest` is untouched, and the error is rethrown.
 */
export async function writeFileAtomic(dest: string, write: (tmp: string) => Promise<void> | void, options: AtomicOutputOptions = {}): Promise<void> {
  const tmp = tempPathBeside(dest, options.ext);
  const untrack = options.track?.(tmp);
  try {
    await write(tmp);
    await fsp.rename(tmp, path.resolve(dest));
  } catch (e) {
    await removeQuietly(tmp);
    throw e;
  } finally {
    untrack?.();
  }
}

/** {@link writeFileAtomic} for content already in memory. */
export async function writeFileContentAtomic(dest: string, content: string | Uint8Array, options: AtomicOutputOptions = {}): Promise<void> {
  await writeFileAtomic(dest, (tmp) => fsp.writeFile(tmp, content), options);
}

/** What {@link writeFolderAtomic} does when `dest` already exists. */
export type ExistingFolder =
  /** The new folder replaces the old one whole (the old one is moved aside, see {@link asidePathOf}, and removed once the new one is in place). */
  | 'replace'
  /** Each new top-level entry is renamed into the existing folder; the folder's other files stay. */
  | 'merge';

/**
 * Fills a temporary folder beside `dest` with `fill(tmpDir)`, then puts it in place: renamed to `dest`
 * when there is none, else as `existing` says. A failure while filling leaves `dest` as it was.
 */
export async function writeFolderAtomic(
  dest: string,
  fill: (tmpDir: string) => Promise<void> | void,
  options: AtomicOutputOptions & { existing?: ExistingFolder } = {},
): Promise<void> {
  const target = path.resolve(dest);
  const tmp = tempPathBeside(target);
  const untrack = options.track?.(tmp);
  try {
    await fsp.mkdir(tmp);
    await fill(tmp);
    if (!existsSync(target)) {
      await fsp.rename(tmp, target);
    } else if ((options.existing ?? 'replace') === 'merge') {
      for (const name of await fsp.readdir(tmp)) await fsp.rename(path.join(tmp, name), path.join(target, name));
      await removeQuietly(tmp);
    } else {
      const old = asidePathOf(target);
      await fsp.rename(target, old);
      try {
        await fsp.rename(tmp, target);
      } catch (e) {
        await fsp.rename(old, target).catch(() => undefined);
        throw e;
      }
      await removeQuietly(old);
    }
  } catch (e) {
    await removeQuietly(tmp);
    throw e;
  } finally {
    untrack?.();
  }
}
