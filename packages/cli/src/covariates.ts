/** Warnings about covariates given on the command line that are probably not what the user meant. */

/** More distinct values than this make a numeric column suspicious as a categorical covariate. */
export const MAX_NUMERIC_CATEGORIES = 100;
/** From this many distinct values on, a numeric column with more distinct values than half the cells is suspicious too. */
const MIN_DISTINCT_FOR_RATIO = 20;

function isMissing(v: unknown): boolean {
  return v === null || v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v));
}

function isNumeric(v: unknown): boolean {
  if (typeof v === 'number' || typeof v === 'bigint') return true;
  return typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v));
}

/**
 * Why a column looks continuous rather than categorical, or null. The rule: every non-missing value
 * is a number (or a numeric string) and the column has more than {@link MAX_NUMERIC_CATEGORIES}
 * distinct values, or more distinct values than half its cells (fewer than two cells per category
 * on average) with at least 20 of them. A categorical covariate is one-hot encoded, one category
 * per distinct value: then most categories hold a cell or two, from which nothing is learned.
 */
export function continuousLooking(values: ArrayLike<unknown>): { distinct: number; cells: number } | null {
  const seen = new Set<string>();
  let cells = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isMissing(v)) continue;
    if (!isNumeric(v)) return null;
    cells++;
    seen.add(String(Number(v)));
  }
  const distinct = seen.size;
  if (distinct > MAX_NUMERIC_CATEGORIES || (distinct >= MIN_DISTINCT_FOR_RATIO && distinct > cells / 2)) return { distinct, cells };
  return null;
}

/** Covariate keys by command-line flag. */
export interface CovariateFlags {
  inv?: readonly string[];
  invCont?: readonly string[];
  spur?: readonly string[];
  spurCont?: readonly string[];
}

/**
 * One warning line per suspicious covariate: a key that is both invariant and spurious, and a
 * categorical key whose column looks continuous (see {@link continuousLooking}). Keys missing from
 * `obs` are left to the model's own validation.
 */
export function covariateWarnings(obs: Readonly<Record<string, ArrayLike<unknown> | undefined>>, flags: CovariateFlags): string[] {
  const lines: string[] = [];
  const inv = [...(flags.inv ?? []), ...(flags.invCont ?? [])];
  const spur = [...(flags.spur ?? []), ...(flags.spurCont ?? [])];
  for (const key of new Set(inv.filter((k) => spur.includes(k)))) {
    lines.push(`'${key}' is both an invariant (--inv) and a spurious (--spur) covariate; both latent blocks then condition on it, so it cannot separate them.`);
  }
  for (const [flag, keys, cont] of [
    ['--inv', flags.inv, '--inv-cont'],
    ['--spur', flags.spur, '--spur-cont'],
  ] as const) {
    for (const key of new Set(keys ?? [])) {
      const col = obs[key];
      const c = col ? continuousLooking(col) : null;
      if (c) lines.push(categoricalWarning(flag, key, c, `pass it with ${cont} if it is a continuous covariate`));
    }
  }
  return lines;
}

/** The warning for a numeric column with many distinct values used as categories. */
export function categoricalWarning(flag: string, key: string, c: { distinct: number; cells: number }, advice: string): string {
  return `${flag} '${key}' is numeric with ${c.distinct} distinct values in ${c.cells} cells but is used as categories (one per value); ${advice}.`;
}

/** Writes each warning as one `invae: warning:` line on stderr. */
export function printWarnings(lines: readonly string[]): void {
  for (const l of lines) process.stderr.write(`invae: warning: ${l}\n`);
}
