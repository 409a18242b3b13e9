import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { InvaeError } from '@invae/core';
import { defaultDataDir, findLocalFile, localCandidates } from './paths';
import { getDataset, type DatasetEntry } from './registry';
import { writeFileAtomic, writeFileContentAtomic } from '@invae/common';

/**
 * A dataset could not be fetched or verified. `code`: `DATASET_DOWNLOAD` (network or HTTP failure;
 * the message names the URL to download by hand and where to put the file), `DATASET_CHECKSUM`
 * (size or SHA-256 differs from the registry, or the archive is corrupt), `DATASET_MISSING` (a
 * local dataset is not on this machine), `DATASET_ABORTED` (the caller aborted).
 */
export class DatasetError extends InvaeError {
  /** Registry name of the dataset. */
  readonly dataset: string;
  /** The URL that failed (download errors). */
  readonly url?: string;
  /** Where the file is expected (download and missing errors). */
  readonly destination?: string;

  constructor(
    code: 'DATASET_DOWNLOAD' | 'DATASET_CHECKSUM' | 'DATASET_MISSING' | 'DATASET_ABORTED',
    dataset: string,
    message: string,
    options: { hint?: string; cause?: unknown; url?: string; destination?: string } = {},
  ) {
    super(code, message, { hint: options.hint, cause: options.cause });
    this.dataset = dataset;
    this.url = options.url;
    this.destination = options.destination;
  }
}

/** Progress of {@link fetchDataset}. */
export interface FetchProgress {
  readonly dataset: string;
  /** `download`: bytes received; `verify`: bytes hashed of a file on disk; `gunzip`: compressed bytes unpacked. */
  readonly phase: 'download' | 'verify' | 'gunzip';
  readonly bytes: number;
  /** Total bytes of the phase, null when the server does not say. */
  readonly total: number | null;
  /** Bytes already on disk when a download resumed (0 otherwise). */
  readonly resumedFrom: number;
  readonly url?: string;
}

/** Options of {@link fetchDataset}. */
export interface FetchDatasetOptions {
  /** Data folder (default {@link defaultDataDir}). */
  readonly dir?: string;
  readonly onProgress?: (p: FetchProgress) => void;
  readonly signal?: AbortSignal;
  /** `fetch` to use (default the global one). */
  readonly fetchImpl?: typeof fetch;
  /** Download again even when a verified copy is present. */
  readonly force?: boolean;
  /**
   * URLs to download from instead of the registry's (a mirror or a local copy on an internal
   * server); the registry's size and checksum still apply.
   */
  readonly urls?: readonly string[];
}

/** Outcome of {@link fetchDataset}. */
export interface FetchDatasetResult {
  readonly dataset: string;
  /**
   * `downloaded` / `resumed` (a partial download was continued) / `present` (already there and
   * verified as far as the registry allows) / `local` (a local dataset was found) / `generated`
   * (simulated: nothing to fetch).
   */
  readonly status: 'downloaded' | 'resumed' | 'present' | 'local' | 'generated';
  /** The .h5ad to read (null for simulated data). */
  readonly path: string | null;
  /** SHA-256 of the downloaded file (remote) or of the local file; null when not computed. */
  readonly sha256: string | null;
  /** True when `sha256` was compared with a checksum pinned in the registry. */
  readonly checksumVerified: boolean;
  /** Size of the file at `path` in bytes. */
  readonly bytes: number;
  readonly url?: string;
}

/** What `<file>.invae.json` records after a successful fetch, to verify the file later. */
interface Manifest {
  schema: 'invae.dataset/1';
  dataset: string;
  url: string | null;
  /** SHA-256 and size of the downloaded (possibly compressed) file. */
  source: { fileName: string; sha256: string; bytes: number };
  /** SHA-256 and size of the file on disk. */
  sha256: string;
  bytes: number;
}

const manifestPath = (file: string) => `${file}.invae.json`;

async function statSize(file: string): Promise<number | null> {
  try {
    const s = await fsp.stat(file);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
}

async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await writeFileContentAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Feeds the bytes of `file` into `hash` (all of it, or its first `limit` bytes). */
async function hashInto(hash: Hash, file: string, onBytes?: (n: number) => void, signal?: AbortSignal): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file, { signal })) {
    hash.update(chunk as Buffer);
    n += (chunk as Buffer).length;
    onBytes?.(n);
  }
  return n;
}

/** SHA-256 (hex) and size of a file, streamed. */
export async function sha256File(file: string, onBytes?: (n: number) => void, signal?: AbortSignal): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  const bytes = await hashInto(h, file, onBytes, signal);
  return { sha256: h.digest('hex'), bytes };
}

async function readManifest(file: string): Promise<Manifest | null> {
  try {
    const m = JSON.parse(await fsp.readFile(manifestPath(file), 'utf8')) as Manifest;
    return m && m.schema === 'invae.dataset/1' && typeof m.sha256 === 'string' ? m : null;
  } catch {
    return null;
  }
}

function describeNetworkError(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  const cause = err?.cause;
  const detail = cause ? cause.code ?? cause.message : undefined;
  return [err?.message ?? String(e), detail].filter(Boolean).join(': ');
}

/** A failed request that another mirror, or a later run, may fix (kept apart from checksum errors). */
class TransferError extends Error {
  constructor(
    message: string,
    readonly resumable: boolean,
  ) {
    super(message);
  }
}

interface Transfer {
  sha256: string;
  bytes: number;
  resumedFrom: number;
}

/**
 * Downloads `url` into `part`, continuing an existing partial file with an HTTP Range request
 * (206: append; 200: the server ignored the range, start over; 416: the part may already be whole).
 * The SHA-256 is computed while streaming (the existing part is hashed first).
 */
async function transfer(
  url: string,
  part: string,
  expectedSize: number | null,
  opts: { fetchImpl: typeof fetch; signal?: AbortSignal; onProgress?: (bytes: number, total: number | null, resumedFrom: number) => void },
): Promise<Transfer> {
  let offset = (await statSize(part)) ?? 0;
  if (expectedSize !== null && offset > expectedSize) {
    await fsp.rm(part, { force: true });
    offset = 0;
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    const headers: Record<string, string> = {};
    if (offset > 0) headers.Range = `bytes=${offset}-`;
    let res: Response;
    try {
      res = await opts.fetchImpl(url, { headers, signal: opts.signal, redirect: 'follow' });
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      throw new TransferError(describeNetworkError(e), true);
    }
    if (res.status === 416 && offset > 0) {
      await res.body?.cancel();
      if (expectedSize === null || offset === expectedSize) {
        // The server has nothing past the end of the part: it is complete (the checksum decides).
        const h = createHash('sha256');
        await hashInto(h, part, undefined, opts.signal);
        return { sha256: h.digest('hex'), bytes: offset, resumedFrom: offset };
      }
      await fsp.rm(part, { force: true });
      offset = 0;
      continue;
    }
    let total: number | null = null;
    let append = false;
    if (res.status === 206 && offset > 0) {
      const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== offset) {
        // A range we did not ask for: start over without one.
        await res.body?.cancel();
        await fsp.rm(part, { force: true });
        offset = 0;
        continue;
      }
      append = true;
      total = m[3] === '*' ? null : Number(m[3]);
    } else if (res.ok && res.status !== 206) {
      const len = res.headers.get('content-length');
      total = len !== null && /^\d+$/.test(len) ? Number(len) : null;
      offset = 0;
    } else {
      await res.body?.cancel();
      throw new TransferError(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, res.status >= 500 || res.status === 429);
    }
    const hash = createHash('sha256');
    if (append) await hashInto(hash, part, undefined, opts.signal);
    const resumedFrom = append ? offset : 0;
    let bytes = resumedFrom;
    opts.onProgress?.(bytes, total, resumedFrom);
    const fh = await fsp.open(part, append ? 'a' : 'w');
    try {
      if (res.body) {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          hash.update(chunk);
          await fh.write(chunk);
          bytes += chunk.length;
          opts.onProgress?.(bytes, total, resumedFrom);
        }
      }
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      throw new TransferError(`the connection broke after ${bytes} bytes (${describeNetworkError(e)})`, true);
    } finally {
      await fh.close();
    }
    if (total !== null && bytes !== total) throw new TransferError(`the connection closed after ${bytes} of ${total} bytes`, true);
    return { sha256: hash.digest('hex'), bytes, resumedFrom };
  }
  throw new TransferError('the server did not honour the resume request', true);
}

/** Unpacks `gz` into `out` through a temporary file in the same folder; returns the SHA-256 and size of the output. */
async function gunzipTo(gz: string, out: string, onBytes?: (n: number) => void, signal?: AbortSignal): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let outBytes = 0;
  let inBytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      inBytes += chunk.length;
      onBytes?.(inBytes);
      cb(null, chunk);
    },
  });
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      outBytes += chunk.length;
      cb(null, chunk);
    },
  });
  await writeFileAtomic(out, (tmp) => pipeline(createReadStream(gz), counter, createGunzip(), hasher, createWriteStream(tmp), { signal }));
  return { sha256: hash.digest('hex'), bytes: outBytes };
}

function handDownloadHelp(entry: DatasetEntry, dl: NonNullable<DatasetEntry['download']>, dir: string): { message: string; destination: string } {
  const destination = path.join(dir, dl.fileName);
  const unpacked = dl.gunzip ? ` (or its decompressed form as ${path.join(dir, entry.fileName)})` : '';
  const original = entry.download?.urls[0];
  const registry = original && original !== dl.urls[0] ? ` (or the registry's source ${original})` : '';
  return {
    destination,
    message: `Download ${dl.urls[0]} by hand${registry} and save it as ${destination}${unpacked}, then run \`invae datasets fetch ${entry.name} --dir ${dir}\` again to verify it.`,
  };
}

async function fetchLocal(entry: DatasetEntry, dir: string, opts: FetchDatasetOptions): Promise<FetchDatasetResult> {
  const found = findLocalFile(entry, dir);
  if (!found) {
    const tried = localCandidates(entry, dir);
    throw new DatasetError('DATASET_MISSING', entry.name, `${entry.name} is not on this machine (looked for ${tried.slice(0, 3).join(', ')}${tried.length > 3 ? ', …' : ''}).`, {
      hint: `It ships in the shared folder beside the repository (shared/${entry.sharedPath}); set INVAE_SHARED to that folder, or copy the file to ${path.join(dir, entry.fileName)}.`,
      destination: path.join(dir, entry.fileName),
    });
  }
  const total = await statSize(found);
  const { sha256, bytes } = await sha256File(found, (n) => opts.onProgress?.({ dataset: entry.name, phase: 'verify', bytes: n, total, resumedFrom: 0 }), opts.signal);
  if (entry.sha256 && sha256 !== entry.sha256) {
    throw new DatasetError('DATASET_CHECKSUM', entry.name, `${found} has SHA-256 ${sha256}, but the registry expects ${entry.sha256} for ${entry.name}.`, {
      hint: 'The file is not the expected version; replace it with the original.',
    });
  }
  return { dataset: entry.name, status: 'local', path: found, sha256, checksumVerified: Boolean(entry.sha256), bytes };
}

/** Checks a downloaded (or hand-placed) file against the registry's size and checksum. */
function checkDownload(entry: DatasetEntry, file: string, got: { sha256: string; bytes: number }, hint: string): void {
  const dl = entry.download!;
  if (dl.sizeBytes !== null && got.bytes !== dl.sizeBytes) {
    throw new DatasetError('DATASET_CHECKSUM', entry.name, `${file} has ${got.bytes} bytes, but ${entry.name} should have ${dl.sizeBytes}.`, { hint });
  }
  if (dl.sha256 !== null && got.sha256 !== dl.sha256) {
    throw new DatasetError('DATASET_CHECKSUM', entry.name, `${file} has SHA-256 ${got.sha256}, but ${entry.name} should have ${dl.sha256}.`, { hint });
  }
}

/**
 * Fetches a dataset of the registry into the data folder. Remote datasets are downloaded to
 * `<dir>/<file>.part` (continued with an HTTP Range request when a part exists), checked against
 * the registry's size and SHA-256 (hashed while streaming), renamed into place, and unpacked when
 * gzip-compressed (through a temporary file; the archive is then removed). A `<file>.invae.json`
 * beside the result records its checksum, so a later fetch verifies the present copy and skips the
 * download. Local datasets are located and verified; simulated ones need nothing.
 *
 * Without network access (or on an HTTP error) it throws a {@link DatasetError} `DATASET_DOWNLOAD`
 * whose message names the URL to download by hand and where to save the file; a partial download
 * is kept for the next attempt. A checksum that is not pinned in the registry (null) is reported as
 * computed (`checksumVerified: false`) so it can be pinned.
 */
export async function fetchDataset(dataset: string | DatasetEntry, options: FetchDatasetOptions = {}): Promise<FetchDatasetResult> {
  const entry = typeof dataset === 'string' ? getDataset(dataset) : dataset;
  const dir = path.resolve(options.dir ?? defaultDataDir());
  const fetchImpl = options.fetchImpl ?? globalThis.fetch;
  const progress = (phase: FetchProgress['phase'], bytes: number, total: number | null, resumedFrom = 0, url?: string) =>
    options.onProgress?.({ dataset: entry.name, phase, bytes, total, resumedFrom, url });

  if (entry.kind === 'simulated') return { dataset: entry.name, status: 'generated', path: null, sha256: null, checksumVerified: false, bytes: 0 };
  await fsp.mkdir(dir, { recursive: true });
  if (entry.kind === 'local') return fetchLocal(entry, dir, options);
  const registered = entry.download;
  if (!registered) throw new DatasetError('DATASET_DOWNLOAD', entry.name, `${entry.name} has no download in the registry.`);
  const dl = options.urls ? { ...registered, urls: options.urls } : registered;
  if (dl.urls.length === 0) throw new DatasetError('DATASET_DOWNLOAD', entry.name, `${entry.name} has no download URL.`);

  const finalPath = path.join(dir, entry.fileName);
  const dlPath = path.join(dir, dl.fileName);
  const partPath = `${dlPath}.part`;
  const verifyProgress = (total: number | null) => (n: number) => progress('verify', n, total);

  // 1. A copy is present: verify it against its manifest (or, uncompressed, the registry) and stop.
  const finalSize = await statSize(finalPath);
  if (finalSize !== null && !options.force) {
    const manifest = await readManifest(finalPath);
    const got = await sha256File(finalPath, verifyProgress(finalSize), options.signal);
    if (manifest) {
      if (got.sha256 !== manifest.sha256 || got.bytes !== manifest.bytes) {
        throw new DatasetError('DATASET_CHECKSUM', entry.name, `${finalPath} changed since it was fetched (SHA-256 ${got.sha256}, recorded ${manifest.sha256}).`, {
          hint: `Delete it (and ${manifestPath(finalPath)}) or pass --force to download it again.`,
        });
      }
      if (dl.sha256 !== null && manifest.source.sha256 !== dl.sha256) {
        throw new DatasetError('DATASET_CHECKSUM', entry.name, `${finalPath} was fetched from a file with SHA-256 ${manifest.source.sha256}, but the registry now expects ${dl.sha256}.`, {
          hint: 'Pass --force to download the expected version.',
        });
      }
      return { dataset: entry.name, status: 'present', path: finalPath, sha256: manifest.source.sha256, checksumVerified: dl.sha256 !== null, bytes: got.bytes, url: manifest.url ?? undefined };
    }
    if (!dl.gunzip) {
      checkDownload(entry, finalPath, got, `It is not the expected file; delete ${finalPath} or pass --force to download it again.`);
      await writeJsonAtomically(manifestPath(finalPath), {
        schema: 'invae.dataset/1', dataset: entry.name, url: null, source: { fileName: dl.fileName, ...got }, ...got,
      } satisfies Manifest);
      return { dataset: entry.name, status: 'present', path: finalPath, sha256: got.sha256, checksumVerified: dl.sha256 !== null, bytes: got.bytes };
    }
    // Decompressed by hand: the registry's checksum is of the archive, so this copy cannot be verified.
    return { dataset: entry.name, status: 'present', path: finalPath, sha256: null, checksumVerified: false, bytes: got.bytes };
  }

  // 2. Download (unless a complete archive was placed by hand), verify, rename.
  let source: { sha256: string; bytes: number };
  let status: FetchDatasetResult['status'] = 'downloaded';
  let usedUrl: string | null = null;
  const placed = dlPath !== finalPath ? await statSize(dlPath) : null;
  if (placed !== null && !options.force) {
    source = await sha256File(dlPath, verifyProgress(placed), options.signal);
    status = 'present';
    checkDownload(entry, dlPath, source, `It is not the expected file; delete ${dlPath} and fetch again.`);
  } else {
    if (options.force) await fsp.rm(partPath, { force: true });
    const failures: string[] = [];
    let got: Transfer | null = null;
    for (const url of dl.urls) {
      try {
        got = await transfer(url, partPath, dl.sizeBytes, {
          fetchImpl,
          signal: options.signal,
          onProgress: (bytes, total, resumedFrom) => progress('download', bytes, total, resumedFrom, url),
        });
        usedUrl = url;
        break;
      } catch (e) {
        if (options.signal?.aborted) {
          throw new DatasetError('DATASET_ABORTED', entry.name, `The download of ${entry.name} was interrupted.`, {
            hint: `The partial file ${partPath} is kept; fetch again to resume.`,
            cause: e,
          });
        }
        if (!(e instanceof TransferError)) throw e;
        failures.push(`${url}: ${e.message}`);
      }
    }
    if (!got || !usedUrl) {
      const help = handDownloadHelp(entry, dl, dir);
      const kept = (await statSize(partPath)) ?? 0;
      throw new DatasetError('DATASET_DOWNLOAD', entry.name, `Could not download ${entry.name} (${failures.join('; ')}). ${help.message}`, {
        hint: kept > 0 ? `${kept} bytes are kept in ${partPath}; the next fetch resumes from there.` : 'Check the network connection (or a proxy) and try again.',
        url: dl.urls[0],
        destination: help.destination,
      });
    }
    if (got.resumedFrom > 0) status = 'resumed';
    source = { sha256: got.sha256, bytes: got.bytes };
    try {
      checkDownload(entry, partPath, source, `The download is corrupt or a different version (from ${usedUrl}); it was removed, fetch again.`);
    } catch (e) {
      await fsp.rm(partPath, { force: true });
      throw e;
    }
    await fsp.rename(partPath, dlPath);
  }

  // 3. Unpack, record the manifest.
  let result = source;
  if (dl.gunzip) {
    try {
      result = await gunzipTo(dlPath, finalPath, (n) => progress('gunzip', n, source.bytes), options.signal);
    } catch (e) {
      if (options.signal?.aborted) throw new DatasetError('DATASET_ABORTED', entry.name, `Unpacking ${dlPath} was interrupted.`, { hint: 'Fetch again to unpack it.', cause: e });
      throw new DatasetError('DATASET_CHECKSUM', entry.name, `${dlPath} is not a valid gzip archive (${(e as Error).message}).`, {
        hint: `Delete ${dlPath} and fetch again.`,
        cause: e,
      });
    }
    await fsp.rm(dlPath, { force: true });
  }
  await writeJsonAtomically(manifestPath(finalPath), {
    schema: 'invae.dataset/1',
    dataset: entry.name,
    url: usedUrl,
    source: { fileName: dl.fileName, ...source },
    ...result,
  } satisfies Manifest);
  return { dataset: entry.name, status, path: finalPath, sha256: source.sha256, checksumVerified: dl.sha256 !== null, bytes: result.bytes, url: usedUrl ?? undefined };
}

/** Local state of a dataset, without hashing anything (for listings). */
export interface DatasetStatus {
  readonly dataset: string;
  /**
   * `present` (the .h5ad is there), `partial` (an interrupted download), `downloaded` (the archive
   * is there, not unpacked), `missing`, `local` (a local dataset was found), `generated` (simulated).
   */
  readonly state: 'present' | 'partial' | 'downloaded' | 'missing' | 'local' | 'generated';
  /** The .h5ad (present/local) or where it would be (null for simulated data). */
  readonly path: string | null;
  /** Bytes on disk (the file, the archive or the part). */
  readonly bytes: number | null;
}

/** Where a dataset is (or would be) and whether it is there; see {@link DatasetStatus}. */
export async function datasetStatus(dataset: string | DatasetEntry, options: { dir?: string } = {}): Promise<DatasetStatus> {
  const entry = typeof dataset === 'string' ? getDataset(dataset) : dataset;
  const dir = path.resolve(options.dir ?? defaultDataDir());
  if (entry.kind === 'simulated') return { dataset: entry.name, state: 'generated', path: null, bytes: null };
  if (entry.kind === 'local') {
    const found = findLocalFile(entry, dir);
    return found ? { dataset: entry.name, state: 'local', path: found, bytes: await statSize(found) } : { dataset: entry.name, state: 'missing', path: path.join(dir, entry.fileName), bytes: null };
  }
  const finalPath = path.join(dir, entry.fileName);
  const size = await statSize(finalPath);
  if (size !== null) return { dataset: entry.name, state: 'present', path: finalPath, bytes: size };
  const dlPath = path.join(dir, entry.download!.fileName);
  const dlSize = dlPath !== finalPath ? await statSize(dlPath) : null;
  if (dlSize !== null) return { dataset: entry.name, state: 'downloaded', path: finalPath, bytes: dlSize };
  const part = await statSize(`${dlPath}.part`);
  if (part !== null) return { dataset: entry.name, state: 'partial', path: finalPath, bytes: part };
  return { dataset: entry.name, state: 'missing', path: finalPath, bytes: null };
}
