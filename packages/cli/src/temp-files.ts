/**
 * Temporary files of atomic writes: one recognisable name pattern carrying the writer's pid, a
 * registry of the temporary paths in flight (removed when SIGINT/SIGTERM ends the process), and
 * the clean-up of temporary files left behind by a run that crashed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { outputOfTempPath } from '@invae/common';

// The temporary-name pattern (`.<name>.<pid>.<hex>.tmp[.<ext>]`) is @invae/common's, shared by every package.
export { outputOfTempPath, tempPathBeside as tempPathFor } from '@invae/common';

/** Whether a process with this id is running (a pid owned by another user counts as running). */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temporary paths being written now, and outputs whose writer (another package) names its own temporary files. */
const inFlight = new Set<string>();
const inFlightOutputs = new Set<string>();
/** Clean-up actions to run when the process is interrupted or exits (output locks). */
const exitActions = new Set<() => void>();

/** Registers a temporary path (file or folder) being written; returns the function that unregisters it. */
export function trackTemp(p: string): () => void {
  const abs = path.resolve(p);
  inFlight.add(abs);
  return () => void inFlight.delete(abs);
}

/**
 * Registers an output written by code that picks its own temporary name in the pattern above
 * (e.g. `writeH5ad`): on interruption, this process's temporary files of `dest` are removed.
 */
export function trackOutput(dest: string): () => void {
  const abs = path.resolve(dest);
  inFlightOutputs.add(abs);
  return () => void inFlightOutputs.delete(abs);
}

/** Registers a synchronous action run on interruption and at exit (e.g. releasing a lock); returns its unregister function. */
export function onExitCleanup(action: () => void): () => void {
  exitActions.add(action);
  return () => void exitActions.delete(action);
}

function removeQuietly(p: string): void {
  try {
    fs.rmSync(p, { recursive: true, force: true });
  } catch {
    /* best effort: the process is ending */
  }
}

/** Removes every temporary path in flight and this process's temporary files of the tracked outputs; runs the exit actions. */
export function cleanUpInFlight(): void {
  for (const p of inFlight) removeQuietly(p);
  inFlight.clear();
  for (const dest of inFlightOutputs) {
    let names: string[];
    try {
      names = fs.readdirSync(path.dirname(dest));
    } catch {
      continue;
    }
    for (const name of names) {
      const t = outputOfTempPath(path.join(path.dirname(dest), name));
      if (t && t.pid === process.pid && t.output === dest) removeQuietly(path.join(path.dirname(dest), name));
    }
  }
  inFlightOutputs.clear();
  for (const action of exitActions) {
    try {
      action();
    } catch {
      /* best effort */
    }
  }
  exitActions.clear();
}

let installed = false;

/**
 * On SIGINT/SIGTERM: removes the temporary files of the writes in progress, releases the output
 * locks, and exits with 130/143 (128 + the signal number, as a shell reports it). Exit actions
 * (locks) also run at a normal exit. Installed once by the `invae` binary.
 */
export function installSignalCleanup(): void {
  if (installed) return;
  installed = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      cleanUpInFlight();
      process.stderr.write(`invae: interrupted (${signal}); the temporary files of unfinished writes were removed.\n`);
      process.exit(code);
    });
  }
  process.on('exit', () => cleanUpInFlight());
}

/**
 * Removes the temporary files and folders in `dir` that a run which is no longer alive left behind
 * (their name carries its pid), with one notice line each; temporary files of live processes are kept.
 * Returns the removed paths.
 */
export function removeStaleTemps(dir: string, notice: (line: string) => void): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const p = path.join(dir, name);
    const t = outputOfTempPath(p);
    if (!t || t.pid === process.pid || pidAlive(t.pid)) continue;
    try {
      fs.rmSync(p, { recursive: true, force: true });
      removed.push(p);
      notice(`invae: removed ${p}, a temporary file of ${t.output} left by an interrupted run (pid ${t.pid}).`);
    } catch (e) {
      notice(`invae: warning: cannot remove ${p}, a temporary file left by an interrupted run (pid ${t.pid}): ${(e as NodeJS.ErrnoException).code ?? String(e)}.`);
    }
  }
  return removed;
}
