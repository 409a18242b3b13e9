#!/usr/bin/env node
// Generates the API reference (src/reference/api/**) with TypeDoc + typedoc-plugin-markdown +
// typedoc-vitepress-theme from each package's public entry point (packages/*/src/index.ts).
// Every warning is an error: an undocumented public export (validation.notDocumented), a broken
// {@link}, or a public signature that mentions a type the package does not export fails the build.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Application, Comment, CommentTag, Converter, ReflectionKind } from 'typedoc';
import { EXTERNAL_EXPORTS } from './check-docs.mjs';
import { docsRoot, fail, generated, mdText, packages, repoRoot, resetDir, srcDir, writeFileAtomic } from './lib.mjs';

/** TypeDoc options (exported for the checks). */
export function typedocOptions() {
  return {
    entryPoints: packages.map((p) => path.join(repoRoot, 'packages', p.dir, 'src', 'index.ts')),
    entryPointStrategy: 'resolve',
    tsconfig: path.join(docsRoot, 'tsconfig.typedoc.json'),
    plugin: ['typedoc-plugin-markdown', 'typedoc-vitepress-theme'],
    out: generated.api,
    name: 'API reference',
    docsRoot: srcDir,
    sidebar: { autoConfiguration: true, format: 'vitepress', pretty: true, collapsed: true },
    entryFileName: 'index',
    // Classes and interfaces get a page each; functions, variables and type aliases are documented on
    // their package's page (fewer, lighter pages: every page carries the sidebar).
    outputFileStrategy: 'members',
    membersWithOwnFile: ['Class', 'Interface', 'Enum'],
    readme: 'none',
    hidePageHeader: true,
    hideBreadcrumbs: false,
    useCodeBlocks: true,
    parametersFormat: 'table',
    interfacePropertiesFormat: 'table',
    classPropertiesFormat: 'table',
    typeAliasPropertiesFormat: 'table',
    enumMembersFormat: 'table',
    excludePrivate: true,
    excludeInternal: false, // @internal exports are still exports: they get a page too
    excludeExternals: true,
    disableSources: true,
    sort: ['kind', 'alphabetical'],
    groupOrder: [...API_GROUP_ORDER, '*'],
    validation: { notExported: true, invalidLink: true, notDocumented: true, rewrittenLink: true, unusedMergeModuleWith: true },
    treatWarningsAsErrors: true,
    treatValidationWarningsAsErrors: true,
    skipErrorChecking: true, // `npm run typecheck` type-checks the packages
    logLevel: 'Warn',
  };
}

/** Module names: TypeDoc derives `core/src` from the paths; the packages' names read better. */
function renameModules(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const mod of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const pkg = packages.find((p) => mod.name === `${p.dir}/src` || mod.name === p.dir);
      if (pkg) mod.name = pkg.dir;
    }
  });
}

/**
 * The API reference's sections, in reading order: what a user reaches for first comes first. Each public
 * export lands in the section of the source folder that declares it (first matching rule of its package);
 * error classes have their own section at the end. The README's one-minute use goes through the first
 * section of each package.
 */
export const API_GROUP_ORDER = ['Model', 'Data & AnnData', 'Training', 'Priors', 'Simulation', 'Prediction', 'Networks & losses', 'Engine', 'Benchmark', 'Metrics', 'Embeddings & neighbors', 'Preprocessing', 'Reports', 'Datasets', 'Command line', 'Plugins', 'Files & output', 'Errors'];

/** Per package: [pattern on the declaring file's path inside src/, section]; the last rule is the package's default. */
export const API_GROUP_RULES = {
  core: [
    [/^model\/|^persist\//, 'Model'],
    [/^(module|nn|likelihoods)\//, 'Networks & losses'],
    [/^(data|covariates)\/|^public-data|anndata/, 'Data & AnnData'],
    [/^(train|optim|parallel)\/|^public-train/, 'Training'],
    [/^prior\//, 'Priors'],
    [/^simulate\//, 'Simulation'],
    [/^predict\//, 'Prediction'],
    [/^(engine|tf|wasm|random|io|parity|version)/, 'Engine'],
    [/./, 'Model'],
  ],
  priors: [[/./, 'Priors']],
  'io-anndata': [[/./, 'Data & AnnData']],
  bench: [
    [/^pipeline\/|^benchmarker|^aggregate/, 'Benchmark'],
    [/^metrics\/|scores|kbet|lisi|silhouette|identifiab|invariant-prediction/, 'Metrics'],
    [/^(neighbors|embedding)\/|umap|pca|diffusion|neighbors|connectivit|distances/, 'Embeddings & neighbors'],
    [/^preprocess\/|hvg/, 'Preprocessing'],
    [/^report\/|svg|png|html|palette|table/, 'Reports'],
    [/^datasets\//, 'Datasets'],
    [/./, 'Benchmark'],
  ],
  common: [
    [/^matrix/, 'Data & AnnData'],
    [/./, 'Files & output'],
  ],
  cli: [
    [/plugin/, 'Plugins'],
    [/./, 'Command line'],
  ],
};

/** The section of one export: `Errors` for error classes, else the first rule matching its declaring file. */
export function apiGroup(pkgDir, fileInSrc, name, isClass) {
  if (isClass && /Error$/.test(name)) return 'Errors';
  const rules = API_GROUP_RULES[pkgDir] ?? [[/./, 'Model']];
  return rules.find(([re]) => re.test(fileInSrc))?.[1] ?? rules[rules.length - 1][1];
}

/** Per package: the exports a newcomer needs first, listed first in their section (the rest stay alphabetical). */
export const API_LEAD = {
  core: ['Invae', 'InvaeDataset', 'initEngine', 'simulate', 'TrainOptions'],
  'io-anndata': ['readH5ad', 'writeH5ad', 'openH5ad', 'AnnData'],
  bench: ['runBenchmark', 'Benchmarker'],
  priors: ['registerBuiltinPriors'],
};

/** Tags each package's top-level exports with `@group <section>` (see {@link API_GROUP_RULES}), before TypeDoc groups them. */
function groupBySection(app) {
  app.converter.on(
    Converter.EVENT_RESOLVE_END,
    (context) => {
      for (const mod of context.project.getReflectionsByKind(ReflectionKind.Module)) {
        const pkg = packages.find((p) => p.dir === mod.name);
        if (!pkg) continue;
        const srcRoot = path.join(repoRoot, 'packages', pkg.dir, 'src') + path.sep;
        for (const child of mod.children ?? []) {
          if (child.comment?.blockTags.some((t) => t.tag === '@group')) continue;
          const symbol = context.getSymbolFromReflection(child);
          const file = symbol?.declarations?.[0]?.getSourceFile().fileName;
          const inSrc = file && path.resolve(file).startsWith(srcRoot) ? path.resolve(file).slice(srcRoot.length).replace(/\\/g, '/') : '';
          const group = apiGroup(pkg.dir, inSrc, child.name, child.kindOf(ReflectionKind.Class));
          child.comment ??= new Comment();
          child.comment.blockTags.push(new CommentTag('@group', [{ kind: 'text', text: group }]));
        }
      }
    },
    0,
  );
  // After TypeDoc's own grouping (priority -100): the lead exports first within their section.
  app.converter.on(
    Converter.EVENT_RESOLVE_END,
    (context) => {
      for (const mod of context.project.getReflectionsByKind(ReflectionKind.Module)) {
        const lead = API_LEAD[mod.name] ?? [];
        const rank = (r) => (lead.includes(r.name) ? lead.indexOf(r.name) : lead.length);
        for (const group of mod.groups ?? []) {
          group.children = group.children.map((c, i) => [c, i]).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map(([c]) => c);
        }
      }
    },
    -200,
  );
}

/** Runs TypeDoc; returns the number of problems (0 = success). */
export async function generateApiReference() {
  for (const p of packages) {
    const entry = path.join(repoRoot, 'packages', p.dir, 'src', 'index.ts');
    if (!existsSync(entry)) fail(`${p.name} has no public entry point ${path.relative(repoRoot, entry)}`);
  }
  resetDir(generated.api);
  const app = await Application.bootstrapWithPlugins(typedocOptions());
  renameModules(app);
  groupBySection(app);
  const project = await app.convert();
  if (!project) return Math.max(1, app.logger.errorCount);
  app.validate(project);
  // Pages are written even when validation failed, so the problems can be seen in context; the
  // caller still fails.
  await app.generateOutputs(project);
  writeIndexAndSidebar();
  return app.logger.errorCount + app.logger.warningCount;
}

/** Replaces TypeDoc's index with one listing the packages by name, and names the sidebar groups after them. */
function writeIndexAndSidebar() {
  const lines = [
    '---',
    'title: API reference',
    '---',
    '<!-- Generated by apps/docs/scripts/api-reference.mjs (TypeDoc) from the packages\' TSDoc. Do not edit. -->',
    '',
    '# API reference',
    '',
    "Generated by TypeDoc from the TSDoc comments of each package's public entry point (`src/index.ts`).",
    '',
    '| package | version | what it holds |',
    '| --- | --- | --- |',
  ];
  for (const p of packages) {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'packages', p.dir, 'package.json'), 'utf8'));
    lines.push(`| [\`${p.name}\`](./${p.dir}/index.md) | ${mdText(pkg.version)} | ${mdText(pkg.description)} |`);
  }
  const external = Object.entries(EXTERNAL_EXPORTS).flatMap(([pkg, names]) => Object.entries(names).map(([name, url]) => `- \`${name}\` of \`${pkg}\` is the TensorFlow.js namespace itself (the same engine instance invae uses): see the [TensorFlow.js API](${url}).`));
  if (external.length) lines.push('', '## Re-exported libraries', '', ...external);
  writeFileAtomic(path.join(generated.api, 'index.md'), `${lines.join('\n')}\n`);

  // One sidebar per package (its classes and interfaces), plus links to the other packages: a single
  // sidebar of every symbol would be repeated in every page of the site's API section.
  const sidebar = JSON.parse(readFileSync(path.join(generated.api, 'typedoc-sidebar.json'), 'utf8'));
  const byDir = new Map(sidebar.map((item) => [item.text, item]));
  const links = packages.map((p) => ({ text: p.name, link: `/reference/api/${p.dir}/` }));
  const sidebars = { '/reference/api/': [{ text: 'API reference', link: '/reference/api/', items: links }] };
  for (const p of packages) {
    const item = byDir.get(p.dir);
    if (!item) fail(`TypeDoc wrote no sidebar entry for ${p.name}`);
    sidebars[`/reference/api/${p.dir}/`] = [
      { text: 'API reference', link: '/reference/api/', items: links.filter((l) => l.text !== p.name) },
      { text: p.name, link: `/reference/api/${p.dir}/`, items: (item.items ?? []).map((g) => ({ ...g, collapsed: false })) },
    ];
  }
  writeFileAtomic(path.join(generated.api, 'api-sidebars.json'), `${JSON.stringify(sidebars, null, 2)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = performance.now();
  const problems = await generateApiReference();
  if (problems) fail(`TypeDoc reported ${problems} problem(s) (listed above)`, 'document every public export with a TSDoc comment, and export every type a public signature uses');
  process.stdout.write(`api reference: ${path.relative(docsRoot, generated.api)} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
}
