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
import { condenseHdf5Error } from './hdf5-diag';
import { prescanEnabled, prescanHdf5, type PrescanOptions } from './prescan';

export type { Dataset, Group, H5File, Entity };


type H5Lib = typeof h5wasmDefault;

/** Filter ids built into the HDF5 library of h5wasm: deflate, shuffle, fletcher32, nbit, scaleoffset. */
const BUILTIN_FILTERS = new Set([1, 2, 3, 5, 6]);
/** Filter id of LZF (h5py's default fast compressor), provided by h5wasm-plugins. */
export const LZF_FILTER_ID = 32000;
/**
 * Filter ids decoded by the h5wasm-plugins 0.2.1 builds (its `plugins/libH5Z<name>.so`), by name: lzf, blosc,
 * blosc2, bz2, lz4, bshuf (bitshuffle, incl. its LZ4 mode), zstd, zfp, jpeg, bitgroom, bitround.
 */
export const PLUGIN_FILTERS: ReadonlyMap<number, string> = new Map([
  [32000, 'lzf'],
  [32001, 'blosc'],
  [32026, 'blosc2'],
  [307, 'bz2'],
  [32004, 'lz4'],
  [32008, 'bshuf'],
  [32015, 'zstd'],
  [32013, 'zfp'],
  [32019, 'jpeg'],
  [32022, 'bitgroom'],
  [32023, 'bitround'],
]);

/*
 * Two builds of h5wasm are used. Files are READ with h5wasm 0.8.x: h5wasm-plugins 0.2.1 (the compression
 * plugins: LZF, Blosc, Zstd, …) was built against it (peer range ^0.8.8) and aborts h5wasm 0.10 (undefined
 * symbol __errno_location). Files are WRITTEN with h5wasm 0.10 (package alias `h5wasm-writer`): h5wasm 0.8.x
 * writes 64-bit integers with a 32-bit precision (H5Tcopy(H5T_NATIVE_INT) + H5Tset_size without
 * H5Tset_precision), so h5py/anndata read int64 values beyond 2^31 wrapped, and it writes a typed-array view
 * from its whole underlying buffer.
 */
interface LibState {
  pkg: string;
  promise: Promise<H5Lib> | null;
  lib: H5Lib | null;
  broken: boolean;
  generation: number;
  /** The emscripten module of the loaded instance. */
  mod: unknown;
}
const reader: LibState = { pkg: 'h5wasm', promise: null, lib: null, broken: false, generation: 0, mod: null };
const writer: LibState = { pkg: 'h5wasm-writer', promise: null, lib: null, broken: false, generation: 0, mod: null };
/** The emscripten module of the reader instance whose plugin search path is set (null: not yet). */
let pluginsInstalledOn: unknown = null;

function moduleDir(): string {
  try {
    return path.dirname(fileURLToPath(import.meta.url));
  } catch {
    return process.cwd();
  }
}

/** Finds a package folder by walking up node_modules folders from this module. */
function findPackage(pkg: string, inside: string): string | null {
  let dir = moduleDir();
  for (;;) {
    const p = path.join(dir, 'node_modules', pkg);
    if (fs.existsSync(path.join(p, inside))) return p;
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** h5wasm's node entry file of the given package (`h5wasm` reads, `h5wasm-writer` writes). */
function h5wasmEntry(pkg = 'h5wasm'): string | null {
  const dir = findPackage(pkg, 'dist/node/hdf5_hl.js');
  return dir ? path.join(dir, 'dist', 'node', 'hdf5_hl.js') : null;
}

/** Folder of the h5wasm-plugins `.so` files, or null when the package is not installed. */
export function pluginsDir(): string | null {
  const dir = findPackage('h5wasm-plugins', 'plugins/libH5Zlzf.so');
  return dir ? path.join(dir, 'plugins') : null;
}

async function loadLib(st: LibState): Promise<H5Lib> {
  if (st.broken || !st.promise) {
    const fresh = st.broken;
    st.broken = false;
    const entry = h5wasmEntry(st.pkg);
    if (!entry) {
      throw new AnnDataFormatError(`cannot find the ${st.pkg} package`, { hint: 'install dependencies (npm ci)' }, 'ANNDATA_SETUP');
    }
    // imported by file URL (h5wasm is ESM-only and exports no `require` condition, so this also works from the
    // CommonJS build); a query string gives a fresh wasm instance after an abort
    const url = `${pathToFileURL(entry).href}${fresh ? `?instance=${++st.generation}` : ''}`;
    st.promise = (import(/* @vite-ignore */ url) as Promise<{ default: H5Lib }>).then(async (m) => {
      const mod = await m.default.ready;
      (mod as unknown as { activate_throwing_error_handler?: () => void }).activate_throwing_error_handler?.();
      st.mod = mod;
      return m.default;
    });
  }
  st.lib = await st.promise;
  return st.lib;
}

/**
 * Loads the reading h5wasm once and activates its throwing error handler. If a previous call aborted the wasm
 * instance (corrupt file internals), a fresh instance is loaded so later files still read. Compression plugins
 * are registered on demand, when a dataset's filter needs one ({@link assertFiltersAvailable}).
 */
export async function loadH5(): Promise<H5Lib> {
  return loadLib(reader);
}

/** Loads the writing h5wasm (0.10, correct 64-bit integer types) once. */
export async function loadH5Writer(): Promise<H5Lib> {
  return loadLib(writer);
}

/** The emscripten module of the reading h5wasm (null before {@link loadH5}); internal, for tests that count calls. */
export function readerModule(): Record<string, unknown> | null {
  return reader.mod as Record<string, unknown> | null;
}

/** Whether the wasm instance has aborted since it was last loaded. */
export function wasmAborted(): boolean {
  return reader.broken;
}

/** Whether the compression plugins (LZF, Blosc, Zstd, LZ4, Bitshuffle, BZip2, …) can be registered. */
export function hasLzf(): boolean {
  return pluginsDir() !== null;
}

/** Adds the h5wasm-plugins folder to the reader's HDF5 plugin search path (once per wasm instance). */
function ensurePlugins(): boolean {
  const mod = reader.mod as { insert_plugin_search_path?: (p: string, i: number) => void } | null;
  if (!mod?.insert_plugin_search_path) return false;
  if (pluginsInstalledOn === mod) return true;
  const dir = pluginsDir();
  if (!dir) return false;
  mod.insert_plugin_search_path(dir, 0);
  pluginsInstalledOn = mod;
  return true;
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
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) {
      throw new AnnDataFormatError('is a directory, not an .h5ad file', { file, hint: 'pass the path of an .h5ad file, not of a folder' }, 'ANNDATA_IS_DIRECTORY');
    }
    const size = st.size;
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
 * Opens an HDF5 file read-only (with the reading h5wasm) after {@link checkHdf5File} and (unless INVAE_H5AD_PRESCAN=0) a metadata pre-scan in a
 * worker that rejects files whose internals hang or abort the HDF5 library; h5wasm failures become
 * AnnDataFormatError.
 */
export async function openHdf5(file: string, prescan: PrescanOptions = {}): Promise<H5File> {
  const abs = path.resolve(file);
  checkHdf5File(abs);
  const entry = h5wasmEntry();
  if (entry && prescanEnabled()) {
    await prescanHdf5(abs, file, pathToFileURL(entry).href, prescan);
  }
  const h5 = await loadH5();
  try {
    return new h5.File(abs, 'r');
  } catch (e) {
    throw new AnnDataFormatError(`HDF5 library could not open the file: ${errText(e)}`, { file, cause: e });
  }
}

/** Message of any thrown value (HDF5-DIAG stacks condensed to one line). */
export function errText(e: unknown): string {
  const msg = condenseHdf5Error(e instanceof Error ? e.message : String(e));
  if (/Aborted\(|RuntimeError|unreachable|memory access out of bounds/.test(msg) || (e instanceof Error && e.name === 'RuntimeError')) {
    // the wasm instance is no longer usable; the next loadH5() starts a fresh one
    reader.broken = true;
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
 * unreadable chunk never turns into silently wrong numbers. A filter of h5wasm-plugins registers the plugins
 * (on first need).
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
    if (f.id === LZF_FILTER_ID) assertLzfSized(ds, f as { id: number; cd_values?: number[] }, file);
    const plugin = PLUGIN_FILTERS.get(f.id);
    if (plugin !== undefined && ensurePlugins()) continue;
    const name = f.name || plugin || 'unknown';
    if (plugin !== undefined) {
      throw new UnsupportedFilterError(`dataset uses HDF5 filter ${f.id} (${name}) but the h5wasm-plugins package that decodes it is not installed`, {
        file,
        element: ds.path,
        hint: 'install the h5wasm-plugins package beside @invae/io-anndata (npm ci), or re-save the file with gzip compression',
      });
    }
    throw new UnsupportedFilterError(`dataset uses HDF5 filter ${f.id} (${name}), which neither HDF5's built-in filters nor h5wasm-plugins decode`, {
      file,
      element: ds.path,
    });
  }
}

/**
 * The LZF plugin decompresses into a buffer of the size recorded in the filter parameters (cd_values[2]); when a
 * chunk is bigger (h5py >= 3 records none for variable-length strings, whose chunks hold 16-byte heap ids), it
 * takes a retry path that reads `errno`, a symbol h5wasm does not export, and the wasm instance aborts. Such a
 * dataset is refused before any chunk is read.
 */
function assertLzfSized(ds: Dataset, f: { cd_values?: number[] }, file: string): void {
  const m = ds.metadata as unknown as { chunks: number[] | null; size: number; vlen?: boolean; type: number };
  const elems = (m.chunks ?? []).reduce((a, b) => a * b, 1);
  const elemBytes = m.vlen || m.type === 9 ? 16 : m.size;
  const recorded = f.cd_values && f.cd_values.length >= 3 ? f.cd_values[2] : 0;
  if (m.chunks && recorded < elems * elemBytes) {
    throw new UnsupportedFilterError(
      `dataset uses LZF with chunks of ${elems * elemBytes} bytes but records ${recorded || 'no'} chunk size; the LZF plugin of h5wasm cannot decode it (this is how h5py >= 3 writes LZF variable-length strings)`,
      { file, element: ds.path, hint: 're-save the file with gzip compression, e.g. adata.write_h5ad(path, compression="gzip")' },
    );
  }
}

/** Child name → HDF5 object type (0 group, 1 dataset, 2 datatype) of read-only groups, listed once per group. */
const childTypes = new WeakMap<Group, Map<string, number>>();

/**
 * A child of a group of a file opened for reading, without h5wasm's `Group.get`: that checks the whole path with
 * H5LTpath_valid, which re-resolves every prefix, so reaching depth d costs O(d²) and a 300-level uns took
 * minutes. The children's types are listed once per group (one H5Oget_info_by_idx each) and the entity is built
 * from its path. Returns undefined to fall back to `Group.get` (writable files, links, named datatypes).
 */
function childOf(group: Group, name: string): Entity | null | undefined {
  const lib = reader.lib;
  const mod = reader.mod as { get_types?: (fileId: bigint, path: string) => Record<string, number> } | null;
  if (!lib || !mod?.get_types || !(group instanceof lib.Group) || name.includes('/') || name === '.' || name === '..') return undefined;
  let types = childTypes.get(group);
  if (!types) {
    try {
      types = new Map(Object.entries(mod.get_types((group as unknown as { file_id: bigint }).file_id, group.path)));
    } catch {
      return undefined; // e.g. a dangling soft link among the children
    }
    childTypes.set(group, types);
  }
  const t = types.get(name);
  if (t === undefined) return null;
  const fileId = (group as unknown as { file_id: bigint }).file_id;
  const p = group.path === '/' ? `/${name}` : `${group.path}/${name}`;
  if (t === 0) return new lib.Group(fileId, p);
  if (t === 1) return new lib.Dataset(fileId, p);
  return undefined;
}

/** Gets a child entity, turning h5wasm errors into AnnDataFormatError. */
export function getEntity(group: Group, name: string, file: string): Entity | null {
  try {
    const fast = childOf(group, name);
    if (fast !== undefined) return fast;
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
  return (reader.lib !== null && e instanceof reader.lib.Group) || (writer.lib !== null && e instanceof writer.lib.Group);
}

/** True if the entity is an h5wasm Dataset. */
export function isDataset(e: unknown): e is Dataset {
  return (reader.lib !== null && e instanceof reader.lib.Dataset) || (writer.lib !== null && e instanceof writer.lib.Dataset);
}
