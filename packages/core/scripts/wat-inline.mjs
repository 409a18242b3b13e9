// Inlines, at build time, the WebAssembly text functions marked with a `;; @inline` line just before
// their `(func $name …`: every `(call $name args…)` elsewhere becomes a block that sets the callee's
// parameters (renamed locals of the caller) and runs its body, its `return`s branching out of the
// block. V8 does not inline WebAssembly calls, and a call in an inner loop costs ~3 ns (live vector
// registers are spilled around it); the arithmetic is unchanged, so results are identical.

/** Index just past the s-expression that opens at `i` (`text[i] === '('`), skipping `;;` comments and strings. */
export function skipExpr(text, i) {
  let depth = 0;
  for (let k = i; k < text.length; k++) {
    const ch = text[k];
    if (ch === ';' && text[k + 1] === ';') {
      k = text.indexOf('\n', k);
      if (k < 0) break;
    } else if (ch === '"') {
      k = text.indexOf('"', k + 1);
    } else if (ch === '(') depth++;
    else if (ch === ')') {
      depth--;
      if (depth === 0) return k + 1;
    }
  }
  throw new Error(`wat-inline: unbalanced expression at offset ${i}`);
}

/** The top-level child expressions (start, end) of the expression spanning [start, end). */
export function children(text, start, end) {
  const out = [];
  for (let k = start + 1; k < end - 1; k++) {
    const ch = text[k];
    if (ch === ';' && text[k + 1] === ';') k = text.indexOf('\n', k);
    else if (ch === '(') {
      const e = skipExpr(text, k);
      out.push([k, e]);
      k = e - 1;
    }
  }
  return out;
}

const MARK = /;;\s*@inline\s*\n\s*\(func (\$[\w.]+)/g;

/** The marked functions: name, parameters and locals ([name, type]), result type, body text. */
function markedFunctions(text) {
  const fns = new Map();
  for (const m of text.matchAll(MARK)) {
    const start = m.index + m[0].lastIndexOf('(func');
    const end = skipExpr(text, start);
    const vars = [];
    let result = null;
    let bodyFrom = null;
    for (const [s, e] of children(text, start, end)) {
      const t = text.slice(s, e);
      const decl = /^\((param|local) (\$[\w.]+) (\w+)\)$/.exec(t);
      if (decl && bodyFrom === null) vars.push([decl[2], decl[3]]);
      else if (/^\(result \w+\)$/.test(t) && bodyFrom === null) result = t.slice(8, -1);
      else if (/^\(export /.test(t) && bodyFrom === null) continue;
      else if (bodyFrom === null) bodyFrom = s;
    }
    // parameters come first, then locals
    const params = vars.slice(0, [...text.slice(start, end).matchAll(/\(param \$[\w.]+ \w+\)/g)].length);
    fns.set(m[1], { name: m[1], vars, params, result, body: bodyFrom === null ? '' : text.slice(bodyFrom, end - 1).trimEnd(), start, end });
  }
  return fns;
}

/** `name` with the callee's prefix (a local of the caller). */
const renamed = (fn, v) => `$__${fn.name.slice(1)}_${v.slice(1)}`;

/** The inline form of one call to `fn` with argument texts `args`, its block labelled `label`. */
function expand(fn, args, label) {
  const names = new Set(fn.vars.map(([v]) => v));
  const body = fn.body
    .replace(/\$[\w.]+/g, (v) => (names.has(v) ? renamed(fn, v) : v))
    .replace(/\(return\)/g, `(br ${label})`)
    .replace(/\(return /g, `(br ${label} `);
  const sets = fn.params.map(([p], i) => `(local.set ${renamed(fn, p)} ${args[i]})`).join(' ');
  return `(block ${label}${fn.result ? ` (result ${fn.result})` : ''} ${sets}\n${body})`;
}

/**
 * `text` (a WebAssembly text module) with every call to a `;; @inline` function replaced by its body
 * (see the module comment). The marked functions stay defined (exports and the binary's other users
 * may still call them). Inlined functions must not call each other.
 */
export function inlineMarked(text) {
  const fns = markedFunctions(text);
  if (fns.size === 0) return text;
  let out = '';
  let at = 0;
  let sites = 0;
  // every function of the module, in order; calls inside the marked ones are left alone
  for (const m of text.matchAll(/\(func[\s$(]/g)) {
    const start = m.index;
    if (start < at) continue;
    const end = skipExpr(text, start);
    const own = [...fns.values()].find((f) => f.start === start);
    out += text.slice(at, start);
    at = end;
    const fnText = text.slice(start, end);
    if (own) {
      out += fnText;
      continue;
    }
    const used = new Set();
    let rewritten = '';
    let k = 0;
    const callRe = /\(call (\$[\w.]+)[\s)]/g;
    for (let c = callRe.exec(fnText); c; c = callRe.exec(fnText)) {
      const fn = fns.get(c[1]);
      if (!fn) continue;
      // skip calls inside comments
      const lineStart = fnText.lastIndexOf('\n', c.index) + 1;
      if (fnText.slice(lineStart, c.index).includes(';;')) continue;
      const callEnd = skipExpr(fnText, c.index);
      const args = children(fnText, c.index, callEnd).map(([s, e]) => fnText.slice(s, e));
      if (args.length !== fn.params.length) throw new Error(`wat-inline: ${c[1]} takes ${fn.params.length} arguments, a call passes ${args.length} (parenthesised) ones`);
      rewritten += fnText.slice(k, c.index) + expand(fn, args, `$__inline${sites++}`);
      k = callEnd;
      callRe.lastIndex = callEnd;
      used.add(fn);
    }
    rewritten += fnText.slice(k);
    if (used.size === 0) {
      out += fnText;
      continue;
    }
    // the callees' parameters and locals, declared before the caller's first instruction
    const decls = [...used].flatMap((fn) => fn.vars.map(([v, t]) => `(local ${renamed(fn, v)} ${t})`)).join(' ');
    let insertAt = null;
    for (const [s, e] of children(rewritten, 0, rewritten.length)) {
      if (!/^\((param|result|local|export) /.test(rewritten.slice(s, e))) {
        insertAt = s;
        break;
      }
    }
    if (insertAt === null) throw new Error('wat-inline: a caller without instructions');
    out += `${rewritten.slice(0, insertAt)}${decls}\n    ${rewritten.slice(insertAt)}`;
  }
  return out + text.slice(at);
}
