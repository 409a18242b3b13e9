import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { needsShared, sharedFile } from '../../../test-support/index';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DatasetError, datasetStatus, fetchDataset, getDataset, type DatasetEntry, type FetchProgress } from '../src/index';

/** What the test server does with the next requests. */
type Mode = 'range' | 'no-range' | 'drop' | 'not-found' | 'slow';

const original = randomBytes(300_000);
const archive = gzipSync(original);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let mode: Mode = 'range';
let dropAfter = 0;
const requests: { url: string; range?: string }[] = [];
let server: http.Server;
let base = '';
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-fetch-'));

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', range: req.headers.range });
    if (mode === 'not-found' || !req.url?.startsWith('/data/')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && mode !== 'no-range') {
      const start = Number(m[1]);
      if (start >= archive.length) {
        res.writeHead(416, { 'content-range': `bytes */${archive.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-length': archive.length - start, 'content-range': `bytes ${start}-${archive.length - 1}/${archive.length}`, 'accept-ranges': 'bytes' });
      res.end(archive.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': archive.length, 'content-type': 'application/gzip' });
    if (mode === 'drop') {
      // Send part of the body, then drop the connection.
      res.write(archive.subarray(0, dropAfter), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    if (mode === 'slow') {
      let off = 0;
      const tick = () => {
        if (res.destroyed || off >= archive.length) return res.end();
        res.write(archive.subarray(off, off + 8192));
        off += 8192;
        setTimeout(tick, 5);
      };
      tick();
      return;
    }
    res.end(archive);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

beforeEach(() => {
  mode = 'range';
  requests.length = 0;
});

let dirCount = 0;
const freshDir = () => path.join(tmpRoot, `d${dirCount++}`);

function entry(overrides: Partial<NonNullable<DatasetEntry['download']>> = {}): DatasetEntry {
  return {
    ...getDataset('hematopoiesis'),
    name: 'toy',
    fileName: 'toy.h5ad',
    download: { urls: [`${base}/data/toy.h5ad.gz`], fileName: 'toy.h5ad.gz', sizeBytes: archive.length, sha256: sha(archive), gunzip: true, ...overrides },
  };
}

describe('fetchDataset over HTTP', () => {
  it('downloads, verifies, unpacks, records a manifest; a second fetch verifies the copy without the network', async () => {
    const dir = freshDir();
    const events: FetchProgress[] = [];
    const r = await fetchDataset(entry(), { dir, onProgress: (p) => events.push(p) });
    expect(r.status).toBe('downloaded');
    expect(r.checksumVerified).toBe(true);
    expect(r.sha256).toBe(sha(archive));
    expect(r.path).toBe(path.join(dir, 'toy.h5ad'));
    expect(fs.readFileSync(r.path!).equals(original)).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['toy.h5ad', 'toy.h5ad.invae.json']);
    const last = events.filter((e) => e.phase === 'download').at(-1)!;
    expect(last.bytes).toBe(archive.length);
    expect(last.total).toBe(archive.length);
    expect(events.some((e) => e.phase === 'gunzip')).toBe(true);
    const n = requests.length;
    const again = await fetchDataset(entry(), { dir });
    expect(again.status).toBe('present');
    expect(again.checksumVerified).toBe(true);
    expect(requests.length).toBe(n);
    expect((await datasetStatus(entry(), { dir })).state).toBe('present');
  });

  it('resumes with a Range request after the server drops the connection mid-way', async () => {
    const dir = freshDir();
    mode = 'drop';
    dropAfter = 100_000;
    const err = await fetchDataset(entry(), { dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).code).toBe('DATASET_DOWNLOAD');
    expect((err as DatasetError).message).toMatch(/connection broke after \d+ bytes/);
    const part = path.join(dir, 'toy.h5ad.gz.part');
    const kept = fs.statSync(part).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(archive.length);
    expect((err as DatasetError).hint).toContain(`${kept} bytes are kept in ${part}`);
    expect((await datasetStatus(entry(), { dir })).state).toBe('partial');
    mode = 'range';
    requests.length = 0;
    const r = await fetchDataset(entry(), { dir });
    expect(r.status).toBe('resumed');
    expect(requests).toEqual([{ url: '/data/toy.h5ad.gz', range: `bytes=${kept}-` }]);
    expect(r.checksumVerified).toBe(true);
    expect(fs.readFileSync(r.path!).equals(original)).toBe(true);
    expect(fs.existsSync(part)).toBe(false);
  });

  it('starts over when the server ignores the Range header (200 instead of 206)', async () => {
    const dir = freshDir();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'toy.h5ad.gz.part'), archive.subarray(0, 5000));
    mode = 'no-range';
    const r = await fetchDataset(entry(), { dir });
    expect(requests[0]!.range).toBe('bytes=5000-');
    expect(r.status).toBe('downloaded');
    expect(fs.readFileSync(r.path!).equals(original)).toBe(true);
  });

  it('finishes a part that is already complete (416 for the range past its end)', async () => {
    const dir = freshDir();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'toy.h5ad.gz.part'), archive);
    const r = await fetchDataset(entry(), { dir });
    expect(r.status).toBe('resumed');
    expect(fs.readFileSync(r.path!).equals(original)).toBe(true);
  });

  it('rejects a wrong checksum or size, removes the bad download and keeps nothing half-done', async () => {
    const dir = freshDir();
    const bad = entry({ sha256: 'f'.repeat(64) });
    const err = await fetchDataset(bad, { dir }).catch((e: unknown) => e);
    expect((err as DatasetError).code).toBe('DATASET_CHECKSUM');
    expect((err as DatasetError).message).toContain(`SHA-256 ${sha(archive)}`);
    expect(fs.readdirSync(dir)).toEqual([]);
    const wrongSize = await fetchDataset(entry({ sizeBytes: archive.length + 1 }), { dir }).catch((e: unknown) => e);
    expect((wrongSize as DatasetError).code).toBe('DATASET_CHECKSUM');
    expect((wrongSize as DatasetError).message).toMatch(/bytes, but toy should have/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('reports the computed checksum when the registry has none to compare with', async () => {
    const dir = freshDir();
    const r = await fetchDataset(entry({ sha256: null, sizeBytes: null }), { dir });
    expect(r.checksumVerified).toBe(false);
    expect(r.sha256).toBe(sha(archive));
  });

  it('offline: a typed error that names the URL to download by hand and where to save it', async () => {
    const dir = freshDir();
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const url = `http://127.0.0.1:${port}/toy.h5ad.gz`;
    const err = await fetchDataset(entry({ urls: [url] }), { dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    const e = err as DatasetError;
    expect(e.code).toBe('DATASET_DOWNLOAD');
    expect(e.message).toContain(`Download ${url} by hand and save it as ${path.join(dir, 'toy.h5ad.gz')}`);
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(e.url).toBe(url);
    expect(e.destination).toBe(path.join(dir, 'toy.h5ad.gz'));
  });

  it('tries the next mirror after an HTTP error, and uses an archive placed by hand without downloading', async () => {
    const dir = freshDir();
    const r = await fetchDataset(entry({ urls: [`${base}/missing/toy.h5ad.gz`, `${base}/data/toy.h5ad.gz`] }), { dir });
    expect(r.url).toBe(`${base}/data/toy.h5ad.gz`);
    expect(requests.map((q) => q.url)).toEqual(['/missing/toy.h5ad.gz', '/data/toy.h5ad.gz']);
    const dir2 = freshDir();
    fs.mkdirSync(dir2, { recursive: true });
    fs.writeFileSync(path.join(dir2, 'toy.h5ad.gz'), archive);
    requests.length = 0;
    const placed = await fetchDataset(entry(), { dir: dir2 });
    expect(placed.status).toBe('present');
    expect(requests).toEqual([]);
    expect(fs.readFileSync(placed.path!).equals(original)).toBe(true);
    const notGzip = freshDir();
    fs.mkdirSync(notGzip, { recursive: true });
    fs.writeFileSync(path.join(notGzip, 'toy.h5ad.gz'), original);
    const err = await fetchDataset(entry({ sha256: null, sizeBytes: null }), { dir: notGzip }).catch((e: unknown) => e);
    expect((err as DatasetError).code).toBe('DATASET_CHECKSUM');
    expect((err as DatasetError).message).toMatch(/not a valid gzip archive/);
    expect(fs.existsSync(path.join(notGzip, 'toy.h5ad'))).toBe(false);
  });

  it('detects a fetched file that changed on disk, and re-downloads with force', async () => {
    const dir = freshDir();
    const r = await fetchDataset(entry(), { dir });
    fs.appendFileSync(r.path!, 'x');
    const err = await fetchDataset(entry(), { dir }).catch((e: unknown) => e);
    expect((err as DatasetError).code).toBe('DATASET_CHECKSUM');
    expect((err as DatasetError).message).toMatch(/changed since it was fetched/);
    const forced = await fetchDataset(entry(), { dir, force: true });
    expect(forced.status).toBe('downloaded');
    expect(fs.readFileSync(forced.path!).equals(original)).toBe(true);
  });

  it('an aborted download keeps its part for the next attempt', async () => {
    const dir = freshDir();
    mode = 'slow';
    const ac = new AbortController();
    const err = await fetchDataset(entry(), {
      dir,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.phase === 'download' && p.bytes > 30_000) ac.abort();
      },
    }).catch((e: unknown) => e);
    expect((err as DatasetError).code).toBe('DATASET_ABORTED');
    expect(fs.statSync(path.join(dir, 'toy.h5ad.gz.part')).size).toBeGreaterThan(0);
    mode = 'range';
    const r = await fetchDataset(entry(), { dir });
    expect(r.status).toBe('resumed');
    expect(fs.readFileSync(r.path!).equals(original)).toBe(true);
  });
});

describe('fetchDataset for local and simulated entries', () => {
  needsShared('data/cellbench-lung-3cl.h5ad').it('finds the CellBench file in the shared folder and verifies its pinned checksum', async () => {
    const dir = freshDir();
    const r = await fetchDataset('cellbench-lung-3cl', { dir });
    expect(r.status).toBe('local');
    expect(r.checksumVerified).toBe(true);
    expect(fs.realpathSync(r.path!)).toBe(fs.realpathSync(sharedFile('data/cellbench-lung-3cl.h5ad')));
    expect((await datasetStatus('cellbench-lung-3cl', { dir })).state).toBe('local');
  });

  it('a missing local file is a DATASET_MISSING error that says where to put it; simulated data need nothing', async () => {
    const dir = freshDir();
    const e = { ...getDataset('cellbench-lung-3cl'), name: 'nowhere', fileName: 'nowhere.h5ad', sharedPath: 'data/definitely-not-here.h5ad', sha256: null };
    const err = await fetchDataset(e, { dir }).catch((x: unknown) => x);
    expect((err as DatasetError).code).toBe('DATASET_MISSING');
    expect((err as DatasetError).hint).toContain(path.join(dir, 'nowhere.h5ad'));
    expect((await datasetStatus(e, { dir })).state).toBe('missing');
    const sim = await fetchDataset('simulated', { dir });
    expect(sim).toMatchObject({ status: 'generated', path: null });
    expect(() => getDataset('nope')).toThrow(/Unknown dataset 'nope'.*/);
  });
});
