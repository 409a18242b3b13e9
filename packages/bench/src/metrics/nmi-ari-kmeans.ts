import { encodeCategorical, type Categorical } from '../internal/categories';
import { adjustedRandIndex, normalizedMutualInfo } from './clustering-scores';
import { kmeans } from '../internal/kmeans';
import { checkMatrix, type Embedding } from '../internal/matrix';

/**
 * scib-metrics `nmi_ari_cluster_labels_kmeans`: k-means (k = number of distinct labels, k-means++,
 * one run, seeded; see {@link kmeans}) on the embedding, then NMI (arithmetic normalisation) and ARI
 * between the clusters and the labels. Reported by the Benchmarker as "KMeans NMI" and "KMeans ARI".
 */
export function nmiAriClusterLabelsKmeans(x: Embedding, labels: Categorical, options: { seed?: number } = {}): { nmi: number; ari: number } {
  checkMatrix(x, 'embedding');
  const enc = encodeCategorical(labels, 'labels', x.nRows);
  const km = kmeans(x, enc.counts.length, { seed: options.seed ?? 0 });
  return { nmi: normalizedMutualInfo(enc.codes, km.labels), ari: adjustedRandIndex(enc.codes, km.labels) };
}
