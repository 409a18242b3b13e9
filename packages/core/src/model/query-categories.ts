import { InvalidOptionError } from '../errors';
import { CategoricalEncoder } from '../covariates/categorical';
import { CovariateEncoder, type CovariateColumns } from '../covariates/composite';

/**
 * The categories of the categorical keys of `reference` that occur in `obs` but not among the
 * categories the encoder was fitted on (e.g. the batches of a query dataset), as an encoder of
 * those categories only (one-hot, per key in the reference's key order, categories sorted as
 * {@link CategoricalEncoder.fit} sorts them); null when there are none. Keys with no new category
 * are left out; missing values are ignored.
 * @throws InvalidOptionError when `obs` lacks a categorical key of the reference.
 */
export function queryCategoryEncoder(reference: CovariateEncoder, obs: CovariateColumns): CovariateEncoder | null {
  const encoders: { type: 'categorical'; column: string; categories: string[] }[] = [];
  for (const key of reference.keys) {
    const known = reference.categoriesOf(key);
    if (!known) continue;
    const col = obs[key];
    if (col === undefined) {
      throw new InvalidOptionError('query', `The query's obs has no column '${key}', the spurious covariate whose new categories a mapping learns.`, {
        hint: `add obs['${key}'] (the query's batch of every cell) to the query`,
      });
    }
    const seen = new Set(known);
    const fresh: (string | number)[] = [];
    for (let i = 0; i < col.length; i++) {
      const v = col[i];
      if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) continue;
      if (!seen.has(String(v))) fresh.push(v as string | number);
    }
    if (fresh.length) encoders.push(CategoricalEncoder.fit(key, fresh).toJSON());
  }
  return encoders.length ? CovariateEncoder.fromJSON({ format: 'invae-covariates', version: 1, encoders }) : null;
}

/** Per categorical key of `encoder`, its categories as a set (the categories another encoder leaves to it). */
export function categorySets(encoder: CovariateEncoder): Record<string, ReadonlySet<string>> {
  const out: Record<string, ReadonlySet<string>> = {};
  for (const key of encoder.keys) {
    const cats = encoder.categoriesOf(key);
    if (cats) out[key] = new Set(cats);
  }
  return out;
}
