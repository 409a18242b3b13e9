#!/usr/bin/env node
// Checks the docs sources before VitePress builds them, and the built site after:
//   - every command of createProgram() has its generated CLI reference page (and section);
//   - every package has its API reference, and every runtime export of its built entry point a page;
//   - the benchmark page was generated and holds a results table;
//   - every `invae …` command line in a shell block of a hand-written page parses with the real
//     command definitions (unknown commands or options, missing arguments and bad values fail);
//   - every `<<< file` snippet include points at an existing file;
//   - (--dist) the built HTML/CSS load nothing from outside the site (offline build).
// VitePress itself fails the build on dead links.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadCli, walkCommands, commandAnchor } from './cli-reference.mjs';
import { distDir, docsRoot, generated, packages, repoRoot, srcDir } from './lib.mjs';

/**
 * Runtime exports that have no API page because they re-export another library; the API index page
 * must mention them (it links to that library's documentation).
 */
export const EXTERNAL_EXPORTS = { '@invae/core': { tf: 'https://js.tensorflow.org/api/4.22.0/' } };

function filesUnder(dir, pred = () => true) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p, pred));
    else if (pred(p)) out.push(p);
  }
  return out;
}

async function checkCliPages(problems) {
  const { createProgram } = await loadCli();
  const program = createProgram();
  const index = path.join(generated.cli, 'index.md');
  if (!existsSync(index)) problems.push(`CLI reference: ${path.relative(docsRoot, index)} is missing`);
  for (const cmd of program.commands) {
    const page = path.join(generated.cli, `${cmd.name()}.md`);
    if (!existsSync(page)) {
      problems.push(`CLI reference: no page for \`invae ${cmd.name()}\` (${path.relative(docsRoot, page)})`);
      continue;
    }
    const text = readFileSync(page, 'utf8');
    if (!text.includes(`# invae ${cmd.name()} {#${cmd.name()}}`)) problems.push(`CLI reference: ${path.relative(docsRoot, page)} lacks the heading of \`invae ${cmd.name()}\``);
    for (const { names } of walkCommands(cmd, [cmd.name()])) {
      if (!text.includes(`{#${commandAnchor(names)}}`)) problems.push(`CLI reference: ${path.relative(docsRoot, page)} lacks the section of \`invae ${names.join(' ')}\``);
    }
    for (const opt of cmd.options) {
      if (!opt.hidden && !text.includes(opt.long ?? opt.short)) problems.push(`CLI reference: ${path.relative(docsRoot, page)} does not list ${opt.long ?? opt.short}`);
    }
    if (existsSync(index) && !readFileSync(index, 'utf8').includes(`(./${cmd.name()}.md)`)) problems.push(`CLI reference: the overview does not link to \`invae ${cmd.name()}\``);
  }
}

async function checkApiPages(problems) {
  const index = path.join(generated.api, 'index.md');
  if (!existsSync(index)) problems.push(`API reference: ${path.relative(docsRoot, index)} is missing`);
  const indexText = existsSync(index) ? readFileSync(index, 'utf8') : '';
  for (const p of packages) {
    const dir = path.join(generated.api, p.dir);
    if (!existsSync(path.join(dir, 'index.md'))) {
      problems.push(`API reference: no page for ${p.name} (${path.relative(docsRoot, path.join(dir, 'index.md'))})`);
      continue;
    }
    // Classes and interfaces have a page; functions, variables and type aliases a heading on the package page.
    const pages = new Set(filesUnder(dir, (f) => f.endsWith('.md')).map((f) => path.basename(f, '.md')));
    const headings = new Set([...readFileSync(path.join(dir, 'index.md'), 'utf8').matchAll(/^#{2,4} (.+)$/gm)].map((m) => m[1].replace(/\\/g, '').replace(/\(\)\s*$/, '').trim()));
    let mod;
    try {
      mod = await import(p.name);
    } catch (e) {
      problems.push(`API reference: cannot import the built ${p.name} (${e.message}); build the packages first`);
      continue;
    }
    const external = EXTERNAL_EXPORTS[p.name] ?? {};
    for (const name of Object.keys(mod)) {
      if (name === 'default' || name === '__esModule') continue;
      if (external[name]) {
        if (!indexText.includes(external[name])) problems.push(`API reference: ${p.name}'s export \`${name}\` re-exports another library; the API index must link to ${external[name]}`);
        continue;
      }
      if (!pages.has(name) && !headings.has(name)) problems.push(`API reference: ${p.name} exports \`${name}\`, which has no page (is it documented and exported from src/index.ts?)`);
    }
  }
}

function checkBenchPage(problems) {
  const page = path.join(generated.benchmarks, 'index.md');
  if (!existsSync(page)) return problems.push(`benchmark page ${path.relative(docsRoot, page)} is missing`);
  const text = readFileSync(page, 'utf8');
  if (!/^\| Method \|/m.test(text) && !/^\|[^\n]*Total[^\n]*\|$/m.test(text)) problems.push('benchmark page: no results table');
  for (const m of text.matchAll(/\]\((\/benchmarks\/[^)\s]+)\)|src="(\/benchmarks\/[^"]+)"/g)) {
    const asset = path.join(srcDir, 'public', m[1] ?? m[2]);
    if (!existsSync(asset)) problems.push(`benchmark page: ${m[1] ?? m[2]} is missing from public/`);
  }
}

/** Hand-written pages (generated folders excluded). */
function handWrittenPages() {
  const skip = [generated.cli, generated.api, generated.benchmarks, path.join(srcDir, '.vitepress')];
  return filesUnder(srcDir, (f) => f.endsWith('.md') && !skip.some((d) => f.startsWith(d + path.sep)));
}

/** Splits a shell line into words: quotes and backslashes as sh does for plain words; `#` starts a comment. */
export function shellWords(line) {
  const words = [];
  let cur = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const j = line.indexOf("'", i + 1);
      if (j < 0) throw new Error('unterminated single quote');
      cur = (cur ?? '') + line.slice(i + 1, j);
      i = j;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      for (; j < line.length && line[j] !== '"'; j++) s += line[j] === '\\' && /["\\$`]/.test(line[j + 1] ?? '') ? line[++j] : line[j];
      if (j >= line.length) throw new Error('unterminated double quote');
      cur = (cur ?? '') + s;
      i = j;
    } else if (c === '\\') {
      cur = (cur ?? '') + (line[++i] ?? '');
    } else if (/\s/.test(c)) {
      if (cur !== null) words.push(cur);
      cur = null;
    } else if (c === '#' && cur === null) {
      break;
    } else {
      cur = (cur ?? '') + c;
    }
  }
  if (cur !== null) words.push(cur);
  return words;
}

/** The invae arguments of a shell command line, or null when the line does not run invae. */
export function invaeArgs(words) {
  let w = [...words];
  while (w.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w[0])) w.shift(); // VAR=value prefixes
  if (w[0] === 'npx') {
    w.shift();
    while (w.length && w[0] !== 'invae') {
      const t = w.shift();
      if (t === '-p' || t === '--package') w.shift();
    }
  } else if (w[0] === 'node' && /invae(\.js)?$/.test(w[1] ?? '')) {
    w = ['invae', ...w.slice(2)];
  }
  return w[0] === 'invae' ? w.slice(1) : null;
}

/** A fresh command tree whose actions do nothing and whose errors throw instead of printing. */
async function parseOnlyProgram() {
  const { createProgram } = await loadCli();
  const program = createProgram();
  const silence = { writeOut: () => {}, writeErr: () => {}, outputError: () => {} };
  for (const c of [program, ...walkCommands(program).map((e) => e.cmd)]) {
    c.exitOverride();
    c.configureOutput(silence);
    if (c !== program) c.action(() => {});
  }
  return program;
}

/** Parses every `invae …` line of the shell blocks of `pages` (default: the hand-written pages); returns how many. */
export async function checkCommandLines(problems, pages = handWrittenPages()) {
  let checked = 0;
  for (const page of pages) {
    const text = readFileSync(page, 'utf8');
    for (const block of text.matchAll(/^```(?:sh|bash|shell|console)\b[^\n]*\n([\s\S]*?)^```/gm)) {
      const lines = block[1].replace(/\\\n\s*/g, ' ').split('\n');
      for (const raw of lines) {
        const line = raw.replace(/^\$\s+/, '').trim();
        if (!line) continue;
        let args;
        try {
          args = invaeArgs(shellWords(line));
        } catch (e) {
          problems.push(`${path.relative(docsRoot, page)}: cannot read the shell line \`${line}\` (${e.message})`);
          continue;
        }
        if (!args) continue;
        checked++;
        const program = await parseOnlyProgram();
        try {
          await program.parseAsync(args, { from: 'user' });
        } catch (e) {
          const ok = ['commander.help', 'commander.helpDisplayed', 'commander.version'].includes(e.code);
          if (!ok) problems.push(`${path.relative(docsRoot, page)}: \`${line}\` does not parse with the invae command definitions: ${e.message}`);
        }
      }
    }
  }
  return checked;
}

function checkSnippetIncludes(problems) {
  for (const page of handWrittenPages()) {
    for (const m of readFileSync(page, 'utf8').matchAll(/^<<<\s+(\S+)/gm)) {
      const ref = m[1].replace(/[{#].*$/, '');
      const file = ref.startsWith('@/') ? path.join(srcDir, ref.slice(2)) : path.resolve(path.dirname(page), ref);
      if (!existsSync(file)) problems.push(`${path.relative(docsRoot, page)}: included file ${ref} does not exist`);
    }
  }
}

/** Resource URLs of the built site that point outside it (an offline site loads nothing from elsewhere). */
export function externalResources(dir = distDir) {
  const found = [];
  const remote = /^(?:[a-z][a-z0-9+.-]*:)?\/\//i;
  for (const f of filesUnder(dir, (p) => p.endsWith('.html'))) {
    const html = readFileSync(f, 'utf8');
    for (const m of html.matchAll(/<(script|link|img|iframe|source|video|audio|embed|object)\b[^>]*?\s(?:src|href|data|srcset)=["']([^"']+)["'][^>]*>/gi)) {
      const [tag, kind, url] = m;
      if (kind.toLowerCase() === 'link' && /rel=["'](?:canonical|alternate)["']/i.test(tag)) continue;
      if (remote.test(url.trim())) found.push(`${path.relative(dir, f)}: <${kind}> ${url}`);
    }
  }
  for (const f of filesUnder(dir, (p) => p.endsWith('.css'))) {
    const css = readFileSync(f, 'utf8');
    for (const m of css.matchAll(/(?:url\(\s*["']?|@import\s+["'])([^"')\s]+)/gi)) if (remote.test(m[1])) found.push(`${path.relative(dir, f)}: ${m[1]}`);
  }
  return found;
}

/** Runs the source checks; returns the problems found. */
export async function checkSources() {
  const problems = [];
  await checkCliPages(problems);
  await checkApiPages(problems);
  checkBenchPage(problems);
  checkSnippetIncludes(problems);
  const n = await checkCommandLines(problems);
  if (n === 0) problems.push('no `invae …` command line found in the hand-written pages (is the shell-block scan broken?)');
  return { problems, commandLines: n };
}

/** Checks the built site; returns the problems found. */
export function checkDist() {
  const problems = [];
  if (!existsSync(path.join(distDir, 'index.html'))) return [`${path.relative(repoRoot, distDir)}/index.html is missing`];
  for (const r of externalResources()) problems.push(`external resource in the built site: ${r}`);
  const pages = filesUnder(distDir, (p) => p.endsWith('.html'));
  for (const p of packages) if (!existsSync(path.join(distDir, 'reference', 'api', p.dir, 'index.html'))) problems.push(`built site lacks the API page of ${p.name}`);
  if (!existsSync(path.join(distDir, 'reference', 'cli', 'index.html'))) problems.push('built site lacks the CLI reference');
  if (!pages.length || statSync(path.join(distDir, 'index.html')).size === 0) problems.push('built site is empty');
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { problems, commandLines } = await checkSources();
  if (process.argv.includes('--dist')) problems.push(...checkDist());
  for (const p of problems) process.stderr.write(`docs check: ${p}\n`);
  if (problems.length) process.exit(1);
  process.stdout.write(`docs check: ok (${commandLines} invae command lines parsed)\n`);
}
