import { existsSync, promises as fsp, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { outputOfAsidePath, outputOfTempPath, writeFileAtomic, writeFolderAtomic } from '@invae/common';
import { InvalidOptionError } from '@invae/core';
import { writeH5ad, type AnnData } from '@invae/io-anndata';
import { asOutputError } from './fs-errors';
import { lockOutput, type OutputLock } from './output-lock';
import { onExitCleanup, removeStaleTemps, trackOutput, trackTemp } from './temp-files';

/** Where notices of invae's housekeeping (stale temporary files, stale locks) go. */
export function notice(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Options of {@link claimOutput}. */
export interface ClaimOptions {
  /** Input files the output must not be (inputs are never modified). */
  inputs?: readonly (string | undefined)[];
  /** Replace an existing output. */
  overwrite?: boolean;
  /** The option naming the output, for messages (default `out`). */
  flag?: string;
}

/**
 * Claims an output before anything is written: refuses the input itself and an existing output
 * without --overwrite, takes the output's lock (two invae runs never write one output; a stale lock
 * of a dead run is reported and taken over) and removes the temporary files that interrupted runs
 * left in the output's folder (one notice line each). Release the lock when done (it is also
 * released at exit and on SIGINT/SIGTERM).
 */
export async function claimOutput(out: string, options: ClaimOptions = {}): Promise<OutputLock> {
  const flag = options.flag ?? 'out';
  const abs = path.resolve(out);
  for (const input of options.inputs ?? []) {
    if (input !== undefined && path.resolve(input) === abs) {
      throw new InvalidOptionError(flag, `--${flag} ${out} is an input file; invae never modifies its inputs.`, { hint: 'write to a new file' });
    }
  }
  const dir = path.dirname(abs);
  const parent = await fsp.stat(dir).catch(() => null);
  if (!parent?.isDirectory()) throw new InvalidOptionError(flag, `The folder of --${flag} ${out} (${dir}) does not exist.`, { hint: 'create it first, or choose another path' });
  const lock = lockOutput(abs, notice);
  try {
    const exists = await fsp.lstat(abs).then(
      () => true,
      () => false,
    );
    if (exists && !options.overwrite) throw new InvalidOptionError(flag, `${out} already exists.`, { hint: `choose another --${flag}, or pass --overwrite to replace it` });
    removeStaleTemps(dir, notice);
  } catch (e) {
    lock.release();
    throw e;
  }
  return lock;
}

/** Claims several outputs (see {@link claimOutput}); releases the ones taken when a later one fails. */
export async function claimOutputs(claims: readonly { out: string | undefined; options?: ClaimOptions }[]): Promise<{ release(): void }> {
  const locks: OutputLock[] = [];
  const release = () => {
    for (const l of locks.splice(0)) l.release();
  };
  try {
    for (const c of claims) if (c.out !== undefined) locks.push(await claimOutput(c.out, c.options));
  } catch (e) {
    release();
    throw e;
  }
  return { release };
}

/**
 * Runs `write(tmp)` on a temporary path beside `dest` (registered, so that SIGINT/SIGTERM remove it)
 * and renames it into place. On failure nothing is left behind and the error names `dest`.
 */
export async function writeAtomically(dest: string, write: (tmp: string) => Promise<void>, ext = ''): Promise<void> {
  await writeFileAtomic(dest, write, { ext, track: trackTemp }).catch((e: unknown) => {
    throw asOutputError(dest, e);
  });
}

/**
 * Writes the files of an output folder: all of them into a temporary folder beside `dest` first (a
 * failure, e.g. a full disk, leaves nothing), then the folder is renamed into place; an existing
 * folder (claimed with --overwrite) gets each file renamed into it, so files of the user's that
 * are not outputs stay.
 */
export async function writeFolderAtomically(dest: string, files: ReadonlyMap<string, string | Uint8Array>): Promise<void> {
  await fillFolderAtomically(dest, async (tmp) => {
    for (const [name, content] of files) await fsp.writeFile(path.join(tmp, name), content);
  });
}

/** As {@link writeFolderAtomically}, with `fill` writing the files into the temporary folder (e.g. an .h5ad through io-anndata). */
export async function fillFolderAtomically(dest: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  await writeFolderAtomic(dest, fill, { existing: 'merge', track: trackTemp }).catch((e: unknown) => {
    throw asOutputError(dest, e);
  });
}

/** Writes text or bytes to `file` atomically (temporary file in the same folder, then rename). */
export async function writeFileAtomically(file: string, data: string | Uint8Array): Promise<void> {
  await writeAtomically(file, (tmp) => fsp.writeFile(tmp, data));
}

/** Writes text to `file` atomically. */
export const writeTextAtomically: (file: string, text: string) => Promise<void> = writeFileAtomically;

/** Writes an .h5ad through `@invae/io-anndata` (atomic on its own); its temporary files are removed on SIGINT/SIGTERM and a failure names `file`. */
export async function writeH5adOutput(file: string, adata: AnnData, options?: Parameters<typeof writeH5ad>[2]): Promise<void> {
  const untrack = trackOutput(file);
  try {
    await writeH5ad(file, adata, options);
  } catch (e) {
    throw asOutputError(file, e);
  } finally {
    untrack();
  }
}

/** Copies `input` to `out` through a temporary file in the output folder, runs `edit` on the copy, then renames it into place. */
export async function editCopy(input: string, out: string, edit: (tmp: string) => Promise<void>): Promise<void> {
  await writeAtomically(
    out,
    async (tmp) => {
      await fsp.copyFile(input, tmp);
      await edit(tmp);
    },
    '.h5ad',
  );
}

/** The folders a model save (@invae/common's `writeFolderAtomic`) leaves beside model directory `out`: its temporary folder and a moved-aside old model. */
function modelTemps(out: string): { path: string; kind: 'tmp' | 'old' }[] {
  const abs = path.resolve(out);
  let names: string[];
  try {
    names = readdirSync(path.dirname(abs));
  } catch {
    return [];
  }
  return names.flatMap((n): { path: string; kind: 'tmp' | 'old' }[] => {
    const p = path.join(path.dirname(abs), n);
    if (outputOfTempPath(p)?.output === abs) return [{ path: p, kind: 'tmp' as const }];
    if (outputOfAsidePath(p) === abs) return [{ path: p, kind: 'old' as const }];
    return [];
  });
}

/**
 * With the lock of model directory `out` held, its save folders beside it belong to a run that
 * ended before finishing a save: the temporary ones are removed with a notice; a moved-aside old
 * model is removed when the model directory exists, and reported otherwise (it is the last saved model).
 */
export function removeStaleModelTemps(out: string, notify: (line: string) => void): void {
  const exists = existsSync(out);
  for (const t of modelTemps(out)) {
    if (t.kind === 'old' && !exists) {
      notify(`invae: warning: ${t.path} holds the model an interrupted run was replacing; rename it to ${out} to keep it.`);
      continue;
    }
    rmSync(t.path, { recursive: true, force: true });
    notify(`invae: removed ${t.path}, a temporary folder of ${out} left by an interrupted run.`);
  }
}

/** While model directory `out` is being trained and saved: SIGINT/SIGTERM remove its save's temporary folder. */
export function trackModelSaves(out: string): () => void {
  return onExitCleanup(() => {
    for (const t of modelTemps(out)) if (t.kind === 'tmp') rmSync(t.path, { recursive: true, force: true });
  });
}
