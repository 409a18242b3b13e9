import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anndataJudge, bin, invae, needsShared, python, sharedFile } from './helpers';

const cellbench = needsShared('data/cellbench-lung-3cl.h5ad');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-cli-datasets-'));
const HEMA_ARCHIVE = 'GSE194122_openproblems_neurips2021_multiome_BMMC_processed.h5ad.gz';

const payload = randomBytes(200_000);
const archive = gzipSync(payload);
let dropNext = false;
let server: http.Server;
let base = '';
const ranges: (string | undefined)[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    ranges.push(req.headers.range);
    if (req.url === '/not-gzip.gz') {
      res.writeHead(200, { 'content-length': payload.length }).end(payload);
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      res.writeHead(206, { 'content-length': archive.length - start, 'content-range': `bytes ${start}-${archive.length - 1}/${archive.length}` }).end(archive.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': archive.length });
    if (dropNext) {
      dropNext = false;
      res.write(archive.subarray(0, 70_000), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    res.end(archive);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs the CLI asynchronously (the test server lives in this process, so spawnSync would block it). */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, INVAE_BACKEND: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('invae datasets', () => {
  it('list prints the registry with keys and local status; --json has every field', () => {
    const dir = path.join(tmp, 'list');
    const r = invae(['datasets', 'list', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^name\s+cells\s+genes\s+size\s+batch\s+label\s+status$/);
    expect(r.stdout).toMatch(/hematopoiesis\s+69,249\s+13,431\s+\?\s+batch\s+cell_type\s+missing/);
    expect(r.stdout).toMatch(/lung-cancer\s+\?\s+\?\s+\?\s+dataset\s+cell_type_major\s+missing/);
    expect(r.stdout).toMatch(/simulated\s+2,000\s+500\s+\?\s+batch\s+cell_type\s+generated/);
    expect(r.stdout).toContain(`data folder: ${dir}`);
    const j = invae(['datasets', 'list', '--dir', dir, '--json']);
    const rows = JSON.parse(j.stdout) as { name: string; urls: string[]; sha256: string | null; batchKey: string; nTopGenes: number | null; state: string }[];
    expect(r.stdout).toMatch(/paul15-hematopoiesis\s+2,730\s+3,451\s+\S+( MiB)?\s+batch\s+cell_type\s+(local|missing)/);
    expect(rows.map((x) => x.name)).toEqual(['hematopoiesis', 'lung-cancer', 'cellbench-lung-3cl', 'paul15-hematopoiesis', 'simulated']);
    expect(rows[3]).toMatchObject({ batchKey: 'batch', nTopGenes: 2000 });
    expect(rows[3]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.urls[0]).toMatch(/GSE194122_openproblems_neurips2021_multiome_BMMC_processed\.h5ad\.gz$/);
    expect(rows[0]!.nTopGenes).toBe(2000);
    expect(rows[2]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fetch downloads with a progress report, resumes after a dropped connection and reports the unpinned checksum', async () => {
    const dir = path.join(tmp, 'fetch');
    const url = `${base}/${HEMA_ARCHIVE}`;
    dropNext = true;
    const broken = await run(['datasets', 'fetch', 'hematopoiesis', '--dir', dir, '--url', url]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('invae: error: Could not download hematopoiesis');
    expect(broken.stderr).toMatch(/hint: \d+ bytes are kept in .*\.part; the next fetch resumes from there/);
    expect(broken.stderr).not.toMatch(/\n\s+at /);
    ranges.length = 0;
    const r = await run(['datasets', 'fetch', 'hematopoiesis', '--dir', dir, '--url', url]);
    expect(r.code, r.stderr).toBe(0);
    expect(ranges[0]).toMatch(/^bytes=\d+-$/);
    expect(r.stderr).toMatch(/resuming hematopoiesis at/);
    expect(r.stderr).toMatch(/download hematopoiesis: 100% /);
    const final = path.join(dir, 'GSE194122_openproblems_neurips2021_multiome_BMMC_processed.h5ad');
    expect(r.stdout).toContain(`hematopoiesis: downloaded (resumed): ${final}`);
    const sha = createHash('sha256').update(archive).digest('hex');
    expect(r.stdout).toContain(`sha256 ${sha} (the registry pins no checksum for hematopoiesis; this one can be pinned)`);
    expect(fs.readFileSync(final).equals(payload)).toBe(true);
    const again = await run(['datasets', 'fetch', 'hematopoiesis', '--dir', dir, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'present', sha256: sha, path: final });
    const p = await run(['datasets', 'path', 'hematopoiesis', '--dir', dir]);
    expect(p.stdout.trim()).toBe(final);
  });

  it('offline: exit 1, a clear message with the URL and where to save the file, no stack trace', async () => {
    const dir = path.join(tmp, 'offline');
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const url = `http://127.0.0.1:${port}/${HEMA_ARCHIVE}`;
    const r = await run(['datasets', 'fetch', 'hematopoiesis', '--dir', dir, '--url', url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `Download ${url} by hand (or the registry's source https://ftp.ncbi.nlm.nih.gov/geo/series/GSE194nnn/GSE194122/suppl/${HEMA_ARCHIVE}) and save it as ${path.join(dir, HEMA_ARCHIVE)}`,
    );
    expect(r.stderr).toMatch(/ECONNREFUSED/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const bad = await run(['datasets', 'fetch', 'hematopoiesis', '--dir', path.join(tmp, 'bad'), '--url', `${base}/not-gzip.gz`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not a valid gzip archive/);
  });

  cellbench.it('path and fetch of local and unknown datasets', () => {
    const dir = path.join(tmp, 'local');
    const p = invae(['datasets', 'path', 'cellbench-lung-3cl', '--dir', dir]);
    expect(p.code, p.stderr).toBe(0);
    expect(fs.realpathSync(p.stdout.trim())).toBe(fs.realpathSync(sharedFile('data/cellbench-lung-3cl.h5ad')));
    const f = invae(['datasets', 'fetch', 'cellbench-lung-3cl', '--dir', dir]);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toMatch(/cellbench-lung-3cl: found: .*cellbench-lung-3cl\.h5ad/);
    expect(f.stdout).toMatch(/sha256 ea41a712[0-9a-f]+ verified/);
    const missing = invae(['datasets', 'path', 'lung-cancer', '--dir', dir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/hint: run `invae datasets fetch lung-cancer --dir/);
    const unknown = invae(['datasets', 'fetch', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Unknown dataset 'nope'/);
  });

  cellbench.and(needsShared('data/paul15-hematopoiesis.h5ad')).and(anndataJudge).it('prepare writes the HVG subset of CellBench, Paul et al. 2015 (by name and by --file) and a simulated dataset as .h5ad', () => {
    const out = path.join(tmp, 'cellbench-hvg.h5ad');
    const r = invae(['datasets', 'prepare', 'cellbench-lung-3cl', '--out', out, '--n-top-genes', '300', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/450 cells × 300 genes \(counts from X, 300 seurat_v3 HVGs of 14888 by 'batch'\)/);
    const j = python<{ shape: number[]; obs: string[]; integer: boolean }>(
      `a = anndata.read_h5ad(sys.argv[1]); X = a.X.toarray(); print(json.dumps({"shape": list(a.shape), "obs": sorted(a.obs.columns), "integer": bool((X == np.round(X)).all())}))`,
      [out],
    );
    expect(j).toEqual({ shape: [450, 300], obs: ['batch', 'cell_line', 'demuxlet_cls', 'protocol', 'total_counts'], integer: true });
    // Any .h5ad by --file without a registry name, and the registered Paul et al. 2015 file.
    const paulFile = sharedFile('data/paul15-hematopoiesis.h5ad');
    const byFile = path.join(tmp, 'paul15-by-file.h5ad');
    const f = invae(['datasets', 'prepare', '--file', paulFile, '--batch', 'batch', '--label', 'cell_type', '--out', byFile, '--quiet']);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toMatch(/2730 cells × 2000 genes \(counts from X, 2000 seurat_v3 HVGs of 3451 by 'batch'\)/);
    const byName = path.join(tmp, 'paul15-by-name.h5ad');
    const n = invae(['datasets', 'prepare', 'paul15-hematopoiesis', '--out', byName, '--quiet']);
    expect(n.code, n.stderr).toBe(0);
    const genes = python<string[][]>(`print(json.dumps([list(anndata.read_h5ad(f).var_names) for f in sys.argv[1:]]))`, [byFile, byName]);
    expect(genes[0]).toHaveLength(2000);
    expect(genes[0]).toEqual(genes[1]);
    const none = invae(['datasets', 'prepare', '--out', path.join(tmp, 'none.h5ad')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/Name a dataset or pass --file/);
    const mixed = invae(['datasets', 'prepare', 'paul15-hematopoiesis', '--batch', 'batch', '--out', path.join(tmp, 'mixed.h5ad')]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toMatch(/describe a file without a registry name/);
    const sim = path.join(tmp, 'sim.h5ad');
    const s = invae(['datasets', 'prepare', 'simulated', '--out', sim, '--seed', '2']);
    expect(s.code, s.stderr).toBe(0);
    expect(fs.existsSync(sim)).toBe(true);
  });
});
