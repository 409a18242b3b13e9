import type { CovariateSpec } from '../covariates/composite';
import { priorCovariates, type PriorRole } from '../prior/registry';
import type { PriorRef } from '../module/build';

/**
 * The covariate spec of a latent block: the covariates its prior plugin declares (e.g. `disease`,
 * `treatment`), if any, plus the user's categorical and continuous keys (keys the prior already
 * encodes are not added twice). Without a declaring prior, just the user's spec.
 */
export function blockCovariates(role: PriorRole, user: CovariateSpec | undefined, prior: PriorRef | null | undefined): CovariateSpec {
  const declared = prior ? priorCovariates(prior, role) : undefined;
  const spec = user ?? {};
  if (!declared) return spec;
  const taken = new Set([
    ...(declared.categorical ?? []),
    ...(declared.continuous ?? []),
    ...(declared.ordinal ?? []).map((o) => (typeof o === 'string' ? o : o.key)),
    ...(declared.dose ?? []).map((d) => d.key),
  ]);
  return {
    ...spec,
    ...declared,
    categorical: [...(declared.categorical ?? []), ...(spec.categorical ?? []).filter((k) => !taken.has(k))],
    continuous: [...(declared.continuous ?? []), ...(spec.continuous ?? []).filter((k) => !taken.has(k))],
  };
}
