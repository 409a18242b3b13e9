/**
 * h5wasm loading, plugin registration, and safe opening of HDF5 files.
 *
 * Every file is checked (HDF5 signature, superblock, end-of-file address vs. real size) BEFORE h5wasm sees it,
 * so random bytes or truncated files produce a typed error instead of a wasm abort.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type h5wasmDefault from 'h5wasm/node';
import type { Dataset, Group, File as H5File, Entity } from 'h5wasm/node';
import { AnnDataFormatError, NotHdf5Error, TruncatedFileError, UnsupportedFilterError } from './errors';
import { prescanEnabled, prescanHdf5, type PrescanOptions } from './prescan';

export type { Dataset, Group, H5File, Entity };


type H5Lib = typeof h5wasmDefault;

/** Filter ids built into the HDF5 library of h5wasm: deflate, shuffle, fletcher32, nbit, scaleoffset. */
const BUILTIN_FILTERS = new Set([1, 2, 3, 5, 6]);
/** Filter id of LZF (h5py's default fast compressor), provided by h5wasm-plugins. */
export const LZF_FILTER_ID = 32000;

let libPromise: Promise<H5Lib> | null = null;
let currentLib: H5Lib | null = null;
let broken = false;
let generation = 0;
let lzfAvailable = false;
/** Filter ids of the h5wasm-plugins compressors (registered together with LZF). */
const PLUGIN_FILTERS = new Set([32000, 32001, 32004, 32008, 32013, 32015, 32019, 32022, 32023, 32026, 307]);

/** Finds h5wasm's node entry file by walking up node_modules folders from this module. */
function h5wasmEntry(): string | null {
  let dir: string;
  try {
    dir = path.dirname(fileURLToPath(import.meta.url));
  } catch {
    dir = process.cwd();
  }
  for (;;) {
    const p = path.join(dir, 'node_modules', 'h5wasm', 'dist', 'node', 'hdf5_hl.js');
    if (fs.existsSync(p)) return p;
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

async function initLib(lib: H5Lib): Promise<H5Lib> {
  const mod = await lib.ready;
  (mod as unknown as { activate_throwing_error_handler?: () => void }).activate_throwing_error_handler?.();
  // h5wasm-plugins 0.2.1 was built for h5wasm 0.8: with h5wasm 0.10 its LZF plugin aborts the wasm instance
  // (undefined symbol __errno_location). Plugins are only registered when INVAE_H5WASM_PLUGINS=1.
  lzfAvailable = false;
  if (process.env.INVAE_H5WASM_PLUGINS === '1') {
    try {
      const plugins = (await import('h5wasm-plugins')) as { install_local_plugins?: (m: unknown) => void; base_url?: string };
      if (plugins.install_local_plugins && plugins.base_url) {
        const dir = plugins.base_url.replace(/^file:\/\//, '');
        if (fs.existsSync(path.join(dir, 'plugins', 'libH5Zlzf.so'))) {
          plugins.install_local_plugins(mod);
          lzfAvailable = true;
        }
      }
    } catch {
      lzfAvailable = false;
    }
  }
  return lib;
}

/**
 * Loads h5wasm once, activates its throwing error handler (and, on request, the compression plugins).
 * If a previous call aborted the wasm instance (corrupt file internals), a fresh instance is loaded so later
 * files still read.
 */
export async function loadH5(): Promise<H5Lib> {
  if (broken || !libPromise) {
    const fresh = broken;
    broken = false;
    const entry = h5wasmEntry();
    if (!entry) {
      throw new AnnDataFormatError('cannot find the h5wasm package', { hint: 'install dependencies (npm ci)' }, 'ANNDATA_SETUP');
    }
    // imported by file URL (h5wasm is ESM-only and exports no `require` condition, so this also works from the
    // CommonJS build); a query string gives a fresh wasm instance after an abort
    const url = `${pathToFileURL(entry).href}${fresh ? `?instance=${++generation}` : ''}`;
    libPromise = (import(/* @vite-ignore */ url) as Promise<{ default: H5Lib }>).then((m) => initLib(m.default));
  }
  currentLib = await libPromise;
  return currentLib;
}

/** Whether the wasm instance has aborted since it was last loaded. */
export function wasmAborted(): boolean {
  return broken;
}

/** Whether the LZF filter plugin was registered. */
export function hasLzf(): boolean {
  return lzfAvailable;
}

const SIGNATURE = Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

function readLE(buf: Buffer, off: number, size: number): number {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < size; i++) {
    v += buf[off + i] * mul;
    mul *= 256;
  }
  return v;
}

/**
 * Checks that `file` is a complete HDF5 file: signature at 0/512/1024/…, a known superblock version, and a
 * file size at least the end-of-file address the superblock records. Throws a typed error otherwise.
 */
export function checkHdf5File(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AnnDataFormatError(`cannot open file: ${(e as Error).message}`, {
      file,
      hint: code === 'ENOENT' ? 'check the path' : 'check file permissions',
      cause: e,
    }, code === 'ENOENT' ? 'ANNDATA_NOT_FOUND' : 'ANNDATA_IO');
  }
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(96);
    let base = -1;
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      const n = fs.readSync(fd, head, 0, Math.min(96, size - off), off);
      if (n >= 8 && SIGNATURE.every((b, i) => head[i] === b)) {
        base = off;
        break;
      }
      if (off > 1 << 30) break;
    }
    if (base < 0) throw new NotHdf5Error('not an HDF5 file (no HDF5 signature found)', { file });
    const avail = Math.min(96, size - base);
    const version = avail > 8 ? head[8] : -1;
    let eofAt: number;
    let offSize: number;
    if (version === 0 || version === 1) {
      offSize = head[13];
      eofAt = (version === 0 ? 24 : 28) + 2 * offSize;
    } else if (version === 2 || version === 3) {
      offSize = head[9];
      eofAt = 12 + 2 * offSize;
    } else {
      if (avail <= 8) throw new TruncatedFileError('file ends inside the HDF5 superblock', { file });
      throw new NotHdf5Error(`unsupported HDF5 superblock version ${version}`, { file });
    }
    if (![2, 4, 8].includes(offSize)) throw new NotHdf5Error(`invalid HDF5 offset size ${offSize}`, { file });
    if (eofAt + offSize > avail) throw new TruncatedFileError('file ends inside the HDF5 superblock', { file });
    const baseAddr = readLE(head, eofAt - 2 * offSize, offSize);
    const eof = readLE(head, eofAt, offSize);
    const expected = (baseAddr === 0 ? base : baseAddr) + eof;
    if (size < expected) {
      throw new TruncatedFileError(`file is truncated: ${size} bytes on disk but the HDF5 superblock records ${expected}`, { file });
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Opens an HDF5 file after {@link checkHdf5File} and (unless INVAE_H5AD_PRESCAN=0) a metadata pre-scan in a
 * worker that rejects files whose internals hang or abort the HDF5 library; h5wasm failures become
 * AnnDataFormatError.
 */
export async function openHdf5(file: string, mode: 'r' | 'a' = 'r', prescan: PrescanOptions = {}): Promise<H5File> {
  const abs = path.resolve(file);
  checkHdf5File(abs);
  const entry = h5wasmEntry();
  if (entry && prescanEnabled()) {
    await prescanHdf5(abs, file, pathToFileURL(entry).href, prescan);
  }
  const h5 = await loadH5();
  try {
    return new h5.File(abs, mode);
  } catch (e) {
    throw new AnnDataFormatError(`HDF5 library could not open the file: ${errText(e)}`, { file, cause: e });
  }
}

/** Message of any thrown value. */
export function errText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (/Aborted\(|RuntimeError|unreachable|memory access out of bounds/.test(msg) || (e instanceof Error && e.name === 'RuntimeError')) {
    // the wasm instance is no longer usable; the next loadH5() starts a fresh one
    broken = true;
    return `HDF5 library aborted while reading (the file is corrupt): ${msg}`;
  }
  return msg;
}

/** Closes an h5wasm file, ignoring errors (e.g. after a wasm abort) so they never mask the original error. */
export function safeClose(f: { close(): unknown } | null | undefined): void {
  try {
    f?.close();
  } catch (e) {
    errText(e);
  }
}

/**
 * Throws {@link UnsupportedFilterError} if the dataset uses an HDF5 filter this build cannot decode, so an
 * unreadable chunk never turns into silently wrong numbers.
 */
export function assertFiltersAvailable(ds: Dataset, file: string): void {
  let filters: { id: number; name: string }[];
  try {
    filters = ds.filters;
  } catch (e) {
    throw new AnnDataFormatError(`cannot read the filter pipeline: ${errText(e)}`, { file, element: ds.path, cause: e });
  }
  for (const f of filters) {
    if (BUILTIN_FILTERS.has(f.id)) continue;
    if (PLUGIN_FILTERS.has(f.id) && lzfAvailable) continue;
    const why =
      f.id === LZF_FILTER_ID
        ? ' (the installed h5wasm-plugins LZF build is incompatible with this h5wasm; set INVAE_H5WASM_PLUGINS=1 to try it)'
        : '';
    throw new UnsupportedFilterError(`dataset uses HDF5 filter ${f.id} (${f.name || 'unknown'}) which is not available${why}`, {
      file,
      element: ds.path,
    });
  }
}

/** Gets a child entity, turning h5wasm errors into AnnDataFormatError. */
export function getEntity(group: Group, name: string, file: string): Entity | null {
  try {
    return group.get(name);
  } catch (e) {
    throw new AnnDataFormatError(`cannot open element: ${errText(e)}`, { file, element: joinPath(group.path, name), cause: e });
  }
}

/** Joins HDF5 paths. */
export function joinPath(parent: string, name: string): string {
  if (name.startsWith('/')) return name;
  return parent === '/' || parent === '' ? `/${name}` : `${parent}/${name}`;
}

/** True if the entity is an h5wasm Group (or File). */
export function isGroup(e: unknown): e is Group {
  return currentLib !== null && e instanceof currentLib.Group;
}

/** True if the entity is an h5wasm Dataset. */
export function isDataset(e: unknown): e is Dataset {
  return currentLib !== null && e instanceof currentLib.Dataset;
}
