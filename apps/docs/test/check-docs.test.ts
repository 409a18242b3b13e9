import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCommandLines, externalResources, invaeArgs, shellWords } from '../scripts/check-docs.mjs';

// The checks that make the docs build fail: command lines in the pages must parse with the real
// command definitions, and the built site must load nothing from elsewhere.
const dir = mkdtempSync(path.join(os.tmpdir(), 'invae-docs-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('shell lines in the pages', () => {
  it('splits words as sh does and finds the invae arguments', () => {
    expect(shellWords(`invae train a.h5ad --inv-prior-options '{"x": 1}' --out "m d" # comment`)).toEqual(['invae', 'train', 'a.h5ad', '--inv-prior-options', '{"x": 1}', '--out', 'm d']);
    expect(invaeArgs(shellWords('INVAE_BACKEND=wasm invae info --engine'))).toEqual(['info', '--engine']);
    expect(invaeArgs(shellWords('npx -p @invae/cli invae --help'))).toEqual(['--help']);
    expect(invaeArgs(shellWords('node packages/cli/bin/invae.js demo'))).toEqual(['demo']);
    expect(invaeArgs(shellWords('npm ci'))).toBeNull();
  });

  it('accepts real commands and reports unknown commands, unknown options, missing options and bad values', async () => {
    const page = path.join(dir, 'page.md');
    writeFileSync(
      page,
      [
        '```sh',
        'invae simulate --out sim.h5ad --cells 100',
        'invae train sim.h5ad --inv cell_type --spur batch \\',
        '  --epochs 3 --out model/',
        'invae --version',
        'invae trian sim.h5ad',
        'invae train sim.h5ad --out m --colour red',
        'invae bench sim.h5ad --label cell_type --out b',
        'invae simulate --out s.h5ad --likelihood gamma',
        '```',
        '',
      ].join('\n'),
    );
    const problems: string[] = [];
    const n = await checkCommandLines(problems, [page]);
    expect(n).toBe(7);
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/invae trian .*unknown command 'trian'/);
    expect(problems[1]).toMatch(/--colour red.*unknown option '--colour'/);
    expect(problems[2]).toMatch(/required option '--batch <key>' not specified/);
    expect(problems[3]).toMatch(/argument 'gamma' is invalid/);
  });
});

describe('offline site', () => {
  it('flags scripts, stylesheets, images and fonts loaded from other hosts, not links', () => {
    const site = path.join(dir, 'site');
    rmSync(site, { recursive: true, force: true });
    mkdirSync(site, { recursive: true });
    writeFileSync(
      path.join(site, 'index.html'),
      '<link rel="stylesheet" href="https://cdn.example.com/x.css"><script src="/assets/app.js"></script><img src="//img.example.com/a.png"><a href="https://arxiv.org/abs/2307.00558">paper</a>',
    );
    writeFileSync(path.join(site, 'style.css'), "@import 'https://fonts.example.com/inter.css'; .a{background:url(/local.png)}");
    const found: string[] = externalResources(site);
    expect(found).toHaveLength(3);
    expect(found.join('\n')).toMatch(/cdn\.example\.com[\s\S]*img\.example\.com[\s\S]*fonts\.example\.com/);
  });
});

describe('API reference sections', () => {
  it('places each export by the folder that declares it, error classes last', async () => {
    const { apiGroup, API_GROUP_ORDER } = await import('../scripts/api-reference.mjs');
    expect(apiGroup('core', 'model/invae.ts', 'Invae', true)).toBe('Model');
    expect(apiGroup('core', 'module/networks.ts', 'Decoder', true)).toBe('Networks & losses');
    expect(apiGroup('core', 'train/trainer.ts', 'TrainOptions', false)).toBe('Training');
    expect(apiGroup('core', 'errors.ts', 'InvalidOptionError', true)).toBe('Errors');
    expect(apiGroup('bench', 'metrics/lisi.ts', 'ilisi', false)).toBe('Metrics');
    expect(apiGroup('io-anndata', 'read.ts', 'readH5ad', false)).toBe('Data & AnnData');
    expect(apiGroup('common', 'matrix.ts', 'CsrMatrix', false)).toBe('Data & AnnData');
    expect(apiGroup('common', 'atomic-output.ts', 'writeFileAtomic', false)).toBe('Files & output');
    expect(API_GROUP_ORDER.slice(0, 3)).toEqual(['Model', 'Data & AnnData', 'Training']);
    expect(API_GROUP_ORDER.at(-1)).toBe('Errors');
  });

  it('the built sidebar of @invae/core opens with the Model section and the Invae class', () => {
    // docs:build (the test target's dependency) generated it from the packages' sources.
    const file = path.join(path.dirname(new URL(import.meta.url).pathname), '../src/reference/api/api-sidebars.json');
    const sidebars = JSON.parse(readFileSync(file, 'utf8'));
    const sections = sidebars['/reference/api/core/'][1].items;
    expect(sections[0].text).toBe('Model');
    expect(sections[0].items[0].text).toBe('Invae');
    expect(sections.at(-1).text).toBe('Errors');
  });
});
