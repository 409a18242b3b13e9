import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type DefaultTheme } from 'vitepress';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.resolve(here, '..');

/** A sidebar written by a generator (scripts/cli-reference.mjs, TypeDoc); the build checks it exists. */
function generated<T>(file: string): T {
  const p = path.join(src, file);
  if (!existsSync(p)) throw new Error(`${p} is missing: run \`node scripts/build.mjs\` (or npx nx run docs:docs:build), which generates it.`);
  return JSON.parse(readFileSync(p, 'utf8')) as T;
}

const guide: DefaultTheme.SidebarItem[] = [
  {
    text: 'Guide',
    items: [
      { text: 'What is inVAE?', link: '/guide/what-is-invae' },
      { text: 'Install', link: '/guide/install' },
      { text: 'Quick start', link: '/guide/quick-start' },
      { text: 'Benchmark matrices: seeds, shards, Snakemake', link: '/guide/benchmark-matrix' },
      { text: 'Expression and differential expression', link: '/guide/expression-de' },
      { text: 'Atlas scale: training from disk', link: '/guide/atlas-scale' },
    ],
  },
  {
    text: 'Tutorials',
    items: [
      { text: 'Integrate a dataset', link: '/tutorials/integrate' },
      { text: 'Invariant classifier on a new batch', link: '/tutorials/predict-new-batch' },
      { text: 'Disease, treatment and gene-program priors', link: '/tutorials/priors' },
      { text: 'Benchmark against Python embeddings', link: '/tutorials/benchmark' },
      { text: 'CellBench lung: real outputs', link: '/tutorials/cellbench-lung' },
      { text: 'Paul15 hematopoiesis: real outputs', link: '/tutorials/hematopoiesis' },
      { text: 'After integration: expression, DE, mapping (real data)', link: '/tutorials/after-integration' },
    ],
  },
  {
    text: 'Extending',
    items: [{ text: 'Writing a prior plugin', link: '/plugins/writing-a-prior-plugin' }],
  },
  {
    text: 'Results',
    items: [
      { text: 'Benchmark results', link: '/benchmarks/' },
      { text: 'Integration study: the default preset', link: '/guide/integration-study' },
    ],
  },
];

export default defineConfig({
  title: 'invae',
  description: 'Conditionally invariant representation learning (inVAE) for single-cell data, in TypeScript.',
  lang: 'en-GB',
  base: process.env.INVAE_DOCS_BASE ?? '/',
  outDir: '../dist',
  cleanUrls: false,
  lastUpdated: false,
  // Dead links fail the build (VitePress' default; never set ignoreDeadLinks).
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: `${process.env.INVAE_DOCS_BASE ?? '/'}invae-logo.svg` }]],
  markdown: { languageAlias: { mjs: 'js', cjs: 'js' } },
  vite: { build: { chunkSizeWarningLimit: 2000 } },
  themeConfig: {
    logo: '/invae-logo.svg',
    nav: [
      { text: 'Guide', link: '/guide/what-is-invae', activeMatch: '^/(guide|tutorials|plugins)/' },
      { text: 'CLI', link: '/reference/cli/', activeMatch: '^/reference/cli/' },
      { text: 'API', link: '/reference/api/', activeMatch: '^/reference/api/' },
      { text: 'Benchmarks', link: '/benchmarks/' },
    ],
    sidebar: {
      '/guide/': guide,
      '/tutorials/': guide,
      '/plugins/': guide,
      '/benchmarks/': guide,
      '/reference/cli/': [{ text: 'Command line', items: generated<DefaultTheme.SidebarItem[]>('reference/cli/cli-sidebar.json') }],
      ...generated<Record<string, DefaultTheme.SidebarItem[]>>('reference/api/api-sidebars.json'),
    },
    outline: { level: [2, 3] },
    search: { provider: 'local' },
    footer: { message: 'MIT licensed. inVAE: Aliee et al. 2023, arXiv:2307.00558.' },
  },
});
