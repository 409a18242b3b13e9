import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProgram } from '@invae/cli';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic, type StaticServer } from './serve';

// Opens the built documentation site (apps/docs/dist, from `nx run docs:docs:build`) and the HTML
// report of a small `invae bench` run in headless Chromium, the way a reader sees them: main content
// rendered, tables and pictures visible and non-empty, no console errors, no failed or external
// requests. Screenshots go to reports/docs-screenshots/ (INVAE_DOCS_SCREENSHOTS overrides).
// Chromium: /usr/bin/chromium (Debian's package) or INVAE_CHROMIUM; without it the test fails unless
// INVAE_ALLOW_NO_BROWSER=1.

const docsRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(docsRoot, '../..');
const dist = path.join(docsRoot, 'dist');
const cli = path.join(repoRoot, 'packages', 'cli', 'bin', 'invae.js');
const screenshots = path.resolve(repoRoot, process.env.INVAE_DOCS_SCREENSHOTS ?? 'reports/docs-screenshots');
const benchOut = path.join(repoRoot, 'reports', 'docs-browser', 'bench');
const chromiumPath = process.env.INVAE_CHROMIUM || '/usr/bin/chromium';
const haveBrowser = existsSync(chromiumPath);
const allowNoBrowser = process.env.INVAE_ALLOW_NO_BROWSER === '1';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

let server: StaticServer;
let browser: Browser;
let context: BrowserContext;
let methods: string[] = [];

/** A page opened with every problem a reader would notice recorded. */
interface Visit {
  page: Page;
  problems: string[];
}

async function visit(urlPath: string): Promise<Visit> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  // Anything not served by the local server is an external request: recorded and blocked.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(server.origin) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    problems.push(`external request: ${url}`);
    return route.abort();
  });
  const response = await page.goto(`${server.origin}${urlPath}`, { waitUntil: 'networkidle' });
  expect(response?.status(), `${urlPath} status`).toBe(200);
  return { page, problems };
}

/** An <img> (or one inside `el`) that has loaded a non-empty picture and is visible. */
async function expectPicture(el: Locator, what: string): Promise<void> {
  await el.scrollIntoViewIfNeeded();
  const tag = await el.evaluate((n) => n.tagName.toLowerCase());
  const target = tag === 'img' || tag === 'svg' ? el : el.locator('img, svg').first();
  await expect(target.count(), `${what}: has an <img> or <svg>`).resolves.toBe(1);
  const kind = await target.evaluate((n) => n.tagName.toLowerCase());
  if (kind === 'img') {
    await target.evaluate((n) => (n as HTMLImageElement).decode().catch(() => undefined));
    const size = await target.evaluate((n) => ({ w: (n as HTMLImageElement).naturalWidth, h: (n as HTMLImageElement).naturalHeight, src: (n as HTMLImageElement).currentSrc }));
    expect(size.w, `${what}: ${size.src} naturalWidth`).toBeGreaterThan(0);
    expect(size.h, `${what}: ${size.src} naturalHeight`).toBeGreaterThan(0);
  } else {
    const shapes = await target.evaluate((n) => n.querySelectorAll('circle, rect, path, line, polygon, polyline, text, image').length);
    expect(shapes, `${what}: svg has drawn shapes`).toBeGreaterThan(0);
  }
  const box = await target.boundingBox();
  expect(box && box.width > 10 && box.height > 10, `${what}: visible with a size (${JSON.stringify(box)})`).toBe(true);
}

async function finish(v: Visit, what: string, shot?: string): Promise<void> {
  if (shot) {
    // Back to the top, so that fixed elements (the nav bar) sit where a reader sees them.
    await v.page.evaluate(() => window.scrollTo(0, 0));
    await v.page.waitForTimeout(200);
    await v.page.screenshot({ path: path.join(screenshots, shot), fullPage: true });
  }
  await v.page.close();
  expect(v.problems, `${what}: console errors / failed requests`).toEqual([]);
}

function invae(args: string[]): void {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: repoRoot, env: { ...process.env, INVAE_BACKEND: 'wasm' } });
  if (r.status !== 0) throw new Error(`invae ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
}

const ready = haveBrowser || !allowNoBrowser;

beforeAll(async () => {
  if (!haveBrowser) {
    throw new Error(`Chromium not found at ${chromiumPath}: install Debian's chromium (apt-get install chromium) or set INVAE_CHROMIUM; INVAE_ALLOW_NO_BROWSER=1 skips this test.`);
  }
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error(`${dist}/index.html is missing: build the site first (npx nx run docs:docs:build).`);
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build the packages first (npx nx run-many -t build).`);

  // The report of a small benchmark run on simulated data.
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'invae-docs-browser-'));
  try {
    const sim = path.join(tmp, 'sim.h5ad');
    invae(['simulate', '--out', sim, '--cells', '400', '--genes', '100', '--batches', '2', '--cell-types', '3', '--seed', '1']);
    rmSync(benchOut, { recursive: true, force: true });
    // invae refuses an --out whose folder does not exist
    mkdirSync(path.dirname(benchOut), { recursive: true });
    invae(['bench', sim, '--batch', 'batch', '--label', 'cell_type', '--methods', 'pca,finvae', '--epochs', '5', '--seed', '0', '--quiet', '--out', benchOut]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const results = JSON.parse(readFileSync(path.join(benchOut, 'results.json'), 'utf8')) as { methods: { embedding: string }[] };
  methods = results.methods.map((m) => m.embedding);

  mkdirSync(screenshots, { recursive: true });
  server = await serveStatic({ '/': dist, '/report/': benchOut });
  browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
}, 300_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
});

describe.skipIf(!ready)('documentation site in Chromium', () => {
  it('home: hero, features and the model diagram', async () => {
    const v = await visit('/');
    await expect(v.page.locator('.VPHero .name').first().textContent()).resolves.toContain('invae');
    expect(await v.page.locator('.VPFeature').count()).toBe(4);
    await expectPicture(v.page.locator('.vp-doc img[src*="invae-model"]').first(), 'model diagram');
    await expect(v.page.locator('.vp-doc').first().textContent()).resolves.toMatch(/Invariant latents[\s\S]*Spurious latents/);
    await finish(v, 'home', 'home.png');
  });

  const guides: [string, string, RegExp][] = [
    ['/guide/what-is-invae.html', 'What is inVAE?', /FinVAE[\s\S]*NFinVAE/],
    ['/guide/install.html', 'Install', /@tensorflow\/tfjs-node-gpu[\s\S]*INVAE_BACKEND/],
    ['/guide/quick-start.html', 'Quick start', /invae train sim\.h5ad[\s\S]*Invae\.setup\(/],
    ['/tutorials/integrate.html', 'Integrate a dataset', /invae embed model\//],
    ['/tutorials/predict-new-batch.html', 'Invariant classifier on a new batch', /invae predict model\/ new-batch\.h5ad/],
    ['/tutorials/priors.html', 'Disease, treatment and gene-program priors', /--inv-prior treatment[\s\S]*priorCovariates/],
    ['/tutorials/benchmark.html', 'Benchmark against Python-computed embeddings', /--embeddings X_scVI,X_harmony/],
    ['/plugins/writing-a-prior-plugin.html', 'Writing a prior plugin', /class HomoscedasticPrior[\s\S]*registerPrior\(plugin\)[\s\S]*--plugin/],
  ];
  for (const [url, title, content] of guides) {
    it(`${url}: title, content and code blocks`, async () => {
      const v = await visit(url);
      await expect(v.page.locator('.vp-doc h1').first().textContent()).resolves.toContain(title);
      if (url !== '/guide/what-is-invae.html') expect(await v.page.locator('.vp-doc div[class*="language-"]').count(), 'code blocks').toBeGreaterThan(0);
      await expect(v.page.locator('.vp-doc').first().textContent()).resolves.toMatch(content);
      await expect(v.page.locator('.VPSidebar').first().isVisible()).resolves.toBe(true);
      await finish(v, url);
    });
  }

  it('CLI reference: one row per command of createProgram(), each command page renders', async () => {
    const commands = createProgram().commands.map((c) => c.name());
    const v = await visit('/reference/cli/');
    await expect(v.page.locator('.vp-doc h1').first().textContent()).resolves.toContain('Command line reference');
    const rows = v.page.locator('.vp-doc table').first().locator('tbody tr');
    expect(await rows.count()).toBe(commands.length);
    const firstCells = (await rows.locator('td:first-child').allTextContents()).map((t) => t.trim());
    expect(firstCells).toEqual(commands.map((c) => `invae ${c}`));
    await finish(v, 'CLI reference', 'cli-reference.png');
    for (const c of commands) {
      const p = await visit(`/reference/cli/${c}.html`);
      await expect(p.page.locator('.vp-doc h1').first().textContent()).resolves.toContain(`invae ${c}`);
      expect(await p.page.locator('.vp-doc table').count(), `invae ${c}: options table`).toBeGreaterThan(0);
      await finish(p, `invae ${c}`, c === 'train' ? 'cli-train.png' : undefined);
    }
  });

  it('API reference: an index and a page per package', async () => {
    const v = await visit('/reference/api/');
    for (const name of ['@invae/core', '@invae/priors', '@invae/io-anndata', '@invae/bench', '@invae/cli']) {
      await expect(v.page.locator('.vp-doc table').first().textContent()).resolves.toContain(name);
    }
    await finish(v, 'API index');
    for (const dir of ['core', 'priors', 'io-anndata', 'bench', 'cli']) {
      const p = await visit(`/reference/api/${dir}/`);
      await expect(p.page.locator('.vp-doc h1').first().textContent()).resolves.toContain(dir);
      expect(await p.page.locator('.vp-doc h2').count()).toBeGreaterThan(0);
      await finish(p, `API ${dir}`);
    }
    const invae = await visit('/reference/api/core/classes/Invae.html');
    await expect(invae.page.locator('.vp-doc').first().textContent()).resolves.toMatch(/setup[\s\S]*train[\s\S]*latent/);
    await finish(invae, 'API Invae');
  });

  it('benchmark page: a generated results table and its picture', async () => {
    const v = await visit('/benchmarks/');
    await expect(v.page.locator('.vp-doc h1').first().textContent()).resolves.toContain('Benchmark results');
    expect(await v.page.locator('.vp-doc table tbody tr').count()).toBeGreaterThan(0);
    const pictures = v.page.locator('.vp-doc img[src*="/benchmarks/"]');
    expect(await pictures.count()).toBeGreaterThan(0);
    for (let i = 0; i < (await pictures.count()); i++) await expectPicture(pictures.nth(i), `benchmark picture ${i}`);
    await finish(v, 'benchmarks', 'benchmarks.png');
  });

  it('navigation and the offline local search work', async () => {
    const v = await visit('/');
    await v.page.locator('.VPNavBar a', { hasText: 'CLI' }).first().click();
    await v.page.waitForURL(/\/reference\/cli\/(index\.html)?$/);
    await expect(v.page.locator('.vp-doc h1').first().textContent()).resolves.toContain('Command line reference');
    await v.page.locator('.VPNavBarSearch button').first().click();
    const input = v.page.locator('.VPLocalSearchBox input').first();
    await input.fill('Benchmarker');
    await v.page.locator('.VPLocalSearchBox .result').first().waitFor({ state: 'visible', timeout: 15_000 });
    expect(await v.page.locator('.VPLocalSearchBox .result').count()).toBeGreaterThan(0);
    await finish(v, 'navigation and search');
  });
});

describe.skipIf(!ready)('invae bench report in Chromium', () => {
  it('report.html: the results table has one row per method and every UMAP is a visible, non-empty picture', async () => {
    expect(existsSync(path.join(benchOut, 'report.html')), `invae bench wrote no report.html in ${benchOut}`).toBe(true);
    const v = await visit('/report/report.html');
    const table = v.page.locator('#results-table');
    await expect(table.isVisible()).resolves.toBe(true);
    const rows = table.locator('tr:has(td)');
    expect(await rows.count()).toBe(methods.length);
    for (const m of methods) await expect(rows.filter({ hasText: m }).count(), `row of ${m}`).resolves.toBe(1);
    const umaps = v.page.locator('.umap');
    const n = await umaps.count();
    expect(n, 'UMAP pictures (at least one per method)').toBeGreaterThanOrEqual(methods.length);
    for (let i = 0; i < n; i++) await expectPicture(umaps.nth(i), `UMAP ${i}`);
    await finish(v, 'report', 'report.png');
  });
});
