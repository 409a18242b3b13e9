/** An exclusive lock on an output path, so two invae runs never write the same output. */
import fs from 'node:fs';
import { InvaeError } from '@invae/core';
import { onExitCleanup, pidAlive } from './temp-files';

/** Another running invae process holds the lock of an output. */
export class OutputLockedError extends InvaeError {
  constructor(out: string, pid: number | null) {
    super('OUTPUT_LOCKED', `${out} is being written by another invae run${pid ? ` (pid ${pid})` : ''}.`, {
      hint: `wait for it to finish, or choose another --out; if no invae run is writing it, remove ${out}.lock`,
    });
  }
}

/** A held output lock; `release` removes the lock file (also done at exit and on SIGINT/SIGTERM). */
export interface OutputLock {
  readonly file: string;
  release(): void;
}

function readPid(lockFile: string): number | null {
  try {
    const pid = Number.parseInt(fs.readFileSync(lockFile, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Creates `lockFile` holding this process's pid, failing with EEXIST when it exists. The pid is written
 * to a file of its own first and hard-linked into place, so no other process ever reads the lock
 * empty; where hard links are not supported, the lock is created and written in place.
 */
function createLock(lockFile: string): void {
  const tmp = `${lockFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${process.pid}\n`);
  try {
    fs.linkSync(tmp, lockFile);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || !(code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP')) throw e;
    fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Takes `<out>.lock` beside the output by exclusive creation, with this process's pid in it. A lock
 * whose pid is no longer running is stale: it is reported through `notice` and taken over.
 * @throws OutputLockedError when a running process holds the lock.
 */
export function lockOutput(out: string, notice: (line: string) => void): OutputLock {
  const lockFile = `${out}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      createLock(lockFile);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = readPid(lockFile);
      // A lock being written has no pid yet; one whose pid is running is held.
      if (attempt > 0 || pid === null || pidAlive(pid)) throw new OutputLockedError(out, pid);
      notice(`invae: taking over the stale lock ${lockFile} of an interrupted run (pid ${pid}).`);
      fs.rmSync(lockFile, { force: true });
    }
  }
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    unregister();
    if (readPid(lockFile) === process.pid) fs.rmSync(lockFile, { force: true });
  };
  const unregister = onExitCleanup(release);
  return { file: lockFile, release };
}
