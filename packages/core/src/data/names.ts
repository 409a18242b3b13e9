/** Names that occur more than once in `names`, each once, in order of first repetition. */
export function duplicateNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) dups.add(n);
    else seen.add(n);
  }
  return [...dups];
}

/** "A, B, C, … (N in all)": the first few of a list of names, for messages. */
export function nameList(names: readonly string[], first = 5): string {
  const shown = names.slice(0, first).map((n) => JSON.stringify(n)).join(', ');
  return names.length > first ? `${shown}, … (${names.length} in all)` : shown;
}

/** Hint for duplicated gene (var) names. */
export const UNIQUE_GENES_HINT = 'make the var names unique first (anndata: adata.var_names_make_unique()), or drop the duplicated genes';
