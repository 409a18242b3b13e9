// Helpers shared by the docs generators: paths, atomic writes, Markdown escaping.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** apps/docs */
export const docsRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The repository root. */
export const repoRoot = path.resolve(docsRoot, '../..');
/** VitePress source folder (pages). */
export const srcDir = path.join(docsRoot, 'src');
/** Built site. */
export const distDir = path.join(docsRoot, 'dist');

/** Generated folders (git-ignored; written by the generators, checked by check-docs.mjs). */
export const generated = {
  cli: path.join(srcDir, 'reference', 'cli'),
  api: path.join(srcDir, 'reference', 'api'),
  benchmarks: path.join(srcDir, 'benchmarks'),
  benchmarkAssets: path.join(srcDir, 'public', 'benchmarks'),
};

/** The published packages whose API reference is generated, in sidebar order. */
export const packages = [
  { name: '@invae/core', dir: 'core' },
  { name: '@invae/priors', dir: 'priors' },
  { name: '@invae/io-anndata', dir: 'io-anndata' },
  { name: '@invae/bench', dir: 'bench' },
  { name: '@invae/cli', dir: 'cli' },
  { name: '@invae/common', dir: 'common' },
];

/** Writes `text` to `file` through a temporary file in the same folder and a rename. */
export function writeFileAtomic(file, text) {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Empties (re-creates) a generated folder. */
export function resetDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

/**
 * Escapes text for a Markdown table cell or paragraph rendered by VitePress: HTML special characters
 * (VitePress pages are Vue templates, so `<file>` would be a tag), pipes, and Vue's `{{`.
 */
export function mdText(s) {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/\{\{/g, '&#123;&#123;')
    .replace(/\r?\n/g, ' ');
}

/** Inline code for a table cell: backticks are safe from Vue and HTML; pipes still need escaping. */
export function mdCode(s) {
  const t = String(s).replace(/\|/g, '\\|');
  return t.includes('`') ? `\`\` ${t} \`\`` : `\`${t}\``;
}

/** Prints a one-line error with a hint and exits non-zero. */
export function fail(what, hint) {
  process.stderr.write(`docs: ${what}${hint ? `\n  hint: ${hint}` : ''}\n`);
  process.exit(1);
}
