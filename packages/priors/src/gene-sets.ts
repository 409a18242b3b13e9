import { readFile } from 'node:fs/promises';
import { GeneSetFormatError } from './errors';

/** Gene programs by name: each a list of gene (var) names. */
export type GeneSets = Readonly<Record<string, readonly string[]>>;

function addSet(out: Record<string, string[]>, source: string, name: string, genes: string[], line?: number): void {
  if (Object.prototype.hasOwnProperty.call(out, name)) throw new GeneSetFormatError(source, `gene set '${name}' is defined twice`, { line });
  if (genes.length === 0) throw new GeneSetFormatError(source, `gene set '${name}' has no genes`, { line });
  out[name] = [...new Set(genes)];
}

/**
 * Parses the GMT format of MSigDB / Enrichr: one gene set per line, tab-separated — name,
 * description (ignored, may be empty), then the genes. Blank lines and lines starting with `#` are
 * skipped; duplicate genes within a set are dropped.
 * @throws GeneSetFormatError naming the line of a set without genes or a repeated name.
 */
export function parseGmt(text: string, source = '<gmt>'): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    if (raw.trim() === '' || raw.startsWith('#')) return;
    const fields = raw.split('\t');
    const name = fields[0]!.trim();
    if (!name) throw new GeneSetFormatError(source, 'a gene set has an empty name', { line: i + 1 });
    if (fields.length < 3) {
      throw new GeneSetFormatError(source, `gene set '${name}' has no genes (GMT lines are: name TAB description TAB gene TAB gene …)`, { line: i + 1, hint: 'separate fields with tabs, not spaces' });
    }
    addSet(out, source, name, fields.slice(2).map((g) => g.trim()).filter((g) => g !== ''), i + 1);
  });
  if (Object.keys(out).length === 0) throw new GeneSetFormatError(source, 'no gene sets found');
  return out;
}

/**
 * Checks a JSON-like map `{ name: [gene, …] }` and returns a clean copy (duplicate genes dropped).
 * @throws GeneSetFormatError for anything else.
 */
export function checkGeneSets(value: unknown, source = '<map>'): Record<string, string[]> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GeneSetFormatError(source, 'expected an object mapping each program name to an array of gene names');
  }
  const out: Record<string, string[]> = {};
  for (const [name, genes] of Object.entries(value as Record<string, unknown>)) {
    if (!Array.isArray(genes) || genes.some((g) => typeof g !== 'string')) throw new GeneSetFormatError(source, `gene set '${name}' must be an array of gene names`);
    addSet(out, source, name, genes as string[]);
  }
  if (Object.keys(out).length === 0) throw new GeneSetFormatError(source, 'no gene sets found');
  return out;
}

/**
 * Reads gene sets from a `.gmt` file or a `.json` map (`{ "program": ["GENE1", …] }`); other
 * extensions are sniffed (a leading `{` means JSON).
 * @throws GeneSetFormatError; the file system's error when the file cannot be read.
 */
export async function readGeneSets(path: string): Promise<Record<string, string[]>> {
  const text = await readFile(path, 'utf8');
  const isJson = /\.json$/i.test(path) || (!/\.gmt$/i.test(path) && text.trimStart().startsWith('{'));
  if (!isJson) return parseGmt(text, path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new GeneSetFormatError(path, `not valid JSON (${(e as Error).message})`);
  }
  return checkGeneSets(parsed, path);
}
